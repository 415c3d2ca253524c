# twinbench: twin kernel drivers (raw C and safe-layer C) measured against the stock driver.
#
#   make bench [PROFILE=quick|default|nightly|rust] [MATRIX=FILE] [FAMILIES=null,...]
#              [MODE=auto|host|vm] [CLOCK=icount|wall]      run the benchmark
#              [KERNEL=debian|rust]                         rust: the kernel of make rust-kernel
#   make test                                               run every test
#   make test-faults [FAULTS="NAME..."]                     show each planted fault is caught
#   make rust-kernel                                        build the Rust-enabled kernel (slow)
#   make test-rust                                          integrity tests under that kernel
#   make [all]        build modules, BPF tools and the runner
#   make report RUN=results/<run-id>                        rebuild a run's report
#   make clean
# V=1 shows the full commands. KDIR overrides the kernel headers the modules build against.

MODE ?= auto
CLOCK ?=
PROFILE ?=
MATRIX ?=
FAMILIES ?=
KERNEL ?= debian
RUN ?= results/latest

ifeq ($(MODE),auto)
BUILD_MODE := $(shell scripts/kver.sh mode 2>/dev/null | cut -d: -f1)
else
BUILD_MODE := $(MODE)
endif
KVER ?= $(shell scripts/kver.sh $(BUILD_MODE) 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build

ifeq ($(V),1)
Q :=
else
Q := @
MAKEFLAGS += --no-print-directory
endif
export V

SUBDIRS := bench bpf tests/tools plugin

.PHONY: all modules userspace deps bench test report clean check-kdir rust-kernel rust-twins \
	test-rust test-faults $(addprefix sub-,$(SUBDIRS))

all: modules userspace

check-kdir:
	$(Q)test -d "$(KDIR)" || { echo "make: no kernel headers at KDIR=$(KDIR);" \
		"run 'make deps' or set KDIR" >&2; exit 1; }

# Warnings in our own sources fail the build (W=1 adds the kernel's extra warnings).
modules: check-kdir
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 KCFLAGS=-Werror $(if $(filter 1,$(V)),V=1,) modules

userspace: $(addprefix sub-,$(SUBDIRS))

$(addprefix sub-,$(SUBDIRS)): sub-%:
	$(Q)if [ -f $*/Makefile ]; then $(MAKE) -C $*; fi

deps:
	$(Q)scripts/install-deps.sh

bench: deps
	$(Q)$(MAKE) all
	$(Q)if [ "$(KERNEL)" = rust ]; then scripts/rust-twins.sh; fi
	$(Q)bench/twinbench run --kernel $(KERNEL) \
		$(if $(PROFILE),--profile $(PROFILE)) $(if $(MATRIX),--matrix $(MATRIX)) \
		$(if $(FAMILIES),--families $(FAMILIES)) --mode $(MODE) $(if $(CLOCK),--clock $(CLOCK))

test: deps
	$(Q)$(MAKE) all
	$(Q)$(MAKE) -C bench unit-tests
	$(Q)tests/run.sh

# Planted faults (tests/faults/): each in a scratch copy of the built tree; not in make test.
test-faults: deps
	$(Q)$(MAKE) all
	$(Q)$(MAKE) -C bench unit-tests
	$(Q)tests/faults/run.sh $(FAULTS)

# The Rust arm (docs/rust-arm.md): opt-in, not part of make test.
rust-kernel: deps
	$(Q)scripts/rust-kernel.sh

rust-twins: rust-kernel
	$(Q)scripts/rust-twins.sh

test-rust: rust-twins
	$(Q)$(MAKE) userspace
	$(Q)tests/run.sh --kernel rust vm --only null --only rnull

report:
	$(Q)$(MAKE) userspace
	$(Q)bench/twinbench report $(RUN)

clean:
	$(Q)if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(Q)for d in $(SUBDIRS); do if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean; fi; done
	$(Q)rm -rf build
