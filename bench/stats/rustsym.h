/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rustsym.h - the source path of a mangled Rust symbol, as the twin map names Rust
 * functions: kallsyms and the instruction profiles carry Rust symbols mangled (v0 "_R..."
 * or legacy "_ZN...E"), drivers-safe/twins.tsv names them `function` or `Type::method`.
 */
#ifndef TWINBENCH_RUSTSYM_H
#define TWINBENCH_RUSTSYM_H

#include <stddef.h>

/*
 * rustsym_path - the twin-map name of Rust symbol @sym into @out (@len bytes): a method of
 * an impl (inherent or of a trait) as "Type::method", its self type's own name without
 * module path or generic arguments; any other function by its own name; a closure or shim
 * as the function it belongs to. 0, or -1 when @sym is not a mangled Rust symbol this
 * understands or the name does not fit.
 */
int rustsym_path(const char *sym, char *out, size_t len);

#endif
