/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/dma.h - typed DMA-coherent arrays and DMA-mapped request data.
 *
 * Stands for Rust-for-Linux's dma::CoherentAllocation<T> (a typed, counted, DMA-coherent
 * array freed on Drop; field_read/field_write and the dma_read!/dma_write! macros check every
 * index against the element count) and for the scatter-gather mapping of a request's pages
 * (the DMA-mapped segments an NVMe driver turns into PRPs).
 *
 * SAFE_DEFINE_DMA_ARRAY(name, T) declares struct name and:
 *	name_alloc(a, dev, count, gfp)	zeroed coherent array of @count T; Drop is name_free
 *	name_free(a)			free an owning array; a no-op on empty or borrowed ones
 *	name_sub(a, first, count, out)	borrowed view of [first, first + count), checked
 *	name_write(a, idx, val)		copy *val into element idx, checked (dma_write!)
 *	name_dma_of(a, idx, out)	device address of element idx, checked
 *	name_view(a, idx, &p)		read-only pointer to element idx once the device wrote it
 *	name_zero(a)			zero every element
 *	safe_dma_read_field(a, idx, field, out)	one field of element idx, READ_ONCE, checked
 *
 * SAFE_DEFINE_DMA_SGL(name, N) declares struct name, room for N mapped segments of one
 * request (kept in the request's PDU):
 *	safe_dma_map_rq(dev, r, m)	map the request's data; fails if it has more than N segments
 *	safe_dma_map_rq_single(dev, r, m, span, &mapped)	the same for a one-segment
 *					request within @span bytes of its page, without a list
 *	safe_dma_sgl_reset(m)		mark nothing mapped (before mapping a new request)
 *	safe_dma_sgl_seg(m, i, addr, len)	address and length of mapped segment i, checked
 *	safe_dma_unmap(dev, m)		unmap; a no-op when nothing is mapped
 *
 * Invariants: an array with cpu != NULL is valid for count elements, at device address dma;
 * it owns the memory if and only if dev != NULL. A sgl with nents != 0 holds a live mapping
 * of dma_nents segments.
 *
 * Switch: the index checks are bounds checks and follow -DSAFE_NO_BOUNDS (safe/bounds.h).
 */
#ifndef SAFE_DMA_H
#define SAFE_DMA_H

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <safe/blk_mq.h>
#include <safe/bounds.h>
#include <safe/checked.h>
#include <safe/compat.h>
#include <safe/error.h>

#define SAFE_DEFINE_DMA_ARRAY(name, type)				\
	struct name {							\
		struct device *dev;					\
		type *cpu;						\
		dma_addr_t dma;						\
		u32 count;						\
	};								\
									\
	static inline __must_check struct safe_result name##_alloc(struct name *a, struct device *dev, \
						      u32 count, gfp_t gfp) \
	{								\
		size_t bytes;						\
									\
		if (!count || !safe_checked_mul((size_t)count, sizeof(type), &bytes)) \
			return safe_err(-EINVAL);			\
		a->cpu = dma_alloc_coherent(dev, bytes, &a->dma, gfp);	\
		if (!a->cpu)						\
			return safe_err(-ENOMEM);			\
		a->dev = dev;						\
		a->count = count;					\
		return safe_ok();					\
	}								\
									\
	static inline void name##_free(struct name *a)			\
	{								\
		if (!a->cpu || !a->dev)					\
			return;						\
		/* SAFETY: an owning array was allocated with exactly this size. */ \
		dma_free_coherent(a->dev, (size_t)a->count * sizeof(type), a->cpu, a->dma); \
		a->cpu = NULL;						\
		a->count = 0;						\
	}								\
									\
	static __always_inline __must_check struct safe_result name##_sub(const struct name *a, u32 first, \
							     u32 count, struct name *out) \
	{								\
		if (!(__safe_range_ok(first, count, a->count) ||	\
		      __safe_out_of_bounds(first, count, a->count)))	\
			return safe_err(-ERANGE);			\
		/* SAFETY: [first, first + count) lies inside a (checked above). */ \
		out->dev = NULL;					\
		out->cpu = a->cpu + first;				\
		out->dma = a->dma + (dma_addr_t)first * sizeof(type);	\
		out->count = count;					\
		return safe_ok();					\
	}								\
									\
	static __always_inline __must_check struct safe_result name##_write(struct name *a, u32 idx, \
							       const type *val) \
	{								\
		if (!safe_index_ok(idx, a->count))			\
			return safe_err(-ERANGE);			\
		/* SAFETY: idx < count, and cpu is valid for count elements. */ \
		memcpy(&a->cpu[idx], val, sizeof(type));		\
		return safe_ok();					\
	}								\
									\
	static __always_inline __must_check struct safe_result name##_dma_of(const struct name *a, u32 idx, \
								dma_addr_t *out) \
	{								\
		if (!safe_index_ok(idx, a->count))			\
			return safe_err(-ERANGE);			\
		*out = a->dma + (dma_addr_t)idx * sizeof(type);		\
		return safe_ok();					\
	}								\
									\
	/* A read-only view of element @idx, once the device has written it (as_slice). */ \
	static __always_inline struct safe_result name##_view(const struct name *a, u32 idx, \
							      const type **out) \
	{								\
		if (!safe_index_ok(idx, a->count))			\
			return safe_err(-ERANGE);			\
		/* SAFETY: idx < count; the caller's command has completed. */ \
		*out = &a->cpu[idx];					\
		return safe_ok();					\
	}								\
									\
	static inline void name##_zero(struct name *a)			\
	{								\
		/* SAFETY: cpu is valid for count elements. */		\
		memset(a->cpu, 0, (size_t)a->count * sizeof(type));	\
	}

