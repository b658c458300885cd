# SpikeVault — build, test, install. `make` builds build/lib/libspikevault.so*;
# `make demo` runs the example end to end; `make check` runs every test (what CI runs).
SHELL := /bin/bash
# The version is written in VERSION only (scripts/version.py generates or checks every other place).
VERSION_FILE := VERSION
VERSION := $(shell cat $(VERSION_FILE))
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
PATCH := $(word 3,$(subst ., ,$(VERSION)))
VERSION_H := include/spikevault_version.h

PREFIX ?= /usr/local
DESTDIR ?=
# The library directory under PREFIX (Debian's rules pass lib/$(DEB_HOST_MULTIARCH)).
INSTALL_LIBDIR ?= lib
LIBDIR := build/lib
SONAME := libspikevault.so.$(MAJOR)
REALNAME := libspikevault.so.$(VERSION)
SWIFT_FLAGS := -c release --product spikevault -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
	-Xlinker --version-script=$(CURDIR)/scripts/exports.map -Xlinker -soname=$(SONAME) -Xlinker --gc-sections
BIN = $(shell swift build -c release --show-bin-path)
SOURCES := $(shell find Sources -type f) Package.swift scripts/exports.map $(VERSION_FILE)
STAGE := build/stage
CC ?= cc
PYTHON ?= python3
export SPIKEVAULT_LIBRARY := $(CURDIR)/$(LIBDIR)/libspikevault.so
# Console scripts installed by pip (the duckdb CLI) live beside the Python interpreter.
export PATH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null):$(PATH)

.PHONY: all deps lib header manifest check check-swift check-manifest check-header check-header-compile check-symbols \
	check-abi check-ldd check-c check-python demo size install uninstall bench bench-retention bench-monitor \
	bench-review bench-save-async soak clean wheel fuzz check-fuzz check-faults check-asan check-tsan check-version

all: lib

deps:
	@scripts/deps.sh

lib: $(LIBDIR)/$(REALNAME) $(VERSION_H)

# The header's version macros (include/spikevault.h includes it), generated like sqlite3.h's.
$(VERSION_H): $(VERSION_FILE) scripts/version.py
	$(PYTHON) scripts/version.py header $@

$(LIBDIR)/$(REALNAME): $(SOURCES) | deps
	swift build $(SWIFT_FLAGS)
	mkdir -p $(LIBDIR)
	cp "$(BIN)/libspikevault.so" $@.tmp
	strip --strip-unneeded $@.tmp
	mv $@.tmp $@
	ln -sf $(REALNAME) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/libspikevault.so

# Every ABI artefact (header, Python table and enums, docs/abi-reference.md, symbol baseline)
# is generated from abi/manifest.json (docs/conventions.md, "One source for the ABI").
MANIFEST := abi/manifest.json
manifest:
	$(PYTHON) scripts/abi_gen.py write .
header: manifest

# The generated files equal what the manifest produces; the compiler's header of the @c export
# layer (a cross-check, not a source of types) agrees with the manifest; the generators'
# own test (a dummy option reaches every generated place).
check-manifest: lib
	$(PYTHON) scripts/abi_gen.py check .
	$(PYTHON) scripts/abi_gen.py crosscheck "$(BIN)/SpikeVaultC.build/include/SpikeVaultC-Swift.h"
	$(PYTHON) -m pytest -q -p no:cacheprovider scripts/tests

# The stripped library must stay within 8 MB (8,000,000 bytes; MB means 10^6 throughout).
MAX_LIBRARY_BYTES := 8000000
size: lib
	@bytes=$$(stat -c %s $(LIBDIR)/$(REALNAME)); \
		echo "libspikevault (stripped): $$bytes bytes ($$(( bytes / 1000 )) kB; limit $(MAX_LIBRARY_BYTES))"; \
		test $$bytes -le $(MAX_LIBRARY_BYTES) || { echo "the library is over its size limit"; exit 1; }

