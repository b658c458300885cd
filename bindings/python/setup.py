"""What pyproject.toml cannot say statically:

- the version, read from the repository's VERSION file (the only file that spells it; a
  staged copy beside this file wins, as `make wheel` and an sdist provide) and packaged as
  spikevault/VERSION, which spikevault/_version.py reads;
- an out-of-tree build: build/ and *.egg-info go to a temporary directory removed on exit,
  so `pip install ./bindings/python` leaves the source tree as it was;
- for wheels that bundle libspikevault (`make wheel`): when a ``libspikevault.so*`` sits in
  the package directory the wheel is tagged for this platform (``py3-none-<platform>``: the
  library is loaded with ctypes, so any Python 3 ABI works).
"""

import atexit
import glob
import os
import shutil
import tempfile

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = glob.glob(os.path.join(HERE, "spikevault", "libspikevault.so*"))


def version_file() -> str:
    for candidate in (os.path.join(HERE, "VERSION"), os.path.join(HERE, "..", "..", "VERSION")):
        if os.path.isfile(candidate):
            return candidate
    raise SystemExit("spikevault: no VERSION file (build from the SpikeVault repository or its sdist)")


VERSION_FILE = version_file()
with open(VERSION_FILE, encoding="ascii") as f:
    VERSION = f.read().strip()


class BuildPy(build_py):
    """Packages VERSION as spikevault/VERSION."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "spikevault", "VERSION")
        self.mkpath(os.path.dirname(target))
        self.copy_file(VERSION_FILE, target)


class Sdist(sdist):
    """An sdist carries VERSION beside setup.py, so it builds away from the repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        self.copy_file(VERSION_FILE, os.path.join(base_dir, "VERSION"))


cmdclass = {"build_py": BuildPy, "sdist": Sdist}
if BUNDLED:
    try:
        from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
    except ImportError:  # older setuptools: the wheel package's command
        from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    cmdclass["bdist_wheel"] = PlatformWheel

    class BinaryDistribution(Distribution):
        """A library inside makes the files platlib (newer setuptools would put them in
        ``.data/purelib``, which auditwheel refuses)."""

        def has_ext_modules(self):
            return True

# Defaults only: a packager's explicit --build-base / --egg-base (pybuild's) still wins.
SCRATCH = tempfile.mkdtemp(prefix="spikevault-build-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
# The man page (generated from the CLI's parser by scripts/gen_man.py) goes where man finds it
# beside the console script: <prefix>/share/man/man1 (a venv's too).
DATA_FILES = [("share/man/man1", ["spikevault/cli/data/spikevault.1"])]
setup(
    version=VERSION,
    cmdclass=cmdclass,
    data_files=DATA_FILES,
    distclass=BinaryDistribution if BUNDLED else Distribution,
    options={"build": {"build_base": os.path.join(SCRATCH, "build")}, "egg_info": {"egg_base": SCRATCH}},
)
