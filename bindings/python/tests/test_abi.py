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

from conftest import fake_library, source_dir

HEADER = source_dir() / "include" / "batchudp.h"

STRUCTS = {
    "budp_addr": _lib.budp_addr,
    "budp_datagram": _lib.budp_datagram,
    "budp_stats": _lib.budp_stats,
    "budp_error_event": _lib.budp_error_event,
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


def test_datagram_layout_on_64_bit() -> None:
    # The 0.2.0 layout, spelled out (the C comparison above skips without a
    # compiler): time_ns was inserted before segment_size, reserved grew.
    d = _lib.budp_datagram
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        pytest.skip("the documented offsets are those of 64-bit platforms")
    assert ctypes.sizeof(d) == 96
    assert (d.peer.offset, d.local.offset) == (16, 40)
    assert d.time_ns.offset == 64 and ctypes.sizeof(ctypes.c_uint64) == 8
    assert d.segment_size.offset == 72
    assert d.ecn.offset == 74
    assert d.reserved.offset == 75 and d.reserved.size == 21


def test_error_event_layout() -> None:
    # Spelled out as the header documents it (64 bytes, the same everywhere).
    e = _lib.budp_error_event
    assert ctypes.sizeof(e) == 64
    assert (e.destination.offset, e.offender.offset) == (0, 24)
    assert (e.error.offset, e.mtu.offset, e.origin.offset) == (48, 52, 56)
    assert (e.icmp_type.offset, e.icmp_code.offset) == (57, 58)
    assert e.reserved.offset == 59 and e.reserved.size == 5
    assert [f for f, _ in _lib.budp_stats._fields_][-2:] == ["error_events", "error_events_dropped"]


def test_path_event_constants() -> None:
    assert _lib.BUDP_DGRAM_HAS_TIME == 0x20
    assert (_lib.BUDP_OPT_TIMESTAMPS, _lib.BUDP_OPT_PACING, _lib.BUDP_OPT_ERRORS) == (13, 14, 15)
    assert (_lib.BUDP_PACING_OFF, _lib.BUDP_PACING_MONOTONIC, _lib.BUDP_PACING_TAI) == (0, 1, 2)
    assert _lib.BUDP_PACING_GRANULARITY_NS == 100000
    assert (
        _lib.BUDP_ERROR_ORIGIN_LOCAL,
        _lib.BUDP_ERROR_ORIGIN_ICMP,
        _lib.BUDP_ERROR_ORIGIN_ICMP6,
    ) == (1, 2, 3)
    assert _lib.BUDP_ERROR_QUEUE_EVENTS == 64


def test_group_constants() -> None:
    assert (_lib.BUDP_OPT_STEERING, _lib.BUDP_OPT_STEER_OFFSET, _lib.BUDP_OPT_STEER_LENGTH) == (
        16,
        17,
        18,
    )
    assert (_lib.BUDP_STEER_HASH, _lib.BUDP_STEER_KEY, _lib.BUDP_STEER_CPU) == (0, 1, 2)
    assert _lib.BUDP_STEER_PAYLOAD_MAX == 65527
    assert _lib.BUDP_GROUP_MAX_MEMBERS == 256
    assert [int(s) for s in batchudp.Steering] == [0, 1, 2]
    # budp_group_socket hands out a budp_socket *, budp_group_dropped a
    # uint64_t: neither may be cut to an int.
    assert _lib.PROTOTYPES["budp_group_socket"][0] is ctypes.c_void_p
    assert _lib.PROTOTYPES["budp_group_dropped"][0] is ctypes.c_uint64


def test_every_option_key_is_a_keyword() -> None:
    # Each BUDP_OPT_* key of the header is mirrored, and an option keyword
    # of Socket.bind / Group.bind sets it.
    from batchudp import _options

    text = re.sub(r"/\*.*?\*/", "", header_text(), flags=re.S)
    keys = dict(re.findall(r"\b(BUDP_OPT_\w+)\s*=\s*(\d+)", text))
    assert len(keys) >= 18
    for name, value in keys.items():
        assert getattr(_lib, name) == int(value), name
    assert sorted(_options.KEYS.values()) == sorted(int(v) for v in keys.values())


def test_every_backend_is_a_name() -> None:
    # Each BUDP_BACKEND_* value of the header is mirrored, and backend=
    # takes it by its lower-case name.
    from batchudp import _options

    text = re.sub(r"/\*.*?\*/", "", header_text(), flags=re.S)
    values = dict(re.findall(r"\bBUDP_BACKEND_(\w+)\s*=\s*(\d+)", text))
    assert set(values) >= {"AUTO", "MMSG", "MSGX", "LOOP", "URING"}
    for name, value in values.items():
        assert getattr(_lib, "BUDP_BACKEND_" + name) == int(value), name
    assert _options.BACKENDS == {name.lower(): int(v) for name, v in values.items()}


def test_uring_constants() -> None:
    assert _lib.BUDP_BACKEND_URING == 4
    assert _lib.BUDP_OPT_ZEROCOPY == 19
    assert _lib.BUDP_ZEROCOPY_MIN_BYTES == 16384


def test_callback_constants() -> None:
    assert (_lib.BUDP_CALLBACK_CONTINUE, _lib.BUDP_CALLBACK_PAUSE) == (0, 1)
    # The callback type answers an int (budp_recv_fn returns a verdict).
    assert _lib.budp_recv_fn._restype_ is ctypes.c_int


def test_send_record_is_a_zeroed_budp_datagram() -> None:
    # The table send() packs: data, len, flags, peer, then zeros for local,
    # time_ns (no pacing) and segment_size, ecn, reserved.
    from batchudp import _addr, _outgoing

    peer = _addr.encode(("127.0.0.1", 9))
    record = _outgoing.SEND_PACK(0x1000, 3, 0, peer)
    assert len(record) == ctypes.sizeof(_lib.budp_datagram)
    d = _lib.budp_datagram.from_buffer_copy(record)
    assert (d.data, d.len, d.flags) == (0x1000, 3, 0)
    assert (d.peer.family, d.peer.port) == (_lib.BUDP_AF_INET, 9)
    assert d.local.family == _lib.BUDP_AF_UNSPEC
    assert (d.time_ns, d.segment_size, d.ecn) == (0, 0, 0)
    assert bytes(d.reserved) == bytes(21)


@pytest.mark.parametrize(
    "field, value, ok",
    [(None, 0, True), ("time_ns", 1, False), ("reserved", 20, False)],
)
def test_library_checks_the_new_send_fields(field, value, ok) -> None:
    # Through the raw mirror: a zeroed datagram goes; a non-zero time_ns
    # (pacing is off by default) or last reserved byte is -EINVAL, which
    # also shows the mirror reaches the end of the 96-byte struct.
    with batchudp.Socket.bind("127.0.0.1", 0) as sock:
        d = _lib.budp_datagram()
        payload = ctypes.create_string_buffer(b"x", 1)
        d.data = ctypes.addressof(payload)
        d.len = 1
        assert _lib.LIB.budp_local_addr(sock._h, ctypes.byref(d.peer)) == 0
        if field == "time_ns":
            d.time_ns = value
        elif field == "reserved":
            d.reserved[value] = 1
        rc = _lib.LIB.budp_send(sock._h, ctypes.byref(d), 1)
        assert rc == (1 if ok else -22)


def test_library_version_is_accepted() -> None:
    major, minor, patch = batchudp.library_version()
    assert (major, minor) == (_lib.ABI_MAJOR, _lib.ABI_MINOR) == (0, 2)
    assert _lib.version_compatible(_lib.LIB.budp_version())
    assert batchudp.library_version_string() == "%d.%d.%d" % (major, minor, patch)


def test_binding_version_follows_the_header() -> None:
    text = header_text()
    major = re.search(r"#define BUDP_VERSION_MAJOR (\d+)", text)
    minor = re.search(r"#define BUDP_VERSION_MINOR (\d+)", text)
    assert major and minor
    assert (_lib.ABI_MAJOR, _lib.ABI_MINOR) == (int(major.group(1)), int(minor.group(1)))
    assert batchudp.__version__.split(".")[:2] == [major.group(1), minor.group(1)]


def v(major: int, minor: int, patch: int = 0) -> int:
    return (major << 16) | (minor << 8) | patch


@pytest.mark.parametrize(
    "loaded, written_for, ok",
    [
        # 0.x: major and minor must both be equal; the patch never matters.
        (v(0, 2, 0), (0, 2), True),
        (v(0, 2, 9), (0, 2), True),
        (v(0, 1, 0), (0, 2), False),
        (v(0, 3, 0), (0, 2), False),
        (v(1, 2, 0), (0, 2), False),
        # from 1.0 on: equal major, minor the binding's or above.
        (v(1, 0, 0), (1, 0), True),
        (v(1, 3, 1), (1, 2), True),
        (v(1, 2, 0), (1, 2), True),
        (v(1, 1, 7), (1, 2), False),
        (v(2, 2, 0), (1, 2), False),
        (v(0, 2, 0), (1, 2), False),
    ],
)
def test_version_rule(loaded: int, written_for: tuple, ok: bool) -> None:
    assert _lib.version_compatible(loaded, *written_for) is ok


def test_version_rule_defaults_to_this_binding() -> None:
    assert _lib.version_compatible(v(0, 2, 3))
    assert not _lib.version_compatible(v(0, 1, 0))
    assert _lib.required_version() == "0.2.x"
    assert _lib.required_version(1, 2) == "1.2.x or a later 1.x"


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
    env["BATCHUDP_LIBRARY"] = str(tmp_path / "missing" / "libbatchudp.so.1")
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


@pytest.mark.parametrize(
    "version, shown",
    [
        (v(1, 0, 0), "1.0.0"),  # another major
        (v(0, 1, 0), "0.1.0"),  # an older 0.x: its ABI differs
        (v(0, 3, 0), "0.3.0"),  # a newer 0.x: so may its ABI
    ],
)
def test_other_versions_are_refused(tmp_path: Path, version: int, shown: str) -> None:
    env = clean_env()
    env["BATCHUDP_LIBRARY"] = str(fake_library(tmp_path, version))
    res = run_python("import batchudp", env)
    assert res.returncode != 0
    # Both versions are named: the library's and the one the binding needs.
    assert "version %s, this binding (written for 0.2) needs 0.2.x" % shown in res.stderr


def test_other_patch_level_is_accepted(tmp_path: Path) -> None:
    env = clean_env()
    env["BATCHUDP_LIBRARY"] = str(fake_library(tmp_path, v(0, 2, 7)))
    res = run_python("import batchudp; print(batchudp.library_version())", env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "(0, 2, 7)"