CMAKE_DIR := $(INSTALL_LIBDIR)/cmake/SpikeVault
# The include directory seen from the library directory (the CMake config is relocatable).
INCLUDEDIR_FROM_LIBDIR := $(shell $(PYTHON) -c 'import os,sys; print(os.path.relpath("include", sys.argv[1]))' $(INSTALL_LIBDIR))
SUBST := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
	-e 's|@LIBDIR@|$(INSTALL_LIBDIR)|g' -e 's|@INCLUDEDIR_FROM_LIBDIR@|$(INCLUDEDIR_FROM_LIBDIR)|g' \
	-e 's|@REALNAME@|$(REALNAME)|g' -e 's|@SONAME@|$(SONAME)|g'
install: lib
	install -d $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/$(CMAKE_DIR)
	install -m 0644 $(LIBDIR)/$(REALNAME) $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/libspikevault.so
	install -m 0644 include/spikevault.h $(VERSION_H) $(DESTDIR)$(PREFIX)/include/
	$(SUBST) scripts/spikevault.pc.in > $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/pkgconfig/spikevault.pc
	$(SUBST) scripts/cmake/SpikeVaultConfig.cmake.in > $(DESTDIR)$(PREFIX)/$(CMAKE_DIR)/SpikeVaultConfig.cmake
	$(SUBST) scripts/cmake/SpikeVaultConfigVersion.cmake.in > $(DESTDIR)$(PREFIX)/$(CMAKE_DIR)/SpikeVaultConfigVersion.cmake

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/libspikevault.so* $(DESTDIR)$(PREFIX)/include/spikevault.h \
		$(DESTDIR)$(PREFIX)/include/spikevault_version.h $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/pkgconfig/spikevault.pc
	rm -rf $(DESTDIR)$(PREFIX)/$(CMAKE_DIR)

# ---- tests ----
check: lib size check-swift check-manifest check-header-compile check-symbols check-abi check-ldd check-version \
	check-c check-python check-fuzz check-faults
	@echo "make check: all checks passed"

# --no-parallel: the capture and crash tests start CPU burners and child processes; run in
# parallel on 2 cores they would skew each other's CPU figures and see each other's children.
check-swift: | deps
	@mkdir -p build
	swift test --no-parallel 2>&1 | tee build/swift-test.log | grep -E "^(Test run|✔|✘|➜|Executed|.*error)|passed|failed|skipped|cancelled" | tail -40; \
		exit $${PIPESTATUS[0]}

check-header: check-manifest

check-header-compile: $(VERSION_H)
	@set -e; for cc in gcc clang; do \
		echo '#include "spikevault.h"' | $$cc -std=c99 -Wall -Wextra -pedantic -Werror -Iinclude -x c -fsyntax-only -; \
		echo '#include "spikevault.h"' | $$cc -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -x c++ -fsyntax-only -; \
		echo "header: compiles alone as C99 and C++11 with $$cc"; done

check-symbols: lib
	@nm -D --defined-only $(LIBDIR)/$(REALNAME) | awk '{print $$3}' | sort > build/exported.txt
	@sed -n 's/^[a-z][a-z_0-9 *]*[ *]\(sv_[a-z_0-9]*\)(.*/\1/p' include/spikevault.h | sort > build/declared.txt
	@diff -u build/declared.txt build/exported.txt || \
		{ echo "exported symbols differ from the header's functions"; exit 1; }
	@echo "symbols: exports are exactly the $$(wc -l < build/declared.txt) functions of the header"

# Symbols against the committed baseline: removals fail; additions must be recorded.
check-abi: lib
	$(PYTHON) scripts/check_abi.py $(LIBDIR)/$(REALNAME) scripts/libspikevault.symbols $(VERSION_FILE)

# Every place that shows the version agrees with VERSION, and no other committed file spells it.
check-version: lib debian/changelog
	rm -rf build/version-stage
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/build/version-stage PREFIX=/usr
	$(PYTHON) scripts/version.py check build/version-stage $(LIBDIR)/$(REALNAME)

# Generated from its template so the version stays in VERSION only (docs/packaging.md).
debian/changelog: debian/changelog.in $(VERSION_FILE) scripts/version.py
	$(PYTHON) scripts/version.py changelog $< $@

