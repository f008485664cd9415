# attnbench - build, check, sweep, test.
#
#   make            build build/attnbench (and the Vulkan backend where its
#                   headers, volk and glslc exist)
#   make run        install missing packages, build, check the goldens, sweep
#   make test       install missing packages, lint, build with sanitizers, run tests,
#                   render the report in headless Chromium, 20 s of each fuzzer,
#                   the leak run
#   make unit       the cmocka suite alone (ATTNBENCH_TEST_GROUPS=a,b for some groups)
#   make fuzz       each libFuzzer target for FUZZ_TIME seconds (default 60)
#   make perf       speed ratios against the machine's own peak (a benchmark)
#   make golden     regenerate datasets/golden from the float64 reference
#   make backends-lib  the CPU backends as a backend library (A/B sweeps of two builds)
#   make format / make lint (layering and file-length rules, clang-format, cppcheck)
#
# Every dependency comes through pkg-config; libcsv ships no .pc file on
# Debian 12, so it falls back to -lcsv.

BUILD   ?= build
CC      ?= cc
CXX     ?= c++
PYTHON  ?= /usr/bin/python3
THREADS ?= $(shell nproc 2>/dev/null || echo 1)

PKG_CONFIG ?= pkg-config
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

CSV_LIBS := $(shell $(PKG_CONFIG) --exists csv 2>/dev/null && $(PKG_CONFIG) --libs csv || echo -lcsv)
BENCH_CFLAGS := $(call pc_cflags,benchmark)
BENCH_LIBS   := $(call pc_libs,benchmark)
BLAS_CFLAGS  := $(call pc_cflags,openblas)
BLAS_LIBS    := $(call pc_libs,openblas)
CMOCKA_CFLAGS := $(call pc_cflags,cmocka)
CMOCKA_LIBS   := $(call pc_libs,cmocka)
JSON_CFLAGS  := $(call pc_cflags,jansson)
JSON_LIBS    := $(call pc_libs,jansson)

WARN     := -Wall -Wextra -Werror
OPT      ?= -O3 -g
SAN      ?=
# CPU instruction sets: the default build runs on any CPU of its
# architecture (the compiler's baseline); blocked's kernels are compiled once
# more per x86-64 ISA below and chosen at run time. NATIVE=1 compiles
# everything for this machine's CPU instead (-march=native); ARCH=... any
# other -m flags.
NATIVE   ?= 0
ARCH     ?= $(if $(filter 1,$(NATIVE)),-march=native,)
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS_ALL   = -std=gnu11 $(OPT) $(ARCH) $(WARN) -fopenmp -Iinclude -Iharness -I. -I$(BUILD) $(JSON_CFLAGS) $(SAN) $(EXTRA_CFLAGS) \
	       -DATTN_BUILD_FLAGS='"$(strip $(OPT) $(ARCH) $(SAN))"'
