"""Build the wheel with libbatchudp inside the package.

The metadata is in pyproject.toml; this file only adds the C library.  It is
compiled from the library's sources with the C compiler alone (no configure:
lib/build_config.h gives the platform's facts from the compiler's macros)
and goes into the package as batchudp/libbatchudp.so (.dylib on macOS),
where the loader looks first.  The wheel holds no Python extension, so it
fits every Python 3 of its platform: it is tagged py3-none-<platform>.

Sources: csrc/ when present (an sdist carries a copy there), otherwise the
repository's ../../lib and ../../include.  BUDP_WITH_URING is not defined:
the io_uring backend needs liburing, which the wheel does not link, so
lib/backend_uring.c compiles to nothing and backend="uring" is ENOTSUP.  Environment: CC (default cc),
CFLAGS, LDFLAGS; on macOS, ARCHFLAGS (default: the architectures the wheel
is tagged for).
"""

from __future__ import annotations

import atexit
import glob
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from setuptools import Distribution, setup
from setuptools.command.build import build
from setuptools.command.build_py import build_py
from setuptools.command.egg_info import egg_info
from setuptools.command.sdist import sdist

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70.1 takes it from the wheel package
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:  # making an sdist needs neither
        bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED_NAME = "libbatchudp.dylib" if sys.platform == "darwin" else "libbatchudp.so"


def source_dirs() -> tuple[str, str]:
    """(directory of lib/*.c, directory of batchudp.h)."""
    csrc = os.path.join(HERE, "csrc")
    # An unpacked sdist (it has PKG-INFO) builds from its own copy only,
    # never from whatever lies two directories up.
    if os.path.isdir(csrc) or os.path.exists(os.path.join(HERE, "PKG-INFO")):
        return os.path.join(csrc, "lib"), os.path.join(csrc, "include")
    top = os.path.dirname(os.path.dirname(HERE))
    return os.path.join(top, "lib"), os.path.join(top, "include")


def sdist_sources() -> list[tuple[str, str]]:
    """(source file, path under csrc/) for everything the build reads."""
    libdir, incdir = source_dirs()
    files = [os.path.join(incdir, "batchudp.h"), os.path.join(libdir, "batchudp.map")]
    files += glob.glob(os.path.join(libdir, "*.c")) + glob.glob(os.path.join(libdir, "*.h"))
    return [(f, os.path.join(os.path.basename(os.path.dirname(f)), os.path.basename(f)))
            for f in sorted(files)]


