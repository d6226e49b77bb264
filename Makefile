# SPDX-License-Identifier: GPL-2.0
#
# Top-level make of cftcp: builds cftcp.ko (through Kbuild) and the
# selftests, installs the build and test dependencies, and runs the test
# suite, the demo and the style checks.  Build products go under build/
# (kbuild leaves its objects next to the sources in module/).
#
#   make                 cftcp.ko and the selftests
#   make tools           cfcat, libcftcp-preload.so, cftcp_bridge.bpf.o
#                        into build/tools/
#   make install         cftcp.ko, the uapi header and the tools, under
#                        DESTDIR (default /) and PREFIX (default /usr/local)
#   make dkms-source     the module's sources and dkms.conf in
#                        DESTDIR/usr/src/cftcp-VERSION, for dkms add
#   make deps            install the Debian packages everything needs
#   make check           the test suite in VMs (scripts/check.sh)
#   make check-debug     the test suite on a debug kernel
#   make check-debug-hardening  the hostile-peer tests and a fuzz run on it
#   make check-long      the test suite with its long variants
#   make demo            two VMs talking cftcp, segments and state changes
#   make bench           cftcp and Linux TCP side by side in one VM (table of ratios)
#   make profile         the guest kernel's instructions per symbol while netbench runs
#   make fuzz            the packet fuzzer against cftcp in one VM
#   make checkpatch      checkpatch.pl --strict over the module sources
#   make sparse          the module build under sparse
#   make clean
#
# KDIR=/path/to/kernel/build builds the module against another kernel tree.

ifndef KVER
KVER := $(shell $(CURDIR)/scripts/install-deps.sh --print-kver 2>/dev/null)
endif
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build
LINUX_SOURCE ?= /usr/src/linux-source-6.1.tar.xz
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(CURDIR)/dkms.conf)
PREFIX ?= /usr/local
DESTDIR ?=

SHELL := /bin/bash
KBUILD := $(MAKE) -C $(KDIR) M=$(CURDIR) W=1

