/* SPDX-License-Identifier: GPL-2.0 */
/*
 * role.h - the one list of what an arm is in the twin design. The family tables give each
 * arm its role, the runner writes it into the run folder (facts.h), and every later stage
 * reads it from there: no stage tells a role from an arm's name.
 */
#ifndef TWINBENCH_ROLE_H
#define TWINBENCH_ROLE_H

/*
 * ARM_RAW: the raw C twin. ARM_SAFE: the safe C twin. ARM_RUST: a Rust driver (the Rust
 * twin, or upstream's Rust driver rnull), compared against the C arms. ARM_UPSTREAM: the
 * stock C driver. ARM_VARIANT: the safe twin with one mechanism compiled out. ARM_NONE: an
 * arm the run folder says nothing about.
 */
enum arm_role { ARM_RAW, ARM_SAFE, ARM_RUST, ARM_UPSTREAM, ARM_VARIANT, ARM_NONE };

/* "raw", "safe", "rust", "upstream", "variant", "none". */
const char *arm_role_name(enum arm_role role);
/* The role named @name; ARM_NONE when it names none. */
enum arm_role arm_role_parse(const char *name);

#endif /* TWINBENCH_ROLE_H */
