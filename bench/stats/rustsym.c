// SPDX-License-Identifier: GPL-2.0
/*
 * rustsym.c - just enough of Rust's two symbol manglings to name a Rust function the way
 * the twin map does (rustsym.h). Debian packages rustc-demangle only as a Rust crate (and
 * rustfilt, a tool); libiberty's demangler knows Rust too, but prints whole paths with
 * generic arguments that would need parsing as text all the same. So this reads the
 * grammars of the v0 scheme (RFC 2603) and of the legacy Itanium-like one, keeping only the
 * last identifier and the self type of an enclosing impl; generic arguments, crates,
 * disambiguators and hashes are parsed and dropped.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rustsym.h"
#include "util.h"

/* Deeper nesting than this is refused (a mangled name is untrusted input). */
#define RUSTSYM_MAX_DEPTH 64

/* v0 ---------------------------------------------------------------------------------- */

/* A v0 symbol being read: @s is the text after "_R", backrefs are offsets into it. */
struct v0 {
	const char *s;
	size_t n, pos;
	int depth;
};

/* What a path names: a crate, an item (function, type, module) or an impl's self type. */
enum v0_kind { V0_CRATE, V0_ITEM, V0_IMPL };

struct v0_name {
	enum v0_kind kind;
	const char *name;	/* the identifier, or the impl's self type name */
	size_t len;
	const char *owner;	/* an item's enclosing impl's self type name, else NULL */
	size_t owner_len;
};

static bool v0_path(struct v0 *p, struct v0_name *out);
static bool v0_type(struct v0 *p, const char **name, size_t *len);

static char v0_peek(const struct v0 *p)
{
	return p->pos < p->n ? p->s[p->pos] : '\0';
}

static bool v0_eat(struct v0 *p, char c)
{
	if (v0_peek(p) != c)
		return false;
	p->pos++;
	return true;
}

/* base-62-number: "_" is 0, digits 0-9a-zA-Z then "_" are that value plus one. */
static bool v0_b62(struct v0 *p, uint64_t *v)
{
	uint64_t x = 0;
	char c;

	if (v0_eat(p, '_')) {
		*v = 0;
		return true;
	}
	while ((c = v0_peek(p)) && c != '_') {
		int d = isdigit((unsigned char)c) ? c - '0' :
			islower((unsigned char)c) ? c - 'a' + 10 :
			isupper((unsigned char)c) ? c - 'A' + 36 : -1;

		if (d < 0 || x > (UINT64_MAX - 62) / 62)
			return false;
		x = x * 62 + d;
		p->pos++;
	}
	if (!v0_eat(p, '_'))
		return false;
	*v = x + 1;
	return true;
}

static bool v0_disambiguator(struct v0 *p)
{
	uint64_t v;

	return !v0_eat(p, 's') || v0_b62(p, &v);
}

/* undisambiguated-identifier: ["u"] decimal ["_"] bytes; a decimal is "0" or 1-9 first. */
static bool v0_raw_ident(struct v0 *p, const char **id, size_t *len)
{
	size_t k = 0;

	v0_eat(p, 'u');
	if (!isdigit((unsigned char)v0_peek(p)))
		return false;
	if (v0_eat(p, '0'))
		goto bytes;
	while (isdigit((unsigned char)v0_peek(p))) {
		if (k > p->n)
			return false;
		k = k * 10 + (size_t)(p->s[p->pos++] - '0');
	}
bytes:
	v0_eat(p, '_');
	if (k > p->n - p->pos)
		return false;
	*id = p->s + p->pos;
	*len = k;
	p->pos += k;
	return true;
}

static bool v0_ident(struct v0 *p, const char **id, size_t *len)
{
	return v0_disambiguator(p) && v0_raw_ident(p, id, len);
}

/* "B" base-62-number: runs @fn at an earlier offset, then continues after the backref. */
static bool v0_backref(struct v0 *p, size_t *saved)
{
	size_t at = p->pos - 1;
	uint64_t v;

	if (!v0_b62(p, &v) || v >= at)
		return false;
	*saved = p->pos;
	p->pos = v;
	return true;
}

