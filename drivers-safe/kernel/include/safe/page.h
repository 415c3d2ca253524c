/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/page.h - an owned page of memory, read and written through checked ranges.
 *
 * Stands for Rust-for-Linux's kernel::page::Page: an owned order-0 page, freed by its
 * owner (Drop), whose contents are only reached by copying to or from a slice at a page
 * offset (Page::read_raw / write_raw), with the range checked against
 * PAGE_SIZE and the page mapped only for the copy.
 *
 * struct safe_page is opaque: a pointer to it is a pointer to the struct page it owns.
 * Invariant: a struct safe_page * from safe_page_alloc() owns its page until
 * safe_page_free().
 *
 * Range checks follow -DSAFE_NO_BOUNDS (see bounds.h).
 */
#ifndef SAFE_PAGE_H
#define SAFE_PAGE_H

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <safe/bounds.h>
#include <safe/error.h>
#include <safe/owned.h>

struct safe_page;

static __always_inline struct page *__safe_page_raw(struct safe_page *pg)
{
	/* SAFETY: every struct safe_page * is a struct page * (see safe_page_alloc()). */
	return (struct page *)pg;
}

/* A new page with unspecified contents, or NULL. */
static __always_inline struct safe_page *safe_page_alloc(gfp_t gfp)
{
	return (struct safe_page *)alloc_page(gfp);
}

static __always_inline void safe_page_free(struct safe_page *pg)
{
	__free_page(__safe_page_raw(pg));
}

/* SAFE_OWNED(safe_page, p) frees the page at scope end unless moved out. */
SAFE_DEFINE_DROP(safe_page, safe_page_free);

/* Copy @src into the page at byte offset @off. Fails if the range leaves the page. */
static __always_inline __must_check struct safe_result safe_page_write(struct safe_page *pg, size_t off,
							  struct safe_slice src)
{
	void *map;

	if (!safe_range_ok(off, src.len, PAGE_SIZE))
		return safe_err(-EINVAL);
	/* SAFETY: we own the page; off + src.len <= PAGE_SIZE was checked. */
	map = kmap_local_page(__safe_page_raw(pg));
	memcpy(map + off, src.ptr, src.len);
	kunmap_local(map);
	return safe_ok();
}

/* Copy the page's bytes at offset @off into @dst. Fails if the range leaves the page. */
static __always_inline __must_check struct safe_result safe_page_read(struct safe_page *pg, size_t off,
							 struct safe_slice dst)
{
	void *map;

	if (!safe_range_ok(off, dst.len, PAGE_SIZE))
		return safe_err(-EINVAL);
	/* SAFETY: we own the page; off + dst.len <= PAGE_SIZE was checked. */
	map = kmap_local_page(__safe_page_raw(pg));
	memcpy(dst.ptr, map + off, dst.len);
	kunmap_local(map);
	return safe_ok();
}

#endif /* SAFE_PAGE_H */
