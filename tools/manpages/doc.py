"""The parts of a documentation comment that a manual page puts apart:
its summary (the NAME line), its description, what it says a function
returns, and its errors."""
import re

from . import roff


def summary(doc):
    """The first clause of a comment's first sentence, short enough for a
    NAME line: up to its first colon, semicolon, parenthesis or ", which";
    a parenthesis within its first three words is left out instead."""
    first = roff.sentences("\n".join(doc))[0] if doc else ""
    m = re.match(r"((?:\S+ ){1,3}?)\([^()]*\) (.*)", first)
    if m:
        first = m.group(1) + m.group(2)
    return re.split(r" \(|: |; |, which ", first)[0].rstrip(".,")


def lowercase(text):
    """A clause as a NAME line starts it: an ordinary first word in lower
    case, an acronym or identifier as it is."""
    word = text.split(" ")[0]
    if word[:1].isupper() and (len(word) == 1 or word[1:].isalpha() and word[1:].islower()):
        return text[0].lower() + text[1:]
    return text


def split(doc):
    """(description, returns, errors) of a function's comment, each a list
    of paragraphs (sentences joined by two spaces) or of sentences:
      description  the paragraphs up to the sentence that starts "Errors"
      returns      its sentences that start "Returns"
      errors       the sentences from "Errors" to the end
    A "Returns" sentence that ends a paragraph moves out of the description;
    one that more of its paragraph follows stays there too, as what follows
    may lean on it."""
    description, returns, errors = [], [], []
    for p in paragraphs(doc):
        if errors:
            errors.append("  ".join(roff.sentences("\n".join(p))))
            continue
        ss = roff.sentences("\n".join(p))
        at = next((i for i, s in enumerate(ss) if re.match(r"Errors\b", s)), len(ss))
        kept = ss[:at]
        returns += [s for s in kept if s.startswith("Returns ")]
        while kept and kept[-1].startswith("Returns "):
            kept.pop()
        if kept:
            description.append("  ".join(kept))
        if at < len(ss):
            errors.append("  ".join(ss[at:]))
    return description, returns, errors


def paragraphs(doc):
    """The comment's lines, split at blank lines."""
    out, cur = [], []
    for ln in doc:
        if ln.strip():
            cur.append(ln)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out