CXXFLAGS_ALL = -std=c++17 $(OPT) $(WARN) -Iinclude -Iharness $(BENCH_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDLIBS_ALL   = $(BENCH_LIBS) $(BLAS_LIBS) $(JSON_LIBS) $(CSV_LIBS) -fopenmp -ldl -lm -lpthread

HARNESS_SRC := $(filter-out harness/main.c,$(wildcard harness/*.c harness/*/*.c))
IMPL_SRC    := $(wildcard impls/cpu/*.c)

# --- Vulkan backend: built where vulkan headers, volk and glslc exist -------
GLSLC ?= glslc
HAVE_VULKAN ?= $(shell test -f impls/vulkan/vulkan.mk && $(PKG_CONFIG) --exists vulkan 2>/dev/null && test -f /usr/include/volk.h && command -v $(GLSLC) >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(HAVE_VULKAN),1)
include impls/vulkan/vulkan.mk
endif

OBJ_DIR  := $(BUILD)/obj
LIB_OBJS := $(patsubst %.c,$(OBJ_DIR)/%.o,$(HARNESS_SRC) $(IMPL_SRC) $(VK_SRC)) $(OBJ_DIR)/harness/run/gbench_shim.o

# the CPU kernels compiled once more per x86-64 ISA (blocked's tile steps,
# blas's softmax; -DCPU_ISA= names what each compilation defines); the plain
# .o of each is the baseline's
ISA_FLAGS_avx2   := -mavx2 -mfma -mf16c
ISA_FLAGS_avx512 := $(ISA_FLAGS_avx2) -mavx512f -mavx512vl -mavx512bw -mavx512dq
ISA_KERNELS      := blocked_tile blas_softmax
ISA_OBJS := $(foreach k,$(ISA_KERNELS),$(OBJ_DIR)/impls/cpu/$(k).avx2.o $(OBJ_DIR)/impls/cpu/$(k).avx512.o)
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
LIB_OBJS += $(ISA_OBJS)
endif

.PHONY: all run test unit perf golden format lint clean deps sweep check install uninstall leak-run test-render test-slurm \
	backends-lib
all: $(BUILD)/attnbench $(BUILD)/libattnbench_twopass.so

# Objects depend on the flags they were built with: a change of OPT, SAN or
# HAVE_VULKAN rebuilds everything instead of mixing old and new objects.
FLAGS_STAMP := $(BUILD)/.flags
# (the CPU backends' library below compiles its objects again with these)
PIC_FLAGS   := -fPIC -fvisibility=hidden
FLAGS_NOW   := $(CC) $(CXX) $(CFLAGS_ALL) $(CXXFLAGS_ALL) $(HAVE_VULKAN) $(PIC_FLAGS)
$(shell mkdir -p $(BUILD) && (echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP)))

# Only machine.json (and the roofline cache key) needs the commit: keep it out
# of everyone else's flags, but rebuild machine.o when it changes.
COMMIT_STAMP := $(BUILD)/.commit
$(shell mkdir -p $(BUILD) && (echo '$(GIT_COMMIT)' | cmp -s - $(COMMIT_STAMP) || echo '$(GIT_COMMIT)' > $(COMMIT_STAMP)))
$(OBJ_DIR)/harness/model/machine.o: EXTRA_DEFS = -DATTN_GIT_COMMIT='"$(GIT_COMMIT)"'
$(OBJ_DIR)/harness/model/machine.o: $(COMMIT_STAMP)

# The object rules of a folder of objects: $(1) the folder, $(2) flags of
# its own (the PIC objects of the CPU backends' library below), $(3) what
# must exist before its objects compile (the Vulkan shaders, for the main
# build's)
define OBJ_RULES
$(1)/%.o: %.c $$(FLAGS_STAMP) | $(3)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) $(2) $$(EXTRA_DEFS) $$(VK_CFLAGS) $$(BLAS_CFLAGS) -MMD -MP -c $$< -o $$@

$(1)/impls/cpu/%.avx2.o: impls/cpu/%.c $$(FLAGS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) $(2) $$(ISA_FLAGS_avx2) -DCPU_ISA=avx2 -MMD -MP -c $$< -o $$@

$(1)/impls/cpu/%.avx512.o: impls/cpu/%.c $$(FLAGS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_ALL) $(2) $$(ISA_FLAGS_avx512) -DCPU_ISA=avx512 -MMD -MP -c $$< -o $$@
endef
$(eval $(call OBJ_RULES,$(OBJ_DIR),,$(VK_DEPS)))

$(OBJ_DIR)/harness/run/gbench_shim.o: harness/run/gbench_shim.cc $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libattnbench.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/attnbench: $(OBJ_DIR)/harness/main.o $(BUILD)/libattnbench.a
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# --- backend libraries: the example, and broken ones the tests refuse -------
PLUGIN_CFLAGS = -std=gnu11 -O2 -g $(WARN) -fPIC -shared -Iinclude
# against tests/plugins/abi1/attnbench.h, a frozen copy of the first ABI's
# header: libraries built for an older ABI must keep loading
PLUGIN_CFLAGS_ABI1 = $(subst -Iinclude,-Itests/plugins/abi1,$(PLUGIN_CFLAGS))
$(BUILD)/libattnbench_twopass.so: impls/examples/twopass.c include/attnbench.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $< -o $@ -lm

# The CPU backends (naive, blocked, blas) as a backend library of their own,
# to measure two builds of one in an A/B sweep (docs/performance.md, "A/B
# mode"; docs/ci/ci.sh): each build's objects again, position-independent,
# every symbol hidden but the library's entry point (impls/plugin/), so two
# copies loaded side by side share nothing but the process.
PIC_DIR  := $(BUILD)/pic
PIC_OBJS := $(patsubst %.c,$(PIC_DIR)/%.o,$(IMPL_SRC) impls/plugin/cpu_backends.c)
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
PIC_OBJS += $(subst $(OBJ_DIR)/,$(PIC_DIR)/,$(ISA_OBJS))
endif
$(eval $(call OBJ_RULES,$(PIC_DIR),$(PIC_FLAGS),))
$(BUILD)/libattnbench_cpu.so: $(PIC_OBJS)
	$(CC) $(SAN) -shared -o $@ $^ -Wl,-z,defs $(BLAS_LIBS) -fopenmp -lm
backends-lib: $(BUILD)/libattnbench_cpu.so

$(BUILD)/plugins/%.so: tests/plugins/%.c include/attnbench.h include/attn_half.h include/attn_quant.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $< -o $@

$(BUILD)/plugins/abi1/twopass.so: impls/examples/twopass.c tests/plugins/abi1/attnbench.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS_ABI1) $< -o $@ -lm

$(BUILD)/plugins/abi1/old_abi.so: tests/plugins/old_abi.c tests/plugins/abi1/attnbench.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS_ABI1) $< -o $@

TEST_PLUGINS := $(BUILD)/plugins/abi1/twopass.so $(BUILD)/plugins/abi1/old_abi.so $(BUILD)/plugins/bad_abi.so $(BUILD)/plugins/no_symbol.so $(BUILD)/plugins/lowprec.so $(BUILD)/libattnbench_twopass.so $(BUILD)/plugins/fault.so $(BUILD)/plugins/tailbug.so $(BUILD)/plugins/variants.so $(BUILD)/plugins/pagecheck.so

# liar: the naive backend linked in, with one variant ignored on request
LIAR_SRC := tests/plugins/liar.c $(filter-out impls/cpu/blas% impls/cpu/blocked%,$(IMPL_SRC))
$(BUILD)/plugins/liar.so: $(LIAR_SRC) $(wildcard include/*.h impls/*.h impls/cpu/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $(ARCH) -fopenmp -fvisibility=hidden -I. $(LIAR_SRC) -o $@ -Wl,-z,defs -lm
TEST_PLUGINS += $(BUILD)/plugins/liar.so

# slow: the naive backend linked in, spinning for a set fraction of each call
SLOW_SRC := tests/plugins/slow.c $(filter-out impls/cpu/blas% impls/cpu/blocked%,$(IMPL_SRC))
$(BUILD)/plugins/slow.so: $(SLOW_SRC) $(wildcard include/*.h impls/*.h impls/cpu/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $(ARCH) -fopenmp -fvisibility=hidden -I. $(SLOW_SRC) -o $@ -Wl,-z,defs -lm
TEST_PLUGINS += $(BUILD)/plugins/slow.so $(BUILD)/libattnbench_cpu.so

# --- install: binary, its data, man page, completion, public header,
# pkg-config file, example backend. The binary finds its data in
# $(PREFIX)/share/attnbench from its own location (harness/lib/paths.h).
# `make uninstall PREFIX=P` removes exactly these files, then the folders
# of attnbench's own that are left empty.
PREFIX ?= /usr/local
DEST   := $(DESTDIR)$(PREFIX)
# installed path = source path
INSTALL_FILES := bin/attnbench=$(BUILD)/attnbench \
	include/attnbench.h=include/attnbench.h include/attn_half.h=include/attn_half.h \
	lib/attnbench/libattnbench_twopass.so=$(BUILD)/libattnbench_twopass.so \
	share/attnbench/examples/twopass.c=impls/examples/twopass.c \
	share/attnbench/models.csv=datasets/models.csv \
	$(foreach f,$(wildcard datasets/sweeps/*.conf datasets/golden/*),share/attnbench/$(f:datasets/%=%)=$(f)) \
	share/man/man1/attnbench.1=docs/attnbench.1 \
	share/bash-completion/completions/attnbench=scripts/attnbench.bash-completion
INSTALL_DIRS := share/attnbench/golden share/attnbench/sweeps share/attnbench/examples share/attnbench lib/attnbench
install: all
	@set -e; for m in $(INSTALL_FILES); do \
		mode=644; case $${m%%=*} in bin/*) mode=755;; esac; \
		install -D -m $$mode $${m#*=} '$(DEST)'/$${m%%=*}; done
	@mkdir -p '$(DEST)/lib/pkgconfig'
	printf 'prefix=%s\nincludedir=$${prefix}/include\nlibdir=$${prefix}/lib\n\nName: attnbench\nDescription: attention benchmark backend interface\nVersion: 0.1.0\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' > '$(DEST)/lib/pkgconfig/attnbench.pc'
	@echo "installed attnbench under $(DEST) (data: $(DEST)/share/attnbench)"

uninstall:
	@for m in $(INSTALL_FILES) lib/pkgconfig/attnbench.pc=; do rm -f '$(DEST)'/$${m%%=*}; done
	@for d in $(INSTALL_DIRS); do if [ -d '$(DEST)'/$$d ]; then rmdir '$(DEST)'/$$d 2>/dev/null || true; fi; done
	@echo "removed attnbench from $(DEST)"

# --- tests -----------------------------------------------------------------
TEST_SRC := $(wildcard tests/test_*.c) tests/testutil.c tests/vulkan_util.c
$(BUILD)/test_attnbench: $(patsubst %.c,$(OBJ_DIR)/%.o,$(TEST_SRC) tests/main.c) $(BUILD)/libattnbench.a
	$(CXX) $(SAN) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_ALL)

$(OBJ_DIR)/tests/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iimpls $(CMOCKA_CFLAGS) -DATTN_HAVE_VULKAN_BUILD=$(HAVE_VULKAN) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- fuzzing: libFuzzer targets for the readers of hostile input ----------
# One target per reader (.npy, manifest, sweep config, results.csv,
# machine.json), each built from only the harness sources it needs with
# clang's -fsanitize=fuzzer,address,undefined into $(BUILD)/fuzz/. `make fuzz` runs
# each for FUZZ_TIME seconds, `make fuzz-smoke` (the end of `make test`) for
# FUZZ_SMOKE_TIME. A run works on $(BUILD)/fuzz/corpus-<target>, seeded from
# tests/fuzz/corpus/<target> (which it never modifies), with the dictionary
# tests/fuzz/<target>.dict; a crash, leak, UB or
# timeout fails the make target and leaves the input in
# $(BUILD)/fuzz/artifacts/ with the command that reproduces it.
FUZZ_CC         ?= clang
FUZZ_TIME       ?= 60
FUZZ_SMOKE_TIME ?= 20
FUZZ_MAX_LEN    ?= 131072
FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_TARGETS    := fuzz_npy fuzz_manifest fuzz_sweep_config fuzz_results fuzz_machine
FUZZ_CFLAGS      = -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer $(WARN) -Iinclude -Iharness -I. -Itests/fuzz $(BLAS_CFLAGS)
FUZZ_SRC_fuzz_npy          := harness/lib/npy.c harness/lib/files.c harness/lib/util.c
FUZZ_SRC_fuzz_manifest     := harness/model/manifest.c harness/lib/npy.c harness/lib/table.c harness/lib/files.c harness/lib/util.c
FUZZ_SRC_fuzz_sweep_config := harness/model/sweep_config.c harness/model/counts.c harness/lib/files.c harness/lib/util.c
FUZZ_SRC_fuzz_results      := harness/model/results.c harness/model/machine.c harness/model/sweep_config.c harness/model/counts.c \
			      harness/lib/table.c harness/lib/files.c harness/lib/util.c
FUZZ_SRC_fuzz_machine      := harness/model/machine.c harness/lib/files.c harness/lib/util.c

define FUZZ_RULE
$(FUZZ_DIR)/$(1): tests/fuzz/$(1).c tests/fuzz/fuzz_common.h $(FUZZ_SRC_$(1)) $(wildcard include/*.h harness/*/*.h)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(filter %.c,$$^) -o $$@ $(CSV_LIBS) $(BLAS_LIBS) $(JSON_LIBS) -lm
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
fuzz: FUZZ_SECONDS = $(FUZZ_TIME)
fuzz-smoke: FUZZ_SECONDS = $(FUZZ_SMOKE_TIME)
fuzz fuzz-smoke: fuzz-build
	@mkdir -p $(FUZZ_DIR)/artifacts
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$t && cp tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus-$$t/ || exit 1; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s ($(FUZZ_DIR)/$$t.log)"; \
		if ! $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=$(FUZZ_MAX_LEN) \
			-timeout=60 -print_final_stats=0 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- -dict=tests/fuzz/$$t.dict \
			$(FUZZ_DIR)/corpus-$$t >$(FUZZ_DIR)/$$t.log 2>&1; then \
			tail -n 30 $(FUZZ_DIR)/$$t.log; failed="$$failed $$t"; \
			for a in $$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' $(FUZZ_DIR)/$$t.log | sort -u); do \
				echo "fuzz: $$t failed on $$a; reproduce: $(FUZZ_DIR)/$$t $$a"; done; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (inputs in $(FUZZ_DIR)/artifacts/)"; exit 1; fi; \
	echo "fuzz: $(FUZZ_TARGETS): no crash in $(FUZZ_SECONDS) s each"

# --- the two commands of the quick start ----------------------------------
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_BUILD := $(BUILD)/san
OUT       ?= reports/latest
SWEEP_CONFIG ?= datasets/sweeps/default.conf

deps:
	@scripts/setup.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/attnbench list
	$(BUILD)/attnbench check --golden datasets/golden --out $(OUT)
	$(BUILD)/attnbench sweep --config $(SWEEP_CONFIG) --out $(OUT)
	@echo "results: $(OUT)/results.csv, machine: $(OUT)/machine.json"
	$(BUILD)/attnbench report $(OUT)

# The test suite runs under AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer: the test runner itself and every attnbench process it
# starts. tests/leak/keep_loaded.so keeps the Vulkan loader and driver mapped
# to the end of each process, so that the driver's process-lifetime state is
# not reported as leaked once it is unloaded (see that file); the ASan
# runtime then cannot come first in the preload list, hence
# verify_asan_link_order=0. DETECT_LEAKS=0 turns leak checking off.
DETECT_LEAKS ?= 1
SAN_ENV = ASAN_OPTIONS=detect_leaks=$(DETECT_LEAKS):verify_asan_link_order=0:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	LD_PRELOAD=$(CURDIR)/$(SAN_BUILD)/keep_loaded.so

$(SAN_BUILD)/keep_loaded.so: tests/leak/keep_loaded.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -fPIC -shared $(WARN) $< -o $@ -ldl

test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory test-render
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory leak-run
	@$(MAKE) --no-print-directory test-slurm

# The sharded sweep as a Slurm job array on a one-node cluster that
# scripts/slurm_selftest.sh starts on 127.0.0.1 and stops (as root; installs
# slurm-wlm and munge through scripts/setup.sh --slurm when missing).
test-slurm: all
	ATTNBENCH=$(BUILD)/attnbench scripts/slurm_selftest.sh

# The cmocka suite alone (the first part of `make test`, without installing
# packages); ATTNBENCH_TEST_GROUPS=report,compare in the environment runs
# only those groups.
unit:
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN="$(SAN_FLAGS)" OPT="-O1 -g" \
		$(SAN_BUILD)/attnbench $(SAN_BUILD)/test_attnbench $(subst $(BUILD)/,$(SAN_BUILD)/,$(TEST_PLUGINS))
	@$(MAKE) --no-print-directory $(SAN_BUILD)/keep_loaded.so
	@# a third party's path: install, then build the example backend against the
	@# installed header through pkg-config; the tests load that library
	rm -rf $(SAN_BUILD)/stage
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN="$(SAN_FLAGS)" OPT="-O1 -g" \
		PREFIX=$(CURDIR)/$(SAN_BUILD)/stage install >/dev/null
	mkdir -p $(SAN_BUILD)/stage/thirdparty
	PKG_CONFIG_PATH=$(SAN_BUILD)/stage/lib/pkgconfig $(CC) -O2 -fPIC -shared $(WARN) \
		$$(PKG_CONFIG_PATH=$(SAN_BUILD)/stage/lib/pkgconfig $(PKG_CONFIG) --cflags attnbench) \
		$(SAN_BUILD)/stage/share/attnbench/examples/twopass.c -o $(SAN_BUILD)/stage/thirdparty/libattnbench_twopass.so -lm
	@# uninstall removes every file install put there
	rm -rf $(SAN_BUILD)/stage2
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN="$(SAN_FLAGS)" OPT="-O1 -g" \
		PREFIX=$(CURDIR)/$(SAN_BUILD)/stage2 install >/dev/null
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) PREFIX=$(CURDIR)/$(SAN_BUILD)/stage2 uninstall >/dev/null
	@left=$$(find $(SAN_BUILD)/stage2 -type f); if [ -n "$$left" ]; then \
		echo "make uninstall left: $$left" >&2; exit 1; fi
	$(SAN_ENV) ATTNBENCH_BIN=$(SAN_BUILD)/attnbench ATTNBENCH_BUILD=$(SAN_BUILD) ATTNBENCH_VK_VALIDATION=1 \
	ATTNBENCH_STAGE=$(CURDIR)/$(SAN_BUILD)/stage \
	ATTNBENCH_THIRDPARTY_LIB=$(SAN_BUILD)/stage/thirdparty/libattnbench_twopass.so \
		$(SAN_BUILD)/test_attnbench