# What checkpatch looks at.
CHECK_SOURCES = $(filter-out %.mod.c %.bpf.c,$(wildcard module/*.c module/*.h \
	include/*.h include/uapi/linux/*.h include/trace/events/*.h tools/*.c))
# A BPF program, which checkpatch was not written for, is spared only the
# check its section attributes trip (no kernel __section/__used there).
CHECK_BPF = $(wildcard tools/*.bpf.c)
CHECK_BPF_IGNORE = PREFER_DEFINED_ATTRIBUTE_MACRO
CHECKPATCH_DIR := $(BUILD)/checkpatch
CHECKPATCH_FILES := checkpatch.pl spelling.txt const_structs.checkpatch

.PHONY: all module selftests tools install dkms-source deps check check-debug demo checkpatch sparse \
	clean kdir

all: module selftests

kdir:
	@test -d "$(KDIR)" || { \
		echo "no kernel build tree at '$(KDIR)': run 'make deps' or set KDIR" >&2; \
		exit 1; }

module: kdir
	$(KBUILD) modules

selftests:
	$(MAKE) -C selftests

tools: $(BUILD)/tools/cfcat $(BUILD)/tools/libcftcp-preload.so \
	$(BUILD)/tools/cftcp_bridge.bpf.o

$(BUILD)/tools/cfcat: tools/cfcat.c include/uapi/linux/cftcp.h
	mkdir -p $(BUILD)/tools
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -o $@ $<

# The multiarch directory holds asm/ for the uapi headers.
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror \
	-I/usr/include/$(shell gcc -print-multiarch)
$(BUILD)/tools/cftcp_bridge.bpf.o: tools/cftcp_bridge.bpf.c
	mkdir -p $(BUILD)/tools
	clang $(BPF_CFLAGS) -c -o $@ $<

$(BUILD)/tools/libcftcp-preload.so: tools/preload.c include/uapi/linux/cftcp.h
	mkdir -p $(BUILD)/tools
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -fPIC -shared \
		-o $@ $< -ldl -lpthread

# The module goes to updates/ (depmod prefers it to the kernel's own
# modules); without DESTDIR depmod then indexes it, so that modprobe cftcp
# and the autoload of socket(AF_CFTCP, ...) find it (a package built with
# DESTDIR runs depmod when it is installed).
install: module tools
	install -D -m 0644 module/cftcp.ko $(DESTDIR)/lib/modules/$(KVER)/updates/cftcp.ko
	$(if $(DESTDIR),,depmod $(KVER))
	install -D -m 0644 include/uapi/linux/cftcp.h $(DESTDIR)$(PREFIX)/include/linux/cftcp.h
	install -D -m 0755 $(BUILD)/tools/cfcat $(DESTDIR)$(PREFIX)/bin/cfcat
	install -D -m 0644 $(BUILD)/tools/libcftcp-preload.so \
		$(DESTDIR)$(PREFIX)/lib/libcftcp-preload.so
	install -D -m 0644 $(BUILD)/tools/cftcp_bridge.bpf.o \
		$(DESTDIR)$(PREFIX)/lib/cftcp/cftcp_bridge.bpf.o
	install -D -m 0755 tools/cftcp-bridge $(DESTDIR)$(PREFIX)/bin/cftcp-bridge
	install -D -m 0755 tools/cfss $(DESTDIR)$(PREFIX)/bin/cfss
	install -D -m 0755 tools/cfstat $(DESTDIR)$(PREFIX)/bin/cfstat
	install -D -m 0644 scripts/cftcp.lua $(DESTDIR)$(PREFIX)/share/cftcp/cftcp.lua

DKMS_SRC := $(DESTDIR)/usr/src/cftcp-$(VERSION)
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/module $(DKMS_SRC)/include/uapi/linux
	install -m 0644 dkms.conf Kbuild $(DKMS_SRC)/
	install -m 0644 $(filter-out %.mod.c,$(wildcard module/*.c)) $(DKMS_SRC)/module/
	install -m 0644 $(wildcard include/*.h) $(DKMS_SRC)/include/
	install -D -m 0644 include/trace/events/cftcp.h \
		$(DKMS_SRC)/include/trace/events/cftcp.h
	install -m 0644 include/uapi/linux/cftcp.h $(DKMS_SRC)/include/uapi/linux/

deps:
	scripts/install-deps.sh

# After deps, build in a fresh make so that KVER names the kernel deps found.
check: deps
	$(MAKE) all
	scripts/check.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

check-debug: deps
	$(MAKE) all
	scripts/check-debug.sh

# What a hostile peer can do, on the debug kernel: the tests of the orphan
# and memory limits, the hostile segments, SYN cookies, path MTU, the
# listener lifetime race and the bounded fuzz run (cftcp's side of each).
HARDENING_TESTS := state_orphans_cftcp state_hostile_cftcp \
	state_memory_cftcp syncookies_cftcp pmtu_netns_cftcp listen_race \
	fuzz_cftcp sysfuzz_cftcp
.PHONY: check-debug-hardening
check-debug-hardening: deps
	$(MAKE) all
	CFTCP_TESTS="$(HARDENING_TESTS)" scripts/check-debug.sh

# Throughput of cftcp and of Linux TCP over veth in one VM (BENCH_SIZE).
.PHONY: bench
bench: deps
	$(MAKE) all
	scripts/bench.sh

# An instruction-count profile of the guest kernel while netbench runs in
# one VM (scripts/profile.sh, through the QEMU TCG plugin scripts/tcgprof.c):
# PROFILE_FAMILY (cftcp or tcp), PROFILE_MODE (bulk, bulk4, rr or crr) for
# PROFILE_SECS seconds; the top symbols and the totals per area, also in
# build/prof/.
PROFILE_FAMILY ?= cftcp
PROFILE_MODE ?= bulk
PROFILE_SECS ?= 20
.PHONY: profile
profile: deps
	$(MAKE) all
	scripts/profile.sh -s $(PROFILE_SECS) $(PROFILE_FAMILY) $(PROFILE_MODE)

# The packet fuzzer (selftests/fuzz.sh) in one VM: FUZZ_SECONDS of fuzzing
# against FUZZ_FAMILY (cftcp or tcp) with seed FUZZ_SEED (default: a random
# one, printed; set it to replay a run), FUZZ_ARGS passed on (-v prints
# every frame sent); then SYSFUZZ_SECONDS of the syscall fuzzer
# (selftests/sysfuzz.sh, cftcp's sockets, SYSFUZZ_ROUNDS namespaces, the
# same seed; 0 seconds skips it). Fails on a failed run or on any kernel
# splat, cftcp's unload at the end of the VM included.
FUZZ_SECONDS ?= 600
FUZZ_FAMILY ?= cftcp
FUZZ_SEED ?= random
FUZZ_ARGS ?=
SYSFUZZ_SECONDS ?= 600
SYSFUZZ_ROUNDS ?= 20
FUZZ_CMD = /selftests/fuzz.sh -f $(FUZZ_FAMILY) -T $(FUZZ_SECONDS) \
	-s $(FUZZ_SEED) $(FUZZ_ARGS)
ifneq ($(SYSFUZZ_SECONDS),0)
FUZZ_CMD += && /selftests/sysfuzz.sh -T $(SYSFUZZ_SECONDS) \
	-r $(SYSFUZZ_ROUNDS) -s $(FUZZ_SEED)
endif
.PHONY: fuzz
fuzz: deps
	$(MAKE) all
	mkdir -p $(BUILD)/logs
	scripts/vm-run.sh --name fuzz -l $(BUILD)/logs/fuzz.console \
		-t $$(($(FUZZ_SECONDS) + $(SYSFUZZ_SECONDS) + 600)) -- '$(FUZZ_CMD)'
	@scripts/check.sh --scan $(BUILD)/logs/fuzz.console || { \
		echo "fuzz: kernel splat above (build/logs/fuzz.console)" >&2; \
		exit 1; }

# The suite with its long variants (larger transfers, more connections),
# chosen by cftcp_test.long=1 on the VMs' kernel command line.
.PHONY: check-long
check-long: deps
	$(MAKE) all
	CFTCP_VM_APPEND="$(CFTCP_VM_APPEND) cftcp_test.long=1" \
		CFTCP_VM_TIMEOUT=$${CFTCP_VM_TIMEOUT:-3600} scripts/check.sh

$(CHECKPATCH_DIR)/checkpatch.pl:
	@test -f "$(LINUX_SOURCE)" || { \
		echo "$(LINUX_SOURCE) missing: run 'make deps'" >&2; exit 1; }
	mkdir -p $(CHECKPATCH_DIR)
	tar -xJf $(LINUX_SOURCE) -C $(CHECKPATCH_DIR) --strip-components=2 \
		$(addprefix linux-source-6.1/scripts/,$(CHECKPATCH_FILES))
	touch $@

checkpatch: $(CHECKPATCH_DIR)/checkpatch.pl
	@test -n "$(CHECK_SOURCES)" || { echo "no sources to check" >&2; exit 1; }
	perl $(CHECKPATCH_DIR)/checkpatch.pl --strict --no-tree -f $(CHECK_SOURCES)
	perl $(CHECKPATCH_DIR)/checkpatch.pl --strict --no-tree \
		--ignore $(CHECK_BPF_IGNORE) -f $(CHECK_BPF)

# C=2 runs sparse over every source, built or not; any warning fails.
sparse: kdir
	mkdir -p $(BUILD)
	set -o pipefail; $(KBUILD) C=2 modules 2>&1 | tee $(BUILD)/sparse.log
	@! grep -E ': (warning|error):' $(BUILD)/sparse.log >/dev/null || { \
		echo "sparse: findings above (also in build/sparse.log)" >&2; exit 1; }

clean:
	if [ -d "$(KDIR)" ]; then $(KBUILD) clean; fi
	if [ -f selftests/Makefile ]; then $(MAKE) -C selftests clean; fi
	rm -rf $(BUILD)
