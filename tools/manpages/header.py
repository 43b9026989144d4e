"""The public interface of include/batchudp.h, read from the header itself.

The header's comments are the library's documentation, so the manual pages
are made from it rather than written beside it.  This module turns the
header into a list of declarations, each with the comment that documents
it; it fails on anything it does not recognise, so that a new kind of
declaration cannot silently go without a page."""
import bisect
import re


class HeaderError(Exception):
    pass


class Decl:
    """One public declaration (a function, a type, or a group of constants).

    kind     "function", "type" or "constants"
    name     the function's or type's name; for constants, the first one
    names    every name it declares (the constants of a group)
    code     its text as the header has it, comments removed
    doc      the lines of its documentation comment, "*" margins removed
    members  (name, comment) of each struct field, enumerator or #define
    section  the title of the header section it is in"""

    def __init__(self, kind, name, code, doc, line, names=None, members=()):
        self.kind, self.name, self.code, self.doc = kind, name, code, doc
        self.line = line
        self.section = ""
        self.names = names or [name]
        self.members = list(members)


class Header:
    """overview: lines of the file's first comment; decls: in header order;
    notes: (section, lines) of comments that document no single declaration;
    version: "major.minor.patch" from the BUDP_VERSION_* macros."""

    def __init__(self, overview, decls, notes, version):
        self.overview, self.decls, self.notes = overview, decls, notes
        self.version = version


class Comment:
    def __init__(self, line, col, end, text):
        self.line, self.col, self.end, self.text = line, col, end, text
        self.used = False


def _lex(text):
    """Split the header into code lines (comments blanked out, so columns
    keep their meaning) and the comments with the line and column they
    start at."""
    lines = text.split("\n")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)

    def where(offset):
        line = bisect.bisect_right(starts, offset) - 1
        return line, offset - starts[line]

    comments = []
    blanked = list(text)
    for m in re.finditer(r"/\*.*?\*/", text, re.S):
        line, col = where(m.start())
        end, _ = where(m.end() - 1)
        comments.append(Comment(line, col, end, m.group(0)))
        for i in range(m.start(), m.end()):
            if blanked[i] != "\n":
                blanked[i] = " "
    return "".join(blanked).split("\n"), comments