# The report as a reader opens it: index.html rendered in headless Chromium
# (installed by scripts/setup.sh when missing), every picture loaded, every
# file link resolving; with the sanitized binary `unit` built.
test-render:
	RENDER_ENV='$(SAN_ENV)' tests/render/render_report.sh $(SAN_BUILD)/attnbench

# The leak run: check on every golden case and a short sweep, all available
# backends (Vulkan on lavapipe included), under LeakSanitizer; any leak is
# exit 23 and fails the target. The canary first proves that leak checking
# is on: it leaks on purpose and must be caught. Both run with --no-isolate:
# a worker process ends with _exit, where LeakSanitizer does not look, so
# the backends' own allocations are checked only in process.
LEAK_DIR := $(SAN_BUILD)/leakrun
leak-run: $(SAN_BUILD)/keep_loaded.so
	@mkdir -p $(LEAK_DIR)
	$(CC) -O1 -g $(SAN_FLAGS) tests/leak/canary.c -o $(LEAK_DIR)/canary
	@if $(SAN_ENV) $(LEAK_DIR)/canary >$(LEAK_DIR)/canary.log 2>&1; then \
		echo "leak run: LeakSanitizer missed the canary's leak: leak checking is off" >&2; exit 1; \
	elif ! grep -q "detected memory leaks" $(LEAK_DIR)/canary.log; then \
		cat $(LEAK_DIR)/canary.log >&2; echo "leak run: the canary failed for another reason" >&2; exit 1; fi
	$(SAN_ENV) ATTNBENCH_CACHE_DIR=$(CURDIR)/$(LEAK_DIR)/cache $(SAN_BUILD)/attnbench check \
		--golden datasets/golden --backend all --no-isolate >$(LEAK_DIR)/check.log 2>&1 || { cat $(LEAK_DIR)/check.log >&2; exit 1; }
	$(SAN_ENV) ATTNBENCH_CACHE_DIR=$(CURDIR)/$(LEAK_DIR)/cache $(SAN_BUILD)/attnbench sweep \
		--config datasets/sweeps/smoke.conf --no-isolate --out $(LEAK_DIR)/sweep >$(LEAK_DIR)/sweep.log 2>&1 || { tail -40 $(LEAK_DIR)/sweep.log >&2; exit 1; }
	@echo "leak run: check ($$(grep -c PASS $(LEAK_DIR)/check.log) passes) and sweep ($$(($$(wc -l < $(LEAK_DIR)/sweep/results.csv) - 1)) rows), all backends: no leaks"

golden:
	$(PYTHON) scripts/gen_golden.py datasets/golden

# The architecture rules (layers, no include cycle, file length:
# scripts/check_layout.py), then clang-format and cppcheck over the
# project's own C and C++ sources.
SOURCES := $(wildcard include/*.h harness/*.c harness/*/*.c harness/*/*.h harness/*/*.cc impls/*.h impls/*/*.c impls/*/*.h \
	     tests/*.c tests/*.h tests/fuzz/*.c tests/fuzz/*.h tests/leak/*.c tests/plugins/*.c)
format:
	clang-format -i $(SOURCES)

lint:
	$(PYTHON) scripts/check_layout.py
	clang-format --dry-run --Werror $(SOURCES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Iharness -I. $(filter %.c,$(SOURCES))

clean:
	rm -rf $(BUILD)

# Speed targets as figures and ratios measured in one run (a benchmark, not
# a test: it prints and exits 0).
$(BUILD)/perf_loop: $(OBJ_DIR)/tests/perf_loop.o $(BUILD)/libattnbench.a
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

perf: all $(BUILD)/perf_loop $(BUILD)/plugins/slow.so
	scripts/perf.sh $(BUILD)
