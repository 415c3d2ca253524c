# SPDX-License-Identifier: GPL-2.0
# ablation.mk - the overhead-breakdown variants of a safe module (GitHub issue 8).
#
# A variant is the same driver source built with one SAFE_NO_<MECHANISM> switch defined
# (drivers-safe/kernel/README.md), or with every switch defined (noall: the layer with no
# mechanism left, so what it still costs over the raw twin is what no switch removes), as a
# module of its own, <module>_no<mechanism>.ko, with the same parameters and device names.
# Its only source is a generated one-line wrapper, ablation_<variant>.c, that includes the
# driver's source; the switches come from CFLAGS.
#
# Use in a safe driver's Kbuild, after its own obj-m lines:
#   include $(src)/../kernel/ablation.mk
#   $(call safe_variants,MODULE,SOURCE-BASENAME,MECHANISMS)
# where MECHANISMS are the suffixes below that change the driver's code.

safe_switch_noerror := SAFE_NO_ERROR_CHECK
safe_switch_nochecked := SAFE_NO_CHECKED_ARITH
safe_switch_nobounds := SAFE_NO_BOUNDS
safe_switch_noarc := SAFE_NO_ARC
safe_switch_noguards := SAFE_NO_GUARDS
safe_switch_noreqref := SAFE_NO_REQ_REFCOUNT
safe_switch_nommio := SAFE_NO_MMIO_CHECK
safe_switch_noskbown := SAFE_NO_SKB_OWNERSHIP
safe_switch_noadapter := SAFE_NO_OPS_ADAPTER
safe_switch_noresult := SAFE_NO_RESULT_CONV
# Every switch above (expanded here, before noall itself is defined).
safe_switch_noall := $(foreach v,$(filter safe_switch_no%,$(.VARIABLES)),$($(v)))

# $(1) module, $(2) source basename (without .c), $(3) mechanism suffix
define safe_variant
obj-m += $(1)_$(3).o
$(1)_$(3)-y := ablation_$(1)_$(3).o
CFLAGS_ablation_$(1)_$(3).o := $$(addprefix -D,$$(safe_switch_$(3)))
clean-files += ablation_$(1)_$(3).c
$$(obj)/ablation_$(1)_$(3).c: $$(src)/../kernel/ablation.mk
	$$(Q)echo '#include "$(2).c"' > $$@
endef

safe_variants = $(foreach m,$(3),$(if $(safe_switch_$(m)),\
	$(eval $(call safe_variant,$(1),$(2),$(m))),\
	$(error ablation.mk: unknown mechanism '$(m)' for $(1))))