static bool v0_lifetime_opt(struct v0 *p)
{
	uint64_t v;

	return !v0_eat(p, 'L') || v0_b62(p, &v);
}

static bool v0_binder_opt(struct v0 *p)
{
	uint64_t v;

	return !v0_eat(p, 'G') || v0_b62(p, &v);
}

/* const: "p", a backref, or a basic type's letter and its hex digits ("n" negative). */
static bool v0_const(struct v0 *p)
{
	size_t saved;
	bool ok;

	if (v0_eat(p, 'p'))
		return true;
	if (v0_eat(p, 'B')) {
		if (!v0_backref(p, &saved))
			return false;
		ok = v0_const(p);
		p->pos = saved;
		return ok;
	}
	if (!islower((unsigned char)v0_peek(p)))
		return false;
	p->pos++;
	v0_eat(p, 'n');
	while (isxdigit((unsigned char)v0_peek(p)))
		p->pos++;
	return v0_eat(p, '_');
}

static bool v0_generic_arg(struct v0 *p)
{
	const char *n;
	size_t l;

	if (v0_eat(p, 'L')) {
		uint64_t v;

		return v0_b62(p, &v);
	}
	if (v0_eat(p, 'K'))
		return v0_const(p);
	return v0_type(p, &n, &l);
}

/* fn-sig: [binder] ["U"] ["K" abi] {type} "E" type. */
static bool v0_fn_sig(struct v0 *p)
{
	const char *n;
	size_t l;

	if (!v0_binder_opt(p))
		return false;
	v0_eat(p, 'U');
	if (v0_eat(p, 'K') && !v0_eat(p, 'C') && !v0_raw_ident(p, &n, &l))
		return false;
	while (!v0_eat(p, 'E'))
		if (!v0_peek(p) || !v0_type(p, &n, &l))
			return false;
	return v0_type(p, &n, &l);
}

/* dyn-bounds: [binder] {path {"p" name type}} "E", then a lifetime. */
static bool v0_dyn_bounds(struct v0 *p)
{
	struct v0_name t;
	const char *n;
	size_t l;

	if (!v0_binder_opt(p))
		return false;
	while (!v0_eat(p, 'E')) {
		if (!v0_peek(p) || !v0_path(p, &t))
			return false;
		while (v0_eat(p, 'p'))
			if (!v0_raw_ident(p, &n, &l) || !v0_type(p, &n, &l))
				return false;
	}
	return v0_eat(p, 'L') && v0_b62(p, &(uint64_t){ 0 });
}

static const char *const v0_basic[26] = {
	['a' - 'a'] = "i8", ['b' - 'a'] = "bool", ['c' - 'a'] = "char", ['d' - 'a'] = "f64",
	['e' - 'a'] = "str", ['f' - 'a'] = "f32", ['h' - 'a'] = "u8", ['i' - 'a'] = "isize",
	['j' - 'a'] = "usize", ['l' - 'a'] = "i32", ['m' - 'a'] = "u32", ['n' - 'a'] = "i128",
	['o' - 'a'] = "u128", ['p' - 'a'] = "_", ['s' - 'a'] = "i16", ['t' - 'a'] = "u16",
	['u' - 'a'] = "()", ['v' - 'a'] = "...", ['x' - 'a'] = "i64", ['y' - 'a'] = "u64",
	['z' - 'a'] = "!",
};

