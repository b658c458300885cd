/* The library version as compiled in, from the repository's VERSION file (the one place it is
 * written; version.c embeds it). Internal: these symbols stay local to libspikevault.so
 * (scripts/exports.map exports sv_* only). */
#ifndef SPIKEVAULT_BUILD_VERSION_H
#define SPIKEVAULT_BUILD_VERSION_H

int svbuild_version_major(void);
int svbuild_version_minor(void);
int svbuild_version_patch(void);

#endif