check-ldd: lib
	@if ldd $(LIBDIR)/$(REALNAME) | grep -i swift; then echo "ldd: the Swift runtime is linked dynamically"; exit 1; fi
	@echo "ldd: no Swift runtime library needed ($$(readelf -d $(LIBDIR)/$(REALNAME) | grep -c NEEDED) NEEDED entries)"

# The C example and the C ABI tests, built through pkg-config from a `make install DESTDIR=` tree.
check-c: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(STAGE) PREFIX=/usr
	$(MAKE) --no-print-directory -C bindings/c clean all \
		PKG_CONFIG_PATH=$(CURDIR)/$(STAGE)/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(STAGE)
	LD_LIBRARY_PATH=$(CURDIR)/$(STAGE)/usr/lib bindings/c/build/abi_test
	LD_LIBRARY_PATH=$(CURDIR)/$(STAGE)/usr/lib bindings/c/build/example build/c-example-vault
	rm -rf build/c-watch-vault
	LD_LIBRARY_PATH=$(CURDIR)/$(STAGE)/usr/lib bindings/c/build/watch build/c-watch-vault

check-python: lib
	cd bindings/python && $(PYTHON) -m pytest -q tests

# A platform wheel of the Python package with the library inside (build/wheel/*.whl): the
# package is staged in build/wheel-src so the source tree never holds a copy of the .so.
WHEEL_SRC := build/wheel-src
wheel: lib
	rm -rf $(WHEEL_SRC) build/wheel
	mkdir -p $(WHEEL_SRC) build/wheel
	cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/spikevault $(WHEEL_SRC)/
	find $(WHEEL_SRC) -name __pycache__ -prune -exec rm -rf {} +
	cp -L $(LIBDIR)/$(SONAME) $(WHEEL_SRC)/spikevault/$(SONAME)
	$(PYTHON) -m pip wheel --no-deps --quiet -w build/wheel $(WHEEL_SRC)
	@ls build/wheel/*.whl

demo: lib
	@$(MAKE) --no-print-directory -s -C bindings/c all PKG_CONFIG_PATH= SPIKEVAULT_UNINSTALLED=$(CURDIR)
	LD_LIBRARY_PATH=$(CURDIR)/$(LIBDIR) bindings/c/build/example $${SPIKEVAULT_DIR:-build/demo-vault}
	@vault=$${SPIKEVAULT_DIR:-build/demo-vault}; sv="$(PYTHON) -m spikevault --vault $$vault"; \
		export PYTHONPATH=$(CURDIR)/bindings/python; set -e; echo; echo "$$ spikevault list"; $$sv list; \
		id=$$($$sv list -r -n 1 --json | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'); \
		$$sv flamegraph $$id -o build/demo-flamegraph.svg; echo "flame graph of capture $$id: build/demo-flamegraph.svg"

# Every benchmark, side by side with its baseline (about 15 minutes); results in build/.
bench: lib
	SPIKEVAULT_BENCH_DEPS=1 scripts/deps.sh
	$(MAKE) --no-print-directory -C bench run
	$(MAKE) --no-print-directory bench-retention bench-review bench-monitor bench-save-async

# Retention: purge and fetchRecent(50) against raw SQL + unlinkat (ROWS=1000000 for the full size).
bench-retention: lib
	$(MAKE) --no-print-directory -C bench/retention run

# Monitor: one sampler tick vs ps and top with 1,000 extra sleeping processes (EXTRA=, TICKS=).
bench-monitor: lib
	$(MAKE) --no-print-directory -C bench/monitor run

# Background saves: longest host-thread stall, save_async and sv_vault_save_start vs save (N=).
bench-save-async: lib
	$(PYTHON) bench/save_async/stall.py $(N)

# Review: filtered query and analytics in SQLite vs DuckDB, record export vs sqlite3 -json/-csv.
bench-review: lib
	SPIKEVAULT_BENCH_DEPS=1 scripts/deps.sh
	$(MAKE) --no-print-directory -C bench/review run

# The crash loop of the retention tests, longer (SOAK_ITERATIONS SIGKILLs, default 2000).
soak: | deps
	SPIKEVAULT_CRASH_ITERATIONS=$${SOAK_ITERATIONS:-2000} swift test --filter 'ProcessTests/crashLoop'

# ---- hardening (docs/hardening.md) ----
# libFuzzer targets in fuzz/targets (built into .build-fuzz): FUZZ_SECONDS each, FUZZ_JOBS at a time.
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 2
fuzz: | deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh

# A short run of every target (and a replay of the committed corpora), part of `make check`.
check-fuzz: | deps
	FUZZ_SECONDS=$${CHECK_FUZZ_SECONDS:-20} FUZZ_JOBS=2 fuzz/run.sh

# I/O fault sweeps over a save, a capture and a maintenance run (LD_PRELOAD shim).
FAULT_SHIM := build/faultinject/libfaultinject.so
$(FAULT_SHIM): Tests/faultinject/faultinject.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

check-faults: lib $(FAULT_SHIM)
	LIB=$(CURDIR)/$(FAULT_SHIM) $(PYTHON) Tests/faultinject/sweep.py

# AddressSanitizer: the Swift tests, then the C ABI test, the C example and the Python tests
# against an ASan build of libspikevault.so (build/asan/lib), with the ASan runtime preloaded.
ASAN_RT = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)
ASAN_LIB := build/asan/lib
LSAN_SUPP := $(CURDIR)/scripts/sanitizers/lsan.supp
check-asan: lib | deps
	@mkdir -p build
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(LSAN_SUPP) SWIFT_BACKTRACE=enable=no \
		swift test --sanitize=address --build-path .build-asan --no-parallel 2>&1 | tee build/asan-swift.log \
		| grep -E "^(Test run|✘|Executed)|ERROR: .*Sanitizer|SUMMARY" | tail -40; exit $${PIPESTATUS[0]}
	swift build $(SWIFT_FLAGS) --build-path .build-asan-lib -Xswiftc -sanitize=address
	mkdir -p $(ASAN_LIB)
	cp .build-asan-lib/release/libspikevault.so $(ASAN_LIB)/$(REALNAME)
	ln -sf $(REALNAME) $(ASAN_LIB)/$(SONAME)
	ln -sf $(SONAME) $(ASAN_LIB)/libspikevault.so
	$(MAKE) --no-print-directory -C bindings/c all SPIKEVAULT_UNINSTALLED=$(CURDIR)
	LD_PRELOAD=$(ASAN_RT) LD_LIBRARY_PATH=$(CURDIR)/$(ASAN_LIB) ASAN_OPTIONS=detect_leaks=1 bindings/c/build/abi_test
	rm -rf build/asan-example-vault
	LD_PRELOAD=$(ASAN_RT) LD_LIBRARY_PATH=$(CURDIR)/$(ASAN_LIB) ASAN_OPTIONS=detect_leaks=1 \
		bindings/c/build/example build/asan-example-vault
	cd bindings/python && LD_PRELOAD=$(ASAN_RT) SPIKEVAULT_LIBRARY=$(CURDIR)/$(ASAN_LIB)/libspikevault.so \
		ASAN_OPTIONS=detect_leaks=0 $(PYTHON) -m pytest -q -p no:cacheprovider tests
	@echo "check-asan: Swift, C and Python suites clean under AddressSanitizer"

# ThreadSanitizer: the Swift tests. -DSPIKEVAULT_TSAN swaps Synchronization's Mutex (futex
# calls TSan cannot see) for a pthread one inside the core (Sources/SpikeVault/Support/TSanMutex.swift).
check-tsan: | deps
	@mkdir -p build
	SWIFT_BACKTRACE=enable=no swift test --sanitize=thread -Xswiftc -DSPIKEVAULT_TSAN --build-path .build-tsan \
		--no-parallel 2>&1 \
		| tee build/tsan-swift.log | grep -E "^(Test run|✘|Executed)|WARNING: ThreadSanitizer|SUMMARY" | tail -40; \
		exit $${PIPESTATUS[0]}
	@! grep -q "WARNING: ThreadSanitizer" build/tsan-swift.log || { echo "check-tsan: data races reported"; exit 1; }

clean:
	rm -rf build bindings/c/build bench/retention/build bench/monitor/build
