#!/usr/bin/env python3
"""The one version: VERSION (MAJOR.MINOR.PATCH) at the repository root is the only committed
file that holds it. Everything else is generated from it or checked against it.

  version.py header OUT_H            write spikevault_version.h (the header's SV_VERSION_* macros)
  version.py changelog IN OUT        write debian/changelog from its template (@VERSION@)
  version.py check STAGE LIBRARY     check that every place agrees: the built library, the
                                     generated header, the Python package, the installed .pc and
                                     CMake version file under STAGE (a `make install DESTDIR=`
                                     tree, PREFIX=/usr), debian/changelog, and (in a git checkout)
                                     that no other committed file spells the version
"""
import ctypes
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_version(path=os.path.join(ROOT, "VERSION")):
    text = open(path, encoding="utf-8").read().strip()
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        sys.exit(f"version: {path} must hold MAJOR.MINOR.PATCH, found {text!r}")
    return text, [int(x) for x in match.groups()]


def header_text():
    text, (major, minor, patch) = read_version()
    return "\n".join([
        "/* spikevault_version.h - the version of libspikevault these headers describe.",
        " * GENERATED from the VERSION file by scripts/version.py: do not edit. Compare",
        " * SV_VERSION_NUMBER with sv_version_number() to detect a header/library mismatch. */",
        "#ifndef SPIKEVAULT_VERSION_H",
        "#define SPIKEVAULT_VERSION_H",
        f"#define SV_VERSION_MAJOR {major}",
        f"#define SV_VERSION_MINOR {minor}",
        f"#define SV_VERSION_PATCH {patch}",
        "#define SV_VERSION_NUMBER (SV_VERSION_MAJOR * 10000 + SV_VERSION_MINOR * 100 + SV_VERSION_PATCH)",
        f'#define SV_VERSION_STRING "{text}"',
        "#endif",
        "",
    ])


def write_if_changed(path, text):
    """Rewrite only on change, so make does not rebuild what depends on an unchanged file."""
    if os.path.exists(path) and open(path, encoding="utf-8").read() == text:
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def check(stage, library):
    version, _ = read_version()
    problems = []

    def agree(what, found):
        if found != version:
            problems.append(f"{what} says {found!r}, VERSION says {version!r}")

    runtime = ctypes.CDLL(library).sv_version_string
    runtime.restype = ctypes.c_char_p
    agree(f"{library} (sv_version_string)", runtime().decode())
    generated = os.path.join(ROOT, "include", "spikevault_version.h")
    if open(generated, encoding="utf-8").read() != header_text():
        problems.append(f"{generated} is stale (make regenerates it)")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"))
    env.pop("SPIKEVAULT_LIBRARY", None)
    py = subprocess.run([sys.executable, "-c", "import spikevault; print(spikevault.__version__)"],
                        env=env, capture_output=True, text=True, check=True).stdout.strip()
    agree("the Python package (spikevault.__version__)", py)
    pc = open(os.path.join(stage, "usr/lib/pkgconfig/spikevault.pc"), encoding="utf-8").read()
    agree("spikevault.pc", re.search(r"^Version: (\S+)$", pc, re.M).group(1))
    cmake = open(os.path.join(stage, "usr/lib/cmake/SpikeVault/SpikeVaultConfigVersion.cmake"), encoding="utf-8").read()
    agree("SpikeVaultConfigVersion.cmake", re.search(r'set\(PACKAGE_VERSION "([^"]+)"\)', cmake).group(1))
    changelog = os.path.join(ROOT, "debian", "changelog")
    first = open(changelog, encoding="utf-8").readline()
    agree("debian/changelog", re.match(r"spikevault \(([^)-]+)-[^)]+\)", first).group(1))
    if os.path.isdir(os.path.join(ROOT, ".git")) or os.path.isfile(os.path.join(ROOT, ".git")):
        files = subprocess.run(["git", "grep", "-lwF", version], cwd=ROOT, capture_output=True, text=True).stdout.split()
        if files != ["VERSION"]:
            problems.append(f"committed files spelling {version}: {files} (only VERSION may)")
    for p in problems:
        print(f"version: {p}")
    if problems:
        return 1
    print(f"version: {version} everywhere (library, header, Python, .pc, CMake, debian/changelog), written only in VERSION")
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "header":
        write_if_changed(argv[1], header_text())
    elif len(argv) == 3 and argv[0] == "changelog":
        version, _ = read_version()
        write_if_changed(argv[2], open(argv[1], encoding="utf-8").read().replace("@VERSION@", version))
    elif len(argv) == 3 and argv[0] == "check":
        return check(*argv[1:])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
