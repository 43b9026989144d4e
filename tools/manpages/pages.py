"""The manual pages of libbatchudp, made from the parsed header.

One page per exported function and per public type, an overview page
batchudp(3) (libbatchudp(3) an alias of it), and for every constant an
alias of the page that documents it.  Constants are documented on the page
of what they belong to: PAGE_OF_CONSTANTS says which, and a constant it
does not place is an error rather than a constant without a page."""
import re

from . import doc, roff

OVERVIEW = "batchudp"
OVERVIEW_ALIASES = ("libbatchudp",)

# The first constant of a group, by prefix -> the page that documents it.
PAGE_OF_CONSTANTS = (
    ("BUDP_VERSION", "budp_version"),
    ("BUDP_AF_", "budp_addr"),
    ("BUDP_DGRAM_", "budp_datagram"),
    ("BUDP_OPT_", "budp_options"),
    ("BUDP_MEMORY_LIMIT", "budp_options"),
    ("BUDP_ZEROCOPY_MIN_BYTES", "budp_options"),
    ("BUDP_APPLE_SEND_BUFFER", "budp_bind"),
    ("BUDP_BACKEND_", "budp_options"),
    ("BUDP_OVERFLOW_", "budp_options"),
    ("BUDP_CALLBACK_", "budp_recv_fn"),
    ("BUDP_PACING_", "budp_options"),
    ("BUDP_ERROR_ORIGIN_", "budp_error_event"),
    ("BUDP_ERROR_QUEUE_EVENTS", "budp_recv_errors"),
    ("BUDP_STEER_", "budp_group_bind"),
    ("BUDP_GROUP_MAX_MEMBERS", "budp_group_bind"),
)


class PageError(Exception):
    pass


class Page:
    """A function's or type's page: its declaration, the constant groups it
    documents, and the section notes that name it."""

    def __init__(self, main):
        self.name, self.main = main.name, main
        self.constants = []
        self.notes = []