/* A type; @name gets its own name (an ADT's last identifier, a basic type's spelling). */
static bool v0_type(struct v0 *p, const char **name, size_t *len)
{
	char c = v0_peek(p);
	struct v0_name t;
	size_t saved;
	bool ok = false;

	if (++p->depth > RUSTSYM_MAX_DEPTH)
		return false;
	if (c >= 'a' && c <= 'z' && v0_basic[c - 'a']) {
		p->pos++;
		*name = v0_basic[c - 'a'];
		*len = strlen(*name);
		ok = true;
	} else if (c == 'A' || c == 'S' || c == 'R' || c == 'Q' || c == 'P' || c == 'O') {
		p->pos++;
		ok = (c != 'R' && c != 'Q') || v0_lifetime_opt(p);
		ok = ok && v0_type(p, name, len);
		if (ok && c == 'A')
			ok = v0_const(p);
	} else if (c == 'F') {
		p->pos++;
		*name = "fn";
		*len = 2;
		ok = v0_fn_sig(p);
	} else if (c == 'T') {
		p->pos++;
		*name = "()";
		*len = 2;
		ok = true;
		while (ok && !v0_eat(p, 'E'))
			ok = v0_peek(p) && v0_type(p, &(const char *){ NULL }, &(size_t){ 0 });
	} else if (c == 'D') {
		p->pos++;
		*name = "dyn";
		*len = 3;
		ok = v0_dyn_bounds(p);
	} else if (c == 'B') {
		p->pos++;
		if (v0_backref(p, &saved)) {
			ok = v0_type(p, name, len);
			p->pos = saved;
		}
	} else if (v0_path(p, &t)) {
		*name = t.name;
		*len = t.len;
		ok = true;
	}
	p->depth--;
	return ok;
}

static bool v0_path(struct v0 *p, struct v0_name *out)
{
	struct v0_name in;
	const char *id;
	size_t saved, idl;
	char c = v0_peek(p), ns;
	bool ok = false;

	if (++p->depth > RUSTSYM_MAX_DEPTH || !c)
		return false;
	p->pos++;
	switch (c) {
	case 'C':
		ok = v0_ident(p, &out->name, &out->len);
		out->kind = V0_CRATE;
		out->owner = NULL;
		break;
	case 'N':
		ns = v0_peek(p);
		if (!isalpha((unsigned char)ns))
			break;
		p->pos++;
		if (!v0_path(p, &in) || !v0_ident(p, &id, &idl))
			break;
		ok = true;
		/* A closure or shim (upper-case namespace) is part of its function. */
		if (isupper((unsigned char)ns)) {
			*out = in;
			break;
		}
		out->kind = V0_ITEM;
		out->name = id;
		out->len = idl;
		out->owner = in.kind == V0_IMPL ? in.name : NULL;
		out->owner_len = in.kind == V0_IMPL ? in.len : 0;
		break;
	case 'M':
	case 'X':
	case 'Y':
		if ((c != 'Y' && (!v0_disambiguator(p) || !v0_path(p, &in))) ||
		    !v0_type(p, &out->name, &out->len))
			break;
		ok = c == 'M' || v0_path(p, &in);
		out->kind = V0_IMPL;
		out->owner = NULL;
		break;
	case 'I':
		if (!v0_path(p, out))
			break;
		ok = true;
		while (ok && !v0_eat(p, 'E'))
			ok = v0_peek(p) && v0_generic_arg(p);
		break;
	case 'B':
		if (v0_backref(p, &saved)) {
			ok = v0_path(p, out);
			p->pos = saved;
		}
		break;
	}
	p->depth--;
	return ok;
}