def linker_accepts(cc: list[str], flags: list[str], workdir: str) -> bool:
    """Whether a shared library links with flags (as configure probes)."""
    src = os.path.join(workdir, "probe.c")
    out = os.path.join(workdir, "probe.so")
    with open(src, "w") as f:
        f.write("int budp_probe(void) { return 0; }\n")
    res = subprocess.run(cc + ["-shared", "-fPIC", src, "-o", out] + flags,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return res.returncode == 0


def darwin_archflags() -> list[str]:
    """-arch flags matching the platform the wheel is tagged for."""
    if "ARCHFLAGS" in os.environ:
        return shlex.split(os.environ["ARCHFLAGS"])
    arch = sysconfig.get_platform().rsplit("-", 1)[-1]
    archs = {"universal2": ["x86_64", "arm64"], "intel": ["x86_64"]}.get(arch, [arch])
    return [flag for a in archs for flag in ("-arch", a)]


def build_library(out: str, workdir: str) -> None:
    """Compile and link libbatchudp into out."""
    libdir, incdir = source_dirs()
    sources = sorted(glob.glob(os.path.join(libdir, "*.c")))
    if not sources or not os.path.exists(os.path.join(incdir, "batchudp.h")):
        sys.exit("batchudp: the C sources are not in %s and %s (build from the "
                 "repository's bindings/python or from an sdist)" % (libdir, incdir))
    cc = shlex.split(os.environ.get("CC", "cc"))
    cflags = ["-std=c11", "-O2", "-fPIC", "-fvisibility=hidden", "-pthread",
              "-DBUDP_BUILDING_LIBRARY", "-I" + incdir, "-I" + libdir]
    if sys.platform == "darwin":
        # ld64 takes no version script: -fvisibility=hidden and the header's
        # export attribute leave only the API visible.
        cc += darwin_archflags()
        ldflags = ["-dynamiclib", "-Wl,-install_name,@rpath/" + BUNDLED_NAME]
    else:
        ldflags = ["-shared"]
        script = "-Wl,--version-script=" + os.path.join(libdir, "batchudp.map")
        probe_map = os.path.join(workdir, "probe.map")
        with open(probe_map, "w") as f:
            f.write("{ global: budp_probe; local: *; };\n")
        if linker_accepts(cc, ["-Wl,--version-script=" + probe_map], workdir):
            ldflags.append(script)
    libs = ["-ldl"] if sys.platform.startswith("linux") else []
    cmd = (cc + cflags + shlex.split(os.environ.get("CFLAGS", "")) + sources
           + ["-o", out] + ldflags + shlex.split(os.environ.get("LDFLAGS", "")) + libs)
    print("building %s: %s" % (BUNDLED_NAME, " ".join(shlex.quote(c) for c in cmd)))
    try:
        subprocess.run(cmd, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit("batchudp: building libbatchudp failed (%s); a C compiler is "
                 "needed, named by CC (default cc)" % exc)


_scratch: list[str] = []


def scratch_dir() -> str:
    """A directory outside the source tree for this process's build
    products, removed when it exits (once the wheel has been copied out)."""
    if not _scratch:
        _scratch.append(tempfile.mkdtemp(prefix="batchudp-build-"))
        atexit.register(shutil.rmtree, _scratch[0], True)
    return _scratch[0]


class Build(build):
    """Builds in scratch_dir(): the default build/ would leave a copy of the
    package, the library and the wheel's staging area beside the sources."""

    def finalize_options(self) -> None:
        if self.build_base == "build":
            self.build_base = os.path.join(scratch_dir(), "build")
        super().finalize_options()


class EggInfo(egg_info):
    """The metadata pip asks for goes to scratch_dir() as well, except for an
    sdist, which takes its egg-info from inside the tree."""

    def finalize_options(self) -> None:
        if self.egg_base is None and "sdist" not in self.distribution.commands:
            self.egg_base = scratch_dir()
        super().finalize_options()


class BuildPy(build_py):
    """The Python modules, then the library beside them."""

    def run(self) -> None:
        super().run()
        pkgdir = os.path.join(self.build_lib, "batchudp")
        os.makedirs(pkgdir, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix="batchudp-cc-")
        try:
            build_library(os.path.join(pkgdir, BUNDLED_NAME), workdir)
        finally:
            shutil.rmtree(workdir, True)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, "batchudp", BUNDLED_NAME)]


class Sdist(sdist):
    """Puts the C sources into the archive's csrc/, from which a build of the
    unpacked sdist takes them (never into the source tree itself)."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        for src, rel in sdist_sources():
            dest = os.path.join(base_dir, "csrc", rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(src, dest)


class BinaryDistribution(Distribution):
    """A distribution with platform code: installed into platlib, and its
    wheel is not pure."""

    def has_ext_modules(self) -> bool:
        return True


commands = {"build": Build, "build_py": BuildPy, "egg_info": EggInfo, "sdist": Sdist}

if bdist_wheel is not None:

    class BdistWheel(bdist_wheel):
        """py3-none-<platform>: the library is loaded with ctypes, so the
        wheel depends on the platform but not on the Python ABI."""

        def get_tag(self) -> tuple[str, str, str]:
            return ("py3", "none", super().get_tag()[2])

    commands["bdist_wheel"] = BdistWheel

setup(distclass=BinaryDistribution, cmdclass=commands)
