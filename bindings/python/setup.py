"""Only for wheels that bundle libspikevault (``make wheel``): when a ``libspikevault.so*``
sits in the package directory the wheel is tagged for this platform (``py3-none-<platform>``:
the library is loaded with ctypes, so any Python 3 ABI works). Everything else is in
pyproject.toml."""

import glob
import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = glob.glob(os.path.join(HERE, "spikevault", "libspikevault.so*"))

cmdclass = {}
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

setup(cmdclass=cmdclass)
