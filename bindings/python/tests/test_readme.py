"""Typing and the README: mypy --strict on the package and on every python
block of README.md (each a module of its own), and each block run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

HERE = Path(__file__).resolve().parents[1]
README = HERE / "README.md"


def blocks() -> List[str]:
    """The ```python blocks of the README."""
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.S | re.M)


def write_blocks(tmp_path: Path) -> List[Path]:
    paths = []
    for i, code in enumerate(blocks()):
        path = tmp_path / ("readme_example_%d.py" % (i + 1))
        path.write_text(code)
        paths.append(path)
    return paths


def test_the_readme_has_examples() -> None:
    found = blocks()
    assert len(found) >= 6
    assert any("create_datagram_endpoint" in b and "asyncio.run(" in b for b in found)


def test_mypy_strict_on_the_package_and_the_readme(tmp_path: Path) -> None:
    cache = os.environ.get("BATCHUDP_MYPY_CACHE")
    try:
        import mypy  # noqa: F401
    except ImportError:
        if cache:  # run-tests.sh installed it: its absence is a failure
            raise
        pytest.skip("mypy is not installed (run-tests.sh installs it)")
    examples = write_blocks(tmp_path)
    cmd = [
        sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
        "--cache-dir", cache or str(tmp_path / "mypy-cache"),
        str(HERE / "src" / "batchudp"),
    ] + [str(p) for p in examples]
    env = dict(os.environ, MYPYPATH=str(HERE / "src"))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, "mypy --strict:\n" + res.stdout + res.stderr


@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_example_runs(tmp_path: Path, index: int) -> None:
    path = write_blocks(tmp_path)[index]
    env = dict(os.environ, PYTHONPATH=str(HERE / "src"))
    res = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env=env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    if "create_datagram_endpoint" in path.read_text():
        m = re.search(r"echoed (\d+) datagrams in (\d+) send calls", res.stdout)
        assert m is not None, res.stdout
        assert int(m.group(1)) == 100 and int(m.group(2)) < 10