def comment_lines(raw):
    """The text of a /* */ comment as lines: the delimiters and the " * "
    margin removed, the indentation after the margin kept (it marks lists,
    tables and code in the comments)."""
    body = raw[2:-2]
    out = []
    for i, ln in enumerate(body.split("\n")):
        if i == 0:
            ln = ln[1:] if ln.startswith(" ") else ln
        else:
            m = re.match(r"\s*\* ?(.*)$", ln)
            ln = m.group(1) if m else ln.strip()
        out.append(ln.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def _prose(raw):
    """A member's comment as prose: its lines, without their layout (which
    means nothing), still ending where they end (a sentence may end there)."""
    return "\n".join(ln.strip() for ln in comment_lines(raw) if ln.strip())


def _indent(s):
    return len(s) - len(s.lstrip())


def _is_banner(c):
    return re.fullmatch(r"/\*\s*-+\s*\*/", c.text) is not None


def _attach_members(code, comments, first, last, member_re):
    """The members declared on lines first..last and their comments.  A
    comment that starts on a member's line, or that stands on a line of its
    own indented deeper than the code above it, continues that member's
    comment; any other comment on a line of its own documents the member
    that follows."""
    members = []
    line_member = {}
    for ln in range(first, last + 1):
        m = member_re.search(code[ln])
        if m:
            line_member[ln] = len(members)
            members.append([m.group(1), []])
    pending = []
    for c in comments:
        if not first <= c.line <= last:
            continue
        c.used = True
        if c.line in line_member:
            members[line_member[c.line]][1].append(_prose(c.text))
            continue
        above = [ln for ln in range(first, c.line) if code[ln].strip()]
        prev = above[-1] if above else None
        if prev in line_member and c.col > _indent(code[prev]):
            members[line_member[prev]][1].append(_prose(c.text))
        else:
            nxt = [ln for ln in range(c.line + 1, last + 1) if ln in line_member]
            if not nxt:
                raise HeaderError("comment on line %d documents no member" % (c.line + 1))
            pending.append((nxt[0], _prose(c.text)))
    for ln, text in pending:
        members[line_member[ln]][1].insert(0, text)
    return [(name, "\n".join(parts)) for name, parts in members]


def _code_text(code, first, last):
    lines = [code[ln].rstrip() for ln in range(first, last + 1)]
    return "\n".join(ln for ln in lines if ln.strip())


def _function(text, code):
    m = re.match(r"BUDP_EXPORT\s+[^;]*?\b(budp_\w+)\s*\(", text)
    if not m:
        raise HeaderError("unrecognised exported declaration: %s" % text)
    # The prototype as a reader writes it: without the export macro, its
    # continuation lines still aligned under the opening parenthesis.
    width = len("BUDP_EXPORT ")
    lines = code.split("\n")
    lines = [lines[0][width:]] + [ln[width:] if ln[:width].isspace() else ln
                                 for ln in lines[1:]]
    return m.group(1), "\n".join(lines)


def parse(text):
    code, comments = _lex(text)
    if not comments or comments[0].line != 0:
        raise HeaderError("the header does not open with its overview comment")
    comments[0].used = True
    overview = comment_lines(comments[0].text)
    by_end = {c.end: c for c in comments}
    # Lines that hold nothing but the rest of a comment begun above, or a
    # comment indented as the continuation of the code above.
    continued = set()
    for c in comments:
        continued.update(range(c.line + 1, c.end + 1))
        if c.col > 0 and not code[c.line].strip():
            continued.update(range(c.line, c.end + 1))

    def doc_before(line):
        """The comment that ends right above line, on lines of its own."""
        c = by_end.get(line - 1)
        if c is None or code[c.line].strip() or _is_banner(c):
            return []
        c.used = True
        return comment_lines(c.text)

    decls = []
    skip_depth = 0     # inside #if blocks other than the include guard
    depth = 0
    ln = 0
    while ln < len(code):
        s = code[ln].strip()
        if not s:
            ln += 1
            continue
        if s.startswith("#"):
            directive = re.match(r"#\s*(\w+)", s).group(1)
            if directive in ("if", "ifdef", "ifndef"):
                depth += 1
                if s != "#ifndef BATCHUDP_H" and skip_depth == 0:
                    skip_depth = depth
            elif directive == "endif":
                if skip_depth == depth:
                    skip_depth = 0
                depth -= 1
            elif directive == "define" and not skip_depth and s != "#define BATCHUDP_H":
                if not s.startswith("#define BUDP_"):
                    raise HeaderError("public macro outside BUDP_: line %d" % (ln + 1))
                # Adjacent #defines are one group, with the comments that
                # continue them on lines of their own.
                first = ln
                while ln + 1 < len(code) and (code[ln + 1].lstrip().startswith("#define BUDP_")
                                              or code[ln].rstrip().endswith("\\")
                                              or ln + 1 in continued):
                    ln += 1
                decls.append(_define_group(code, comments, first, ln, doc_before(first)))
            ln += 1
            continue
        if skip_depth:
            ln += 1
            continue
        # A C declaration runs to the ";" that closes it at brace depth 0.
        first = ln
        braces = 0
        while True:
            braces += code[ln].count("{") - code[ln].count("}")
            if braces == 0 and code[ln].rstrip().endswith(";"):
                break
            ln += 1
            if ln == len(code):
                raise HeaderError("unterminated declaration from line %d" % (first + 1))
        decls.append(_declaration(code, comments, first, ln, doc_before(first)))
        ln += 1

    # Every standalone comment that no declaration took and that is no
    # section title is a note on its section.
    titles = [(c.line, comment_lines(c.text)[0].strip())
              for i, c in enumerate(comments) if _is_title(comments, i)]
    notes = []
    for i, c in enumerate(comments):
        if c.used or _is_banner(c) or _is_title(comments, i):
            continue
        if code[c.line].strip():
            if not code[c.line].lstrip().startswith("#"):
                raise HeaderError("comment on line %d documents nothing" % (c.line + 1))
            continue
        notes.append((_section_at(titles, c.line), comment_lines(c.text)))
    for d in decls:
        d.section = _section_at(titles, d.line)

    version = ".".join(re.search(r"#define BUDP_VERSION_%s\s+(\d+)" % part, text).group(1)
                       for part in ("MAJOR", "MINOR", "PATCH"))
    return Header(overview, decls, notes, version)


def _is_title(comments, i):
    """A section title: a comment between two banners, on adjacent lines."""
    if not 0 < i < len(comments) - 1 or _is_banner(comments[i]):
        return False
    before, c, after = comments[i - 1], comments[i], comments[i + 1]
    return (_is_banner(before) and _is_banner(after)
            and before.end + 1 == c.line and c.end + 1 == after.line)


def _section_at(titles, line):
    """The title of the last section that starts above line."""
    return ([t for at, t in titles if at < line] or [""])[-1]


def _define_group(code, comments, first, last, doc):
    members = _attach_members(code, comments, first, last, re.compile(r"^#define\s+(BUDP_\w+)"))
    # A definition continued over lines is one line, as the compiler reads it.
    text = re.sub(r"\s*\\\n\s*", " ", _code_text(code, first, last))
    names = [m[0] for m in members]
    return Decl("constants", names[0], text, doc, first, names, members)


def _declaration(code, comments, first, last, doc):
    text = " ".join(code[ln].strip() for ln in range(first, last + 1))
    body = _code_text(code, first, last)
    if text.startswith("BUDP_EXPORT"):
        name, proto = _function(text, body)
        return Decl("function", name, proto, doc, first)
    if re.match(r"typedef struct \w+ \{", text):
        name = re.search(r"\}\s*(\w+)\s*;$", text).group(1)
        members = _attach_members(code, comments, first + 1, last - 1,
                                  re.compile(r"(\w+)(?:\[\w+\])?;"))
        return Decl("type", name, body, doc, first, members=members)
    if re.fullmatch(r"typedef struct (\w+) \1;", text):
        return Decl("type", text.split()[2], body, doc, first)
    if re.match(r"typedef [^;]*\(\*(\w+)\)", text):
        name = re.match(r"typedef [^;]*\(\*(\w+)\)", text).group(1)
        return Decl("type", name, body, doc, first)
    if text.startswith("enum {"):
        members = _attach_members(code, comments, first + 1, last - 1,
                                  re.compile(r"^\s*(BUDP_\w+)\s*="))
        names = [m[0] for m in members]
        return Decl("constants", names[0], body, doc, first, names, members)
    raise HeaderError("unrecognised declaration on line %d: %s" % (first + 1, text))
