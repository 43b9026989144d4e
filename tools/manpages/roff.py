"""The header's comment text as man(7) markup.

The comments are plain text laid out by indentation: paragraphs split by
blank lines, " - " items, "name   description" tables (the fields of a
struct), and code indented deeper after a blank line.  Each becomes its
man(7) form; prose is written one sentence per line, as man pages are, so
that troff spaces sentences itself."""
import re


def escape(text):
    """Text as troff prints it literally.  "-" starting a word is a minus
    (an errno value, -1); inside a word it stays a hyphen."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"(?<![\w-])-(?=[\w.])", r"\\-", text)
    return text.replace("'", "\\(aq").replace("`", "\\(ga")


def escape_code(text):
    """Code as troff prints it literally: every "-" is a minus."""
    return text.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq")


def nohyphen(text):
    """Keep troff from hyphenating identifiers (budp_datagram, -ECONNREFUSED):
    \\% at the start of a word forbids breaking it."""
    return re.sub(r"(?<!\S)(?=\S*(?:_|\\-E[A-Z]))", r"\\%", text)


def line(text):
    """A text line that troff cannot take for a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def sentences(text):
    """Split prose at the ends of sentences: a period followed by two
    spaces or by the end of a line, outside parentheses (the header's own
    convention)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "." and depth == 0:
            rest = text[i + 1:i + 3]
            if rest == "  " or rest[:1] == "\n" or i + 1 == len(text):
                out.append(text[start:i + 1])
                start = i + 1
    out.append(text[start:])
    return [re.sub(r"\s+", " ", s).strip() for s in out if s.strip()]


def blocks(lines):
    """The comment's lines as (kind, ...) blocks, in order:
    ("para", text)         prose, its lines joined by newlines
    ("item", text)         a " - " list item
    ("more", text)         a further paragraph of the list item above
    ("field", key, text)   one row of a "name   description" table
    ("code", lines)        code, its common indentation removed"""
    out = []
    cur = None          # the block being filled, a list [kind, ..., text]
    in_item = False
    after_blank = True
    i = 0
    while i < len(lines):
        ln = lines[i]
        ind = len(ln) - len(ln.lstrip())
        field = re.match(r"^ (\S+(?: \S+)*?)\s{2,}(\S.*)$", ln)
        if not ln.strip():
            cur, after_blank = None, True
            i += 1
            continue
        if after_blank and ind >= 6:
            code = []
            while i < len(lines) and lines[i].strip():
                code.append(lines[i])
                i += 1
            cut = min(len(c) - len(c.lstrip()) for c in code)
            out.append(("code", [c[cut:] for c in code]))
            cur = None
            continue
        after_blank_now, after_blank = after_blank, False
        i += 1
        if re.match(r"^ ?- ", ln):
            cur = ["item", ln.strip()[2:]]
            out.append(cur)
            in_item = True
        elif ind == 1 and field and len(field.group(1)) <= 16:
            cur = ["field", field.group(1), field.group(2)]
            out.append(cur)
        elif cur is not None and (ind > 0 or cur[0] == "para"):
            if ind == 0 and cur[0] != "para":
                cur = ["para", ln.strip()]
                out.append(cur)
            else:
                cur[-1] += "\n" + ln.strip()
        elif after_blank_now and in_item and ind > 0:
            cur = ["more", ln.strip()]
            out.append(cur)
        else:
            in_item = in_item and ind > 0
            cur = ["para", ln.strip()]
            out.append(cur)
    return [tuple(b) for b in out]


class Writer:
    """Writes blocks as man(7), marking up the names that have pages."""

    def __init__(self, names):
        self.names = set(names)

    def inline(self, text):
        text = escape(text)

        def bold(m):
            return "\\fB%s\\fR" % m.group(0) if m.group(0) in self.names else m.group(0)
        text = re.sub(r"\b(?:budp|BUDP)_\w+\b", bold, text)
        text = re.sub(r"\\-E[A-Z0-9]+\b", lambda m: "\\fB%s\\fR" % m.group(0), text)
        return nohyphen(text)

    def prose(self, text):
        return [line(self.inline(s)) for s in sentences(text)]

    def blocks(self, bl):
        out = []
        prev = None
        for b in bl:
            kind = b[0]
            if kind == "para":
                out.append(".PP")
                out += self.prose(b[1])
            elif kind == "item":
                out.append(".IP \\(bu 2")
                out += self.prose(b[1])
            elif kind == "more":
                out.append(".IP \"\" 2")
                out += self.prose(b[1])
            elif kind == "field":
                if prev != "field":
                    out.append(".PP")
                out += [".TP", line("\\fI%s\\fR" % escape(b[1]))]
                out += self.prose(b[2])
            elif kind == "code":
                out += [".IP \"\" 2" if prev in ("item", "more") else ".PP", ".RS 4", ".EX"]
                out += [line(escape_code(c)) for c in b[1]]
                out += [".EE", ".RE"]
            prev = "more" if kind == "code" and prev in ("item", "more") else kind
        return out
