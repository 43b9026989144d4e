"""Which library `import batchudp` loads: BATCHUDP_LIBRARY, then the one
carried in the package, then the system's.

Each test imports a copy of the package under test, with or without a
library beside it, in a fresh interpreter (tests/import_probe.py), so what
the import does is seen from its start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import batchudp
from batchudp import _lib

from conftest import fake_library

PROBE = Path(__file__).with_name("import_probe.py")
BUILT = Path(batchudp.library_path)  # the library this suite runs against


def package_copy(root: Path, library: Optional[Path]) -> Path:
    """A copy of the batchudp package in root, carrying library (if any)
    under the bundled name.  Returns the copy's package directory."""
    pkg = root / "batchudp"
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.dylib")
    shutil.copytree(str(Path(batchudp.__file__).parent), str(pkg), ignore=ignore)
    if library is not None:
        shutil.copy(str(library), str(pkg / _lib.BUNDLED_NAME))
    return pkg


def system_pkg_config(tmp_path: Path) -> Dict[str, str]:
    """Environment under which pkg-config finds BUILT, and only it."""
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed")
    if not (BUILT.parent / _lib._library_names()[0]).exists():
        pytest.skip("%s is not named as an installed library" % BUILT)
    pcdir = tmp_path / "pkgconfig"
    pcdir.mkdir()
    (pcdir / "batchudp.pc").write_text(
        "libdir=%s\n\nName: batchudp\nDescription: test\nVersion: 0.2.0\n"
        "Libs: -L${libdir} -lbatchudp\n" % BUILT.parent
    )
    return {"PKG_CONFIG_PATH": str(pcdir), "PKG_CONFIG_LIBDIR": str(pcdir)}


def probe(root: Path, extra_env: Dict[str, str], *args: str) -> Dict[str, Any]:
    """Run the probe importing the package in root; its facts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHUDP_", "PKG_CONFIG"))}
    env["PYTHONPATH"] = str(root)
    env.update(extra_env)
    res = subprocess.run(
        [sys.executable, str(PROBE)] + list(args),
        capture_output=True, text=True, env=env, cwd=str(root), timeout=60,
    )
    assert res.returncode == 0, res.stderr
    facts: Dict[str, Any] = json.loads(res.stdout)
    if facts["asyncio_preloaded"]:
        pytest.skip("asyncio is imported before batchudp in this environment")
    return facts


def library_opens(facts: Dict[str, Any]) -> List[str]:
    return [os.path.realpath(p) for p in facts["dlopened"]]


def test_bundled_library_is_loaded_without_a_process(tmp_path: Path) -> None:
    pkg = package_copy(tmp_path, BUILT)
    # pkg-config would find a library too: the bundled one comes first.
    facts = probe(tmp_path, system_pkg_config(tmp_path), "--roundtrip")
    bundled = str(pkg / _lib.BUNDLED_NAME)
    assert facts["library_path"] == bundled
    assert facts["mapped"] is not False
    assert library_opens(facts) == [os.path.realpath(bundled)]
    assert facts["spawned"] == []
    assert facts["asyncio_imported"] is False
    assert facts["roundtrip"] is True


def test_environment_variable_wins_over_bundled(tmp_path: Path) -> None:
    package_copy(tmp_path, BUILT)
    facts = probe(tmp_path, {"BATCHUDP_LIBRARY": str(BUILT)})
    assert facts["library_path"] == str(BUILT)
    assert library_opens(facts) == [os.path.realpath(BUILT)]


def test_without_bundled_library_the_system_one_is_used(tmp_path: Path) -> None:
    package_copy(tmp_path, None)
    facts = probe(tmp_path, system_pkg_config(tmp_path))
    assert Path(facts["library_path"]).parent == BUILT.parent
    # Asking pkg-config is what starts a process, and only now.
    assert any("subprocess.Popen" in s for s in facts["spawned"])


def test_unusable_bundled_library_falls_back_to_the_system(tmp_path: Path) -> None:
    stand_in = fake_library(tmp_path, (0 << 16) | (3 << 8))  # 0.3.0: refused
    package_copy(tmp_path, stand_in)
    facts = probe(tmp_path, system_pkg_config(tmp_path))
    assert Path(facts["library_path"]).parent == BUILT.parent


def test_unusable_bundled_library_is_named_in_the_error(tmp_path: Path) -> None:
    stand_in = fake_library(tmp_path, (0 << 16) | (3 << 8))
    pkg = package_copy(tmp_path, stand_in)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHUDP_")}
    env.update(PYTHONPATH=str(tmp_path), PKG_CONFIG_PATH=str(tmp_path),
               PKG_CONFIG_LIBDIR=str(tmp_path), LD_LIBRARY_PATH="")
    res = subprocess.run(
        [sys.executable, "-c", "import batchudp"],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60,
    )
    if res.returncode == 0:
        pytest.skip("libbatchudp is installed system-wide: find_library finds it")
    assert "%s (in the package): version 0.3.0" % (pkg / _lib.BUNDLED_NAME) in res.stderr


def test_stats_is_loaded_on_first_use(tmp_path: Path) -> None:
    package_copy(tmp_path, BUILT)
    code = (
        "import sys, batchudp\n"
        "assert 'batchudp._stats' not in sys.modules\n"
        "assert 'Stats' in dir(batchudp)\n"
        "from batchudp import *\n"
        "assert Stats is batchudp.Stats and Stats.__name__ == 'Stats'\n"
        "with Socket.bind('127.0.0.1', 0) as s:\n"
        "    assert isinstance(s.stats(), Stats)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHUDP_")}
    env["PYTHONPATH"] = str(tmp_path)
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
