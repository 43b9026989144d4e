#!/usr/bin/env python3
"""The manual pages against the interface they document.

What must have a page is read here from lib/batchudp.map and, by plain
patterns, from include/batchudp.h, not from tools/gen-man.py: a generator
that forgot a declaration must fail this test, not agree with it.  Pages are
checked as groff renders them, which is what a reader sees:
 - every exported function, public type and constant has a page among those
   make installs, an alias page (".so") naming a real one for a constant;
 - every real page renders with `groff -man -ww` without a warning, and has
   NAME (starting with its own name), SYNOPSIS, DESCRIPTION and SEE ALSO;
 - the SYNOPSIS of a function's or type's page holds its declaration as the
   header has it (comments out, spacing aside), and the page a constant
   leads to holds the constant's definition;
 - the overview page batchudp(3) names every function and type page.

Usage: check_man.py SRCDIR BUILDDIR PAGE...  (PAGE as man/local.mk lists it).
Prints what failed; exits 1 if anything did."""
import os
import re
import subprocess
import sys

OVERVIEW = "batchudp"
SECTION = re.compile(r"^[A-Z][A-Z ]*$")


def normal(text):
    return re.sub(r"\s+", " ", text).strip()


def interface(srcdir):
    """(functions, types, constants): name -> declaration text."""
    with open(os.path.join(srcdir, "lib", "batchudp.map")) as f:
        exported = re.findall(r"^\s*(budp_\w+)\s*;", f.read(), re.M)
    with open(os.path.join(srcdir, "include", "batchudp.h")) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S).replace("\\\n", " ")

    prototypes = {}
    for decl in re.findall(r"^\s*BUDP_EXPORT\s+([^;]*;)", text, re.M):
        prototypes[re.search(r"(budp_\w+)\s*\(", decl).group(1)] = normal(decl)
    functions = {}
    for name in exported:
        functions[name] = prototypes.get(name)

    types = {}
    patterns = (r"typedef\s+struct\s+\w+\s*\{[^}]*\}\s*(\w+)\s*;",
                r"typedef\s+struct\s+\w+\s+(\w+)\s*;",
                r"typedef[^;{]*\(\s*\*\s*(\w+)\s*\)[^;]*;")
    for p in patterns:
        for m in re.finditer(p, text):
            types[m.group(1)] = normal(m.group(0))
    if len(types) != len(re.findall(r"\btypedef\b", text)):
        raise SystemExit("check_man.py: a typedef of a form this test does not know")

    constants = {}
    for m in re.finditer(r"^\s*#\s*define\s+(BUDP_\w+)([^\n]*)", text, re.M):
        # The export macro marks declarations; callers never use it.
        if m.group(1) != "BUDP_EXPORT":
            constants[m.group(1)] = normal("#define %s %s" % (m.group(1), m.group(2)))
    for body in re.findall(r"\benum\s*\{([^}]*)\}", text):
        for m in re.finditer(r"(BUDP_\w+)\s*=\s*([^,]+)", body):
            constants[m.group(1)] = normal("%s = %s" % (m.group(1), m.group(2)))
    return functions, types, constants


def render(path, *args):
    r = subprocess.run(["groff", "-man"] + list(args) + [os.path.basename(path)],
                       cwd=os.path.dirname(path), capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C"))
    return r.returncode, r.stdout, r.stderr


def sections(rendered):
    out, name = {}, None
    for ln in rendered.split("\n"):
        if SECTION.match(ln):
            name = ln
            out[name] = []
        elif name:
            out[name].append(ln)
    return {k: normal(" ".join(v)) for k, v in out.items()}


class Pages:
    """The pages as make installs them: name -> file, and what each says."""

    def __init__(self, srcdir, builddir, listed):
        self.files, self.problems = {}, []
        self.alias_of, self.text = {}, {}
        for rel in listed:
            name = os.path.basename(rel)[:-2]
            built = os.path.join(builddir, rel)
            self.files[name] = built if os.path.exists(built) else os.path.join(srcdir, rel)
        for name, path in sorted(self.files.items()):
            self._read(name, path)

    def _read(self, name, path):
        if not os.path.exists(path):
            self.problems.append("%s: listed but not built (%s)" % (name, path))
            return
        with open(path) as f:
            content = f.read()
        link = re.fullmatch(r"\.so man3/(\S+)\.3\n", content)
        if link:
            self.alias_of[name] = link.group(1)
            return
        rc, _, err = render(path, "-Tutf8", "-ww", "-z")
        if rc or err.strip():
            self.problems.append("%s: groff -ww: %s" % (name, err.strip() or "exit %d" % rc))
        _, out, _ = render(path, "-Tascii", "-P-c", "-P-b", "-P-u")
        self.text[name] = sections(out)
        for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            if s not in self.text[name]:
                self.problems.append("%s: no %s section" % (name, s))
        if not self.text[name].get("NAME", "").startswith(name + " - "):
            self.problems.append("%s: NAME does not start with \"%s - \"" % (name, name))

    def real(self, name):
        """The page that name's page is or leads to, or None."""
        target = self.alias_of.get(name, name)
        if target in self.alias_of or target not in self.text:
            return None
        return target


def main(srcdir, builddir, listed):
    functions, types, constants = interface(srcdir)
    pages = Pages(srcdir, builddir, listed)
    problems = list(pages.problems)
    for name, target in sorted(pages.alias_of.items()):
        if pages.real(name) is None:
            problems.append("%s: alias of %s, which is no installed page" % (name, target))

    def expect(name, decl, own_page):
        if name not in pages.files:
            problems.append("%s: no page (add man/%s.3 to man/local.mk)" % (name, name))
            return
        page = pages.real(name)
        if page is None:
            return      # reported above: not built, or an alias of no page
        if own_page and page != name:
            problems.append("%s: its page is an alias" % name)
        elif decl is None:
            problems.append("%s: exported but not declared in batchudp.h" % name)
        elif decl not in pages.text[page].get("SYNOPSIS", ""):
            problems.append("%s: SYNOPSIS of %s.3 lacks the header's \"%s\"" % (name, page, decl))

    for name, decl in sorted(functions.items()):
        expect(name, decl, True)
    for name, decl in sorted(types.items()):
        expect(name, decl, True)
    for name, decl in sorted(constants.items()):
        expect(name, decl, False)

    overview = pages.text.get(OVERVIEW)
    if overview is None:
        problems.append("%s: no overview page" % OVERVIEW)
    else:
        text = " ".join(overview.values())
        for name in sorted(list(functions) + list(types)):
            if "%s(3)" % name not in text:
                problems.append("%s: the overview does not name %s(3)" % (OVERVIEW, name))

    for p in problems:
        print("FAIL: " + p)
    print("man pages: %d installed, %d real; %d functions, %d types, %d constants checked"
          % (len(pages.files), len(pages.text), len(functions), len(types), len(constants)))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
