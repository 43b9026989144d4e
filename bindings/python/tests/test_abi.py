"""The ctypes declarations against the C header, and finding the library."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import batchudp
from batchudp import _lib

from conftest import source_dir

HEADER = source_dir() / "include" / "batchudp.h"

STRUCTS = {
    "budp_addr": _lib.budp_addr,
    "budp_datagram": _lib.budp_datagram,
    "budp_stats": _lib.budp_stats,
}

CONSTANTS = [
    name for name in dir(_lib) if name.startswith("BUDP_") and isinstance(getattr(_lib, name), int)
]


def header_text() -> str:
    if not HEADER.exists():
        pytest.skip("header not found at %s (set BATCHUDP_SOURCE_DIR)" % HEADER)
    return HEADER.read_text()


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """name -> value printed by a C program compiled from the header."""
    header_text()
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        pytest.skip("no C compiler (%s) to check the layout against" % cc)
    lines = []
    for sname, cls in STRUCTS.items():
        lines.append('printf("sizeof %s %%zu\\n", sizeof(%s));' % (sname, sname))
        for field, _ in cls._fields_:
            lines.append(
                'printf("offsetof %s.%s %%zu\\n", offsetof(%s, %s));' % (sname, field, sname, field)
            )
            lines.append(
                'printf("fieldsize %s.%s %%zu\\n", sizeof(((%s *)0)->%s));'
                % (sname, field, sname, field)
            )
    for name in CONSTANTS:
        lines.append('printf("const %s %%lld\\n", (long long)(%s));' % (name, name))
    src = (
        "#include <stdio.h>\n#include <stddef.h>\n#include \"batchudp.h\"\n"
        "int main(void) {\n    %s\n    return 0;\n}\n" % "\n    ".join(lines)
    )
    tmp = tmp_path_factory.mktemp("abi")
    (tmp / "layout.c").write_text(src)
    exe = tmp / "layout"
    res = subprocess.run(
        [cc, "-std=c11", "-I", str(HEADER.parent), "-o", str(exe), str(tmp / "layout.c")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        kind, name, value = line.split()
        values[(kind, name)] = int(value)
    return values


@pytest.mark.parametrize("sname", sorted(STRUCTS))
def test_struct_layout_matches_c(c_layout: dict, sname: str) -> None:
    cls = STRUCTS[sname]
    assert ctypes.sizeof(cls) == c_layout[("sizeof", sname)]
    for field, ftype in cls._fields_:
        key = "%s.%s" % (sname, field)
        assert getattr(cls, field).offset == c_layout[("offsetof", key)], key
        assert ctypes.sizeof(ftype) == c_layout[("fieldsize", key)], key


def test_struct_fields_are_all_mirrored() -> None:
    text = header_text()
    for sname, cls in STRUCTS.items():
        body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (sname, sname), text, re.S)
        assert body, sname
        body_text = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
        names = re.findall(r"(\w+)\s*(?:\[\d+\])?\s*;", body_text)
        assert names == [f for f, _ in cls._fields_], sname


def test_constants_match_c(c_layout: dict) -> None:
    assert len(CONSTANTS) > 20
    for name in CONSTANTS:
        assert getattr(_lib, name) == c_layout[("const", name)], name


def test_every_function_is_declared() -> None:
    text = header_text()
    names = set(re.findall(r"BUDP_EXPORT\b[^;]*?\b(budp_\w+)\s*\(", text))
    assert names, "no functions found in the header"
    assert names == set(_lib.PROTOTYPES)
    for name, (restype, argtypes) in _lib.PROTOTYPES.items():
        fn = getattr(_lib.LIB, name)
        assert fn.restype is restype, name
        assert fn.argtypes == argtypes, name


def test_argument_counts_match_header() -> None:
    text = re.sub(r"/\*.*?\*/", "", header_text(), flags=re.S)
    for m in re.finditer(r"BUDP_EXPORT\b[^;]*?\b(budp_\w+)\s*\(([^)]*)\)", text):
        params = [p for p in m.group(2).split(",") if p.strip() not in ("", "void")]
        assert len(_lib.PROTOTYPES[m.group(1)][1]) == len(params), m.group(1)


def test_major_version() -> None:
    major, minor, patch = batchudp.library_version()
    assert major == _lib.ABI_MAJOR == 0
    assert batchudp.library_version_string() == "%d.%d.%d" % (major, minor, patch)


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )


def clean_env() -> dict:
    env = dict(os.environ)
    env.pop("BATCHUDP_LIBRARY", None)
    return env


def test_import_error_names_the_env_path(tmp_path: Path) -> None:
    env = clean_env()
    env["BATCHUDP_LIBRARY"] = str(tmp_path / "missing" / "libbatchudp.so.0")
    res = run_python("import batchudp", env)
    assert res.returncode != 0
    assert "ImportError" in res.stderr
    assert str(tmp_path / "missing") in res.stderr


def test_import_error_names_everything_tried(tmp_path: Path) -> None:
    env = clean_env()
    env["PKG_CONFIG_PATH"] = str(tmp_path)
    env["PKG_CONFIG_LIBDIR"] = str(tmp_path)
    env["LD_LIBRARY_PATH"] = ""
    res = run_python("import batchudp", env)
    if res.returncode == 0:
        pytest.skip("libbatchudp is installed system-wide: find_library finds it")
    assert "ImportError" in res.stderr
    assert "BATCHUDP_LIBRARY" in res.stderr
    assert "pkg-config" in res.stderr
    assert "find_library" in res.stderr


def test_found_through_pkg_config(tmp_path: Path) -> None:
    lib = Path(batchudp.library_path)
    pcdir = lib.parent.parent  # BUILDDIR/lib holds batchudp-uninstalled.pc
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed")
    if not (pcdir / "batchudp-uninstalled.pc").exists():
        pytest.skip("the library was not loaded from a build tree")
    env = clean_env()
    env["PKG_CONFIG_PATH"] = str(pcdir)
    res = run_python("import batchudp; print(batchudp.library_path)", env)
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()).parent.resolve() == lib.parent.resolve()


def test_python_m_batchudp() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "batchudp"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "library version: %s" % batchudp.library_version_string() in res.stdout
    assert batchudp.library_path in res.stdout
    assert re.search(r"default backend: (mmsg|msgx|loop)$", res.stdout, re.M)


def test_other_major_version_is_refused(tmp_path: Path) -> None:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        pytest.skip("no C compiler (%s) to build a stand-in library" % cc)
    stubs = ["int %s(void) { return 0; }" % n for n in _lib.PROTOTYPES if n != "budp_version"]
    src = tmp_path / "fake.c"
    src.write_text("unsigned budp_version(void) { return 1u << 16; }\n" + "\n".join(stubs) + "\n")
    lib = tmp_path / "libbatchudp.so.0"
    res = subprocess.run(
        [cc, "-shared", "-fPIC", "-o", str(lib), str(src)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    env = clean_env()
    env["BATCHUDP_LIBRARY"] = str(lib)
    res = run_python("import batchudp", env)
    assert res.returncode != 0
    assert "version 1.0.0, this binding needs 0.x" in res.stderr