static int v0_symbol(const char *sym, char *out, size_t len)
{
	struct v0 p = { .s = sym + 2, .n = strlen(sym + 2) };
	struct v0_name name;
	int n;

	while (isdigit((unsigned char)v0_peek(&p)))
		p.pos++;
	if (!v0_path(&p, &name) || name.kind != V0_ITEM)
		return -1;
	if (name.owner)
		n = snprintf(out, len, "%.*s::%.*s", (int)name.owner_len, name.owner,
			     (int)name.len, name.name);
	else
		n = snprintf(out, len, "%.*s", (int)name.len, name.name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Legacy --------------------------------------------------------------------------- */

/* The escapes of the legacy scheme that a type name may carry. */
static const struct {
	const char *code, *text;
} legacy_escapes[] = {
	{ "$LT$", "<" }, { "$GT$", ">" }, { "$RF$", "&" }, { "$BP$", "*" }, { "$C$", "," },
	{ "$SP$", "@" }, { "$u20$", " " }, { "$u27$", "'" }, { "$u5b$", "[" },
	{ "$u5d$", "]" }, { "$u7b$", "{" }, { "$u7d$", "}" }, { "$u7e$", "~" },
};

/* Decodes component @c (@n bytes) into @out: escapes, ".." as "::", a leading "_$". */
static bool legacy_decode(const char *c, size_t n, char *out, size_t len)
{
	const size_t n_esc = ARRAY_LEN(legacy_escapes);
	size_t o = 0, i = 0;

	if (n >= 2 && c[0] == '_' && c[1] == '$')
		i = 1;
	while (i < n) {
		const char *text = NULL;
		size_t cl = 0;

		if (o + 3 >= len)
			return false;
		if (c[i] == '.' && i + 1 < n && c[i + 1] == '.') {
			out[o++] = ':';
			out[o++] = ':';
			i += 2;
			continue;
		}
		for (size_t k = 0; c[i] == '$' && !text && k < n_esc; k++) {
			cl = strlen(legacy_escapes[k].code);
			if (cl <= n - i && !strncmp(c + i, legacy_escapes[k].code, cl))
				text = legacy_escapes[k].text;
		}
		if (text) {
			out[o++] = *text;
			i += cl;
		} else {
			out[o++] = c[i++];
		}
	}
	out[o] = '\0';
	return true;
}

/* The self type's own name in decoded "<path::Type<args> as Trait>" or "<Type>". */
static bool legacy_self(const char *impl, const char **name, size_t *len)
{
	const char *end, *start = impl + 1;
	int depth = 0;

	if (impl[0] != '<')
		return false;
	for (end = start; *end; end++) {
		if (*end == '<')
			depth++;
		else if (*end == '>' && depth-- == 0)
			break;
		else if (!depth && !strncmp(end, " as ", 4))
			break;
	}
	for (const char *q = start; q < end; q++)
		if (*q == '<') {
			end = q;
			break;
		}
	while (end > start && end[-1] == ' ')
		end--;
	for (const char *q = start; q + 1 < end; q++)
		if (q[0] == ':' && q[1] == ':')
			start = q + 2;
	*name = start;
	*len = (size_t)(end - start);
	return *len > 0;
}

static int legacy_symbol(const char *sym, char *out, size_t len)
{
	const char *comp[32], *p = sym + 3;
	size_t clen[32], nc = 0;
	char owner[1024], last[1024];
	const char *on = NULL;
	size_t ol = 0;
	int n;

	while (*p && *p != 'E') {
		char *end;
		unsigned long k = strtoul(p, &end, 10);

		if (end == p || !k || strnlen(end, k) < k || nc == 32)
			return -1;
		comp[nc] = end;
		clen[nc++] = k;
		p = end + k;
	}
	if (*p != 'E' || nc < 2)
		return -1;
	/* The hash ("h" and 16 hex digits), then closures, belong to the function. */
	if (clen[nc - 1] == 17 && comp[nc - 1][0] == 'h')
		nc--;
	while (nc > 2 && !strncmp(comp[nc - 1], "{{", 2))
		nc--;
	if (nc < 2 || !legacy_decode(comp[nc - 1], clen[nc - 1], last, sizeof(last)))
		return -1;
	last[strcspn(last, "<")] = '\0';
	if (nc > 2 || comp[0][0] == '_' || comp[0][0] == '$') {
		const char *c = comp[nc - 2];

		if (!legacy_decode(c, clen[nc - 2], owner, sizeof(owner)))
			return -1;
		if (owner[0] == '<') {
			if (!legacy_self(owner, &on, &ol))
				return -1;
		} else if (nc > 2 && isupper((unsigned char)owner[0])) {
			on = owner;
			ol = strcspn(owner, "<");
		}
	}
	if (on)
		n = snprintf(out, len, "%.*s::%s", (int)ol, on, last);
	else
		n = snprintf(out, len, "%s", last);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int rustsym_path(const char *sym, char *out, size_t len)
{
	if (!sym || !len)
		return -1;
	if (!strncmp(sym, "_R", 2))
		return v0_symbol(sym, out, len);
	if (!strncmp(sym, "_ZN", 3))
		return legacy_symbol(sym, out, len);
	return -1;
}