class Manual:
    def __init__(self, header):
        self.header = header
        self.pages = {d.name: Page(d) for d in header.decls if d.kind in ("function", "type")}
        for p in self.pages.values():
            if not p.main.doc:
                raise PageError("%s has no documentation comment" % p.name)
        for d in header.decls:
            if d.kind == "constants":
                self._page_of(d).constants.append(d)
        for section, lines in header.notes:
            text = " ".join(lines)
            on = [p for p in self.pages.values()
                  if p.main.section == section and re.search(r"\b%s\b" % p.name, text)]
            if not on:
                raise PageError("a note in section %r names no page: %s" % (section, lines[0]))
            for p in on:
                p.notes.append(lines)
        self.aliases = {a: OVERVIEW for a in OVERVIEW_ALIASES}
        for p in self.pages.values():
            for d in p.constants:
                self.aliases.update((n, p.name) for n in d.names)
        self.writer = roff.Writer(list(self.pages) + list(self.aliases) + [OVERVIEW])

    def _page_of(self, d):
        for prefix, page in PAGE_OF_CONSTANTS:
            if d.name.startswith(prefix):
                if page not in self.pages:
                    raise PageError("%s: no page %s" % (d.name, page))
                return self.pages[page]
        raise PageError("no page documents the constants %s" % ", ".join(d.names))

    def names(self):
        """Every page by name: the overview, the real ones, the aliases."""
        return [OVERVIEW] + sorted(self.pages) + sorted(self.aliases)

    def render(self, name):
        if name == OVERVIEW:
            return self._overview()
        if name in self.pages:
            return self._page(self.pages[name])
        if name in self.aliases:
            return ".so man3/%s.3\n" % self.aliases[name]
        raise PageError("no page named %s" % name)

    # -- the pages --------------------------------------------------------

    def _page(self, p):
        d, w = p.main, self.writer
        description, returns, errors = doc.split(d.doc)
        out = self._head(d.name, doc.lowercase(doc.summary(d.doc)))
        out += self._synopsis([d.code] + [c.code for c in p.constants], d.name)
        if d.kind == "function":
            out += self._library()
        out += [".SH DESCRIPTION"]
        if d.kind == "function":
            # The "Errors" sentences may be cut from the middle of a
            # paragraph, so the description is prose again, not layout.
            for para in description:
                out += [".PP"] + w.prose(para)
        else:
            out += w.blocks(roff.blocks(d.doc))
        if any(text for _, text in d.members):
            out += [".SS Fields"] + self._members(d.members)
        for c in p.constants:
            out += self._constants(c)
        if d.kind == "function":
            out += self._return_value(d, returns)
        if errors:
            out += [".SH ERRORS"]
            for para in errors:
                para = re.sub(r"^Errors: (\w?)", lambda m: m.group(1).upper(), para)
                out += [".PP"] + w.prose(para)
        for note in p.notes:
            out += [".SH NOTES"] + w.blocks(roff.blocks(note))
        out += self._see_also([OVERVIEW] + sorted(self._related(p)))
        return "\n".join(out) + "\n"

    def _constants(self, c):
        """A group of constants under its names; the comment of a group
        without one (the version macros) is its SYNOPSIS."""
        out = []
        if c.doc:
            title = _common_prefix(c.names) + "*" if len(c.names) > 1 else c.name
            out += [".SS " + roff.escape(title)] + self.writer.blocks(roff.blocks(c.doc))
        if any(text for _, text in c.members):
            out += self._members(c.members)
        return out

    def _members(self, members):
        out = []
        for name, text in members:
            out += [".TP", roff.line("\\fB%s\\fR" % roff.escape(name))]
            out += self.writer.prose(text) if text else []
        return out

    def _return_value(self, d, returns):
        out = [".SH RETURN VALUE"]
        if returns:
            out += [".PP"] + [roff.line(self.writer.inline(s)) for s in returns]
        if d.code.startswith("int "):
            # The header's first convention: >= 0 success, < 0 -errno.
            failure = ("a negated errno value (see ERRORS, and"
                       " \\fBbudp_strerror\\fR(3) for its text).")
            out += [".PP", ("On failure, " if returns
                            else "A value \\(>= 0 on success; on failure, ") + failure]
        elif d.code.startswith("void "):
            out += [".PP", "\\fB%s\\fR() returns no value." % d.name]
        elif not returns:
            return []
        return out

    def _related(self, p):
        """The pages that p's text names, and for a type the functions that
        take or give it."""
        d = p.main
        texts = [d.code, "\n".join(d.doc)] + ["\n".join(n) for n in p.notes]
        texts += ["\n".join(t for _, t in d.members)]
        for c in p.constants:
            texts += [c.code, "\n".join(c.doc)] + [t for _, t in c.members]
        found = set()
        for n in re.findall(r"\b(?:budp|BUDP)_\w+\b", "\n".join(texts)):
            page = self.aliases.get(n, n)
            if page in self.pages:
                found.add(page)
        if d.kind == "type":
            found |= {f.name for f in self.header.decls
                      if f.kind == "function" and re.search(r"\b%s\b" % d.name, f.code)}
        found.discard(d.name)
        return found

    def _overview(self):
        h = self.header
        m = re.match(r"\S+ - (.*?)\.?$", h.overview[0])
        if not m:
            raise PageError("the overview comment does not open with 'file - what it is'")
        out = self._head(OVERVIEW, m.group(1))
        out += [".SH SYNOPSIS", ".nf", ".B #include <batchudp.h>", ".fi"]
        out += self._library()
        out += [".SH DESCRIPTION"] + self.writer.blocks(roff.blocks(h.overview[1:]))
        out += [".SH INTERFACE"]
        section = None
        for d in h.decls:
            if d.section != section:
                section = d.section
                out += [".SS " + roff.escape(section)]
            if d.kind in ("function", "type"):
                out += [".TP", "\\fB%s\\fR(3)" % roff.escape(d.name),
                        roff.line(roff.escape(doc.lowercase(doc.summary(d.doc))))]
            else:
                title = _common_prefix(d.names) + "*" if len(d.names) > 1 else d.name
                what = doc.lowercase(doc.summary(d.doc)) + ": " if d.doc else ""
                out += [".TP", "\\fB%s\\fR" % roff.escape(title),
                        roff.line(roff.escape(what) + "see \\fB%s\\fR(3)" % self.aliases[d.name])]
        out += [".SH SEE ALSO", "\\fBudp\\fR(7), \\fBrecvmmsg\\fR(2), \\fBsendmmsg\\fR(2)"]
        return "\n".join(out) + "\n"

    # -- pieces of every page ----------------------------------------------

    def _head(self, name, what):
        return [
            '.\\" Made by tools/gen-man.py from include/batchudp.h:'
            ' edit the header, not this page.',
            '.TH %s 3 "" "libbatchudp %s" "libbatchudp Manual"' % (name, self.header.version),
            ".SH NAME",
            roff.line("%s \\- %s" % (roff.escape(name), roff.escape(what))),
        ]

    def _synopsis(self, code_blocks, name):
        out = [".SH SYNOPSIS", ".nf", ".B #include <batchudp.h>"]
        for code in code_blocks:
            out.append(".PP")
            for ln in code.split("\n"):
                text = re.sub(r"\b%s\b" % name, r"\\fB%s\\fR" % name, roff.escape_code(ln))
                out.append(roff.line(text))
        out.append(".fi")
        return out

    def _library(self):
        return [".SH LIBRARY",
                "libbatchudp (\\fI\\-lbatchudp\\fR; pkg\\-config name \\fIbatchudp\\fR)"]

    def _see_also(self, refs):
        items = ["\\fB%s\\fR(3)" % roff.escape(r) for r in refs]
        return [".SH SEE ALSO"] + [it + ("," if i < len(items) - 1 else "")
                                   for i, it in enumerate(items)]


def _common_prefix(names):
    p = names[0]
    for n in names[1:]:
        while not n.startswith(p):
            p = p[:-1]
    return p