/* dma_read!(a[idx].field): yields a safe_result; on Ok, *@out holds the field. */
#define safe_dma_read_field(a, idx, field, out)				\
	({								\
		struct safe_result __dr = safe_err(-ERANGE);		\
									\
		if (safe_index_ok(idx, (a)->count)) {			\
			/* SAFETY: idx < count; the device may write it, so read once. */ \
			*(out) = READ_ONCE((a)->cpu[idx].field);	\
			__dr = safe_ok();				\
		}							\
		__dr;							\
	})

/* The mapping state of one request's data. */
struct safe_dma_sgl_state {
	int nents;		/* entries handed to dma_map_sg, 0 when unmapped */
	int dma_nents;		/* segments the mapping produced */
	enum dma_data_direction dir;
	dma_addr_t single_addr;	/* the one segment of a directly mapped bvec... */
	u32 single_len;		/* ...and its length, or 0 */
};

#define SAFE_DEFINE_DMA_SGL(name, max_segs)				\
	struct name {							\
		struct safe_dma_sgl_state st;				\
		struct scatterlist sg[max_segs];			\
	}

static inline __must_check struct safe_result __safe_dma_map_rq(struct device *dev, const struct safe_rq *r,
						   struct safe_dma_sgl_state *st,
						   struct scatterlist *sg, unsigned int max)
{
	unsigned int segs = blk_rq_nr_phys_segments(r->raw);
	int nents, mapped;

	if (unlikely(!segs || segs > max)) {
		pr_err_ratelimited("safe: request has %u segments, room for 1..%u\n", segs, max);
		return safe_err(-EIO);
	}
	sg_init_table(sg, segs);
	nents = compat_blk_rq_map_sg(r->raw, sg);
	if (unlikely(!nents))
		return safe_err(-EIO);
	st->dir = rq_dma_dir(r->raw);
	mapped = dma_map_sg_attrs(dev, sg, nents, st->dir, DMA_ATTR_NO_WARN);
	if (unlikely(!mapped))
		return safe_err(-ENOMEM);
	st->nents = nents;
	st->dma_nents = mapped;
	return safe_ok();
}

/*
 * The fast path of safe_dma_map_rq() for a request of one segment lying within @span bytes
 * of its page (NVMe: what PRP1 and PRP2 reach): its one bvec is mapped without a segment
 * list. *@mapped says whether it applied; when it did not, nothing is mapped.
 */
static inline __must_check struct safe_result __safe_dma_map_rq_single(struct device *dev,
							  const struct safe_rq *r,
							  struct safe_dma_sgl_state *st, u32 span,
							  bool *mapped)
{
	struct bio_vec bv;
	dma_addr_t addr;

	*mapped = false;
	if (blk_rq_nr_phys_segments(r->raw) != 1)
		return safe_ok();
	bv = req_bvec(r->raw);
	if (bv.bv_len != blk_rq_payload_bytes(r->raw) || bv.bv_len > span ||
	    bv.bv_offset > span - bv.bv_len)
		return safe_ok();
	st->dir = rq_dma_dir(r->raw);
	addr = dma_map_bvec(dev, &bv, st->dir, 0);
	if (dma_mapping_error(dev, addr))
		return safe_err(-ENOMEM);
	st->single_addr = addr;
	st->single_len = bv.bv_len;
	st->dma_nents = 1;
	*mapped = true;
	return safe_ok();
}

static __always_inline __must_check struct safe_result __safe_dma_sgl_seg(const struct safe_dma_sgl_state *st,
							     const struct scatterlist *sg,
							     unsigned int i, dma_addr_t *addr,
							     u32 *len)
{
	if (!safe_index_ok(i, (unsigned int)st->dma_nents))
		return safe_err(-ERANGE);
	if (st->single_len) {
		*addr = st->single_addr;
		*len = st->single_len;
		return safe_ok();
	}
	/* SAFETY: i < dma_nents <= the sg array length (map checked segs <= max). */
	*addr = sg_dma_address(&sg[i]);
	*len = sg_dma_len(&sg[i]);
	return safe_ok();
}

/* Nothing mapped: the state of a request before safe_dma_map_rq*(). */
static __always_inline void __safe_dma_sgl_reset(struct safe_dma_sgl_state *st)
{
	st->nents = 0;
	st->dma_nents = 0;
	st->single_len = 0;
}

static inline void __safe_dma_unmap(struct device *dev, struct safe_dma_sgl_state *st,
				    struct scatterlist *sg)
{
	if (st->single_len) {
		dma_unmap_page(dev, st->single_addr, st->single_len, st->dir);
		__safe_dma_sgl_reset(st);
		return;
	}
	if (!st->nents)
		return;
	dma_unmap_sg(dev, sg, st->nents, st->dir);
	st->nents = 0;
	st->dma_nents = 0;
}

#define safe_dma_map_rq(dev, r, m)					\
	__safe_dma_map_rq(dev, r, &(m)->st, (m)->sg, ARRAY_SIZE((m)->sg))
#define safe_dma_map_rq_single(dev, r, m, span, mapped)			\
	__safe_dma_map_rq_single(dev, r, &(m)->st, span, mapped)
#define safe_dma_sgl_reset(m)	__safe_dma_sgl_reset(&(m)->st)
#define safe_dma_sgl_seg(m, i, addr, len)				\
	__safe_dma_sgl_seg(&(m)->st, (m)->sg, i, addr, len)
#define safe_dma_unmap(dev, m)	__safe_dma_unmap(dev, &(m)->st, (m)->sg)

#endif /* SAFE_DMA_H */
