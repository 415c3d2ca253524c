# twinbench: twin kernel drivers (raw C and safe-layer C) measured against the stock driver.
#
#   make bench [PROFILE=default|full|quick|nightly|rust|ablation] [MATRIX=FILE]
#              [FAMILIES=null,...] [MODE=auto|host|vm] [CLOCK=icount|wall]
#                                 run the benchmark; ends with the report (report.md,
#                                 report.html, summary.txt) and prints its path
#              [KERNEL=6.1|6.12|7]                          the kernel a VM run boots
#   make test [DEBUG_KERNEL=1 [DEBUG_TESTS="NAME..."]]      run every test; DEBUG_KERNEL=1 also
#                                 runs make test-debug's tests
#   make test-debug [DEBUG_TESTS="NAME..."]  the block, NVMe and net guest tests in full on the
#                                 debug line 7-debug (lockdep, KASAN, DEBUG_LIST, debug
#                                 objects), building it first if it is not cached (48 min on
#                                 2 loaded cores), then over an hour of tests
#   make unit                                               the unit tests alone
#   make test-faults [FAULTS="NAME..."]                     show each planted fault is caught
#   make test-box     make test's host-mode box alone (a Debian system under QEMU, ~9 min)
#   make kernels      fetch the kernels and create their build environments (idempotent)
#   make host-prepare prepare the Rust tree of the running Debian Rust-enabled kernel (host mode)
#   make modules-all  build our modules against every kernel
#   make [all]        build modules, BPF tools and the runner
#   make report RUN=results/<run-id>                        rebuild a run's report
#   make clean
# V=1 shows the full commands. In host mode the modules build in the tree against the
# running kernel's headers (KDIR overrides them); in VM mode against KERNEL's cached headers,
# in its own build environment, into build/kernels/KERNEL/ko (scripts/kernels.sh).

MODE ?= auto
CLOCK ?=
PROFILE ?=
MATRIX ?=
FAMILIES ?=
KERNELS := $(shell scripts/kernels.sh lines)
# The debug line 7-debug (lockdep, KASAN, DEBUG_LIST, debug objects; scripts/debug-kernel.sh
# builds it once and caches it) runs DEBUG_TESTS, the guest tests that reach the twins' double
# completions, lock contexts, timers and freed buffers, each in full in a boot of its own:
# make test-debug, or make test DEBUG_KERNEL=1. It is not in the default make test, whose 30
# minutes are nearly used: the build alone takes 48 min from nothing, nvme-faults 10 min,
# null 22 min on it (docs/bare-metal.md, "The debug line and make test").
DEBUG_KERNEL ?= 0
DEBUG_TESTS ?= nvme-faults nvme nvme-swiotlb null net net-faults
KERNEL ?= $(shell scripts/kernels.sh default)
ifeq ($(filter $(KERNEL),$(KERNELS)),)
$(error KERNEL=$(KERNEL) is not a supported kernel: use one of $(KERNELS))
endif
RUN ?= results/latest

ifeq ($(MODE),auto)
BUILD_MODE := $(shell scripts/kver.sh mode 2>/dev/null | cut -d: -f1)
else
BUILD_MODE := $(MODE)
endif
KDIR ?= /lib/modules/$(shell uname -r)/build

ifeq ($(V),1)
Q :=
else
Q := @
MAKEFLAGS += --no-print-directory
endif
export V

SUBDIRS := bench bpf tests/tools plugin

.PHONY: all modules modules-all userspace deps bench test test-debug test-faults test-box unit report \
	clean check-kdir \
	kernels host-prepare $(addprefix sub-,$(SUBDIRS))

all: modules userspace

check-kdir:
	$(Q)test -d "$(KDIR)" || { echo "make: no kernel headers at KDIR=$(KDIR);" \
		"run 'make deps' or set KDIR" >&2; exit 1; }

# Warnings in our own sources fail the build (W=1 adds the kernel's extra warnings). Host
# mode's Rust twins build where the running kernel allows them (scripts/kernels.sh
# host-rust: a Debian Rust-enabled kernel gets its prepared tree), else one line says why.
ifeq ($(BUILD_MODE),host)
modules: check-kdir
	$(Q)scripts/kernels.sh host-build $(KDIR)
else
modules:
	$(Q)scripts/kernels.sh fetch $(KERNEL)
	$(Q)scripts/kernels.sh build $(KERNEL)
endif

kernels:
	$(Q)scripts/kernels.sh fetch

host-prepare: check-kdir
	$(Q)scripts/kernels.sh host-prepare $(KDIR)

modules-all: kernels
	$(Q)for k in $(KERNELS); do scripts/kernels.sh build $$k || exit 1; done

userspace: $(addprefix sub-,$(SUBDIRS))

$(addprefix sub-,$(SUBDIRS)): sub-%:
	$(Q)if [ -f $*/Makefile ]; then $(MAKE) -C $*; fi

deps:
	$(Q)scripts/install-deps.sh

bench: deps
	$(Q)$(MAKE) all
	$(Q)bench/twinbench run $(if $(filter host,$(BUILD_MODE)),,--kernel $(KERNEL)) \
		$(if $(PROFILE),--profile $(PROFILE)) $(if $(MATRIX),--matrix $(MATRIX)) \
		$(if $(FAMILIES),--families $(FAMILIES)) --mode $(MODE) $(if $(CLOCK),--clock $(CLOCK))

test: deps
	$(Q)$(MAKE) all
	$(Q)$(MAKE) modules-all
	$(Q)$(MAKE) -C tests/unit
	$(Q)tests/run.sh --kernel $(KERNEL)
ifeq ($(DEBUG_KERNEL),1)
	$(debug_tests)
endif

# The debug line, built when not cached, our modules for it, DEBUG_TESTS in full on it.
define debug_tests
	$(Q)TWINBENCH_DEBUG_KERNEL=1 scripts/kernels.sh fetch 7-debug
	$(Q)TWINBENCH_DEBUG_KERNEL=1 scripts/kernels.sh build 7-debug
	$(Q)TWINBENCH_DEBUG_KERNEL=1 tests/run.sh vm --kernel 7-debug --on 7-debug \
		$(addprefix --only ,$(DEBUG_TESTS))
endef

test-debug: deps
	$(Q)$(MAKE) userspace
	$(debug_tests)

# Planted faults (tests/faults/): each in a scratch copy of the built tree; not in make test.
test-faults: deps
	$(Q)$(MAKE) all
	$(Q)$(MAKE) -C tests/unit
	$(Q)tests/faults/run.sh $(FAULTS)

# Host mode in the box (scripts/box.sh, tests/host/box.sh), the part of make test alone.
test-box: deps
	$(Q)tests/run.sh host --only box

# The unit tests alone (tests/unit/Makefile), built and run.
unit:
	$(Q)$(MAKE) -C tests/unit check

report:
	$(Q)$(MAKE) userspace
	$(Q)bench/twinbench report $(RUN)

clean:
	$(Q)if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)for d in $(SUBDIRS) tests/unit; do if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean; fi; done
	$(Q)rm -rf build
