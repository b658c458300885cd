/* The VERSION file ("MAJOR.MINOR.PATCH\n") embedded at compile time. #embed rather than a value
 * passed by Package.swift: the compiler records VERSION as a dependency of this file, so a
 * bump rebuilds it (SwiftPM caches evaluated manifests and would keep an old value).
 * scripts/version.py checks the file's format and that the built library reports it. */
#include "spikevault_build_version.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const char version_text[] = {
#embed "../../VERSION"
    , 0};

/* The index-th dot-separated number of version_text. */
static int version_part(int index) {
    const char *p = version_text;
    for (int i = 0; i < index; i++) {
        while (*p != '\0' && *p != '.') p++;
        if (*p == '.') p++;
    }
    int value = 0;
    for (; *p >= '0' && *p <= '9'; p++) value = value * 10 + (*p - '0');
    return value;
}

int svbuild_version_major(void) { return version_part(0); }
int svbuild_version_minor(void) { return version_part(1); }
int svbuild_version_patch(void) { return version_part(2); }
