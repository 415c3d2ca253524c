/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twinmark.h - the marker the guest executes to open and close a measurement window, shared
 * by the guest tool (twinmark.c), which writes it, and the QEMU plugin (insncount.c), which
 * recognises it while translating guest code.
 *
 * A marker is three 7-byte `nopl disp32(%rax)` instructions in a row whose displacements
 * carry a magic word, the operation and the window id (or an address), followed by `ret`. The bytes do
 * nothing on a real CPU, so the same runner works with or without the plugin, and no
 * compiler emits a no-op with that displacement.
 */
#ifndef TWINMARK_H
#define TWINMARK_H

#include <stdint.h>
#include <string.h>

#define TWINMARK_MAGIC		0x4b4d5754u	/* "TWMK" in memory order */
#define TWINMARK_INSN_LEN	7
#define TWINMARK_INSNS		3		/* magic, operation, window id */

/*
 * TWINMARK_POLL names a kernel function the poll loop calls once per turn (a block
 * driver's poll op), watched until the next window closes; TWINMARK_DONE one that runs
 * once per completed I/O, watched for the rest of the boot. The payload is the low 32 bits
 * of the function's address (kernel text lies in the top 2 GiB, whose high half is all
 * ones).
 */
enum twinmark_op {
	TWINMARK_START = 1,
	TWINMARK_STOP = 2,
	TWINMARK_POLL = 3,
	TWINMARK_DONE = 4,
};

/* The kernel address whose low 32 bits a TWINMARK_POLL payload carries. */
#define TWINMARK_KERNEL_HIGH	0xffffffff00000000ull

/* The opcode and ModRM bytes of `nopl disp32(%rax)`; the displacement follows. */
static const uint8_t twinmark_nop_prefix[3] = { 0x0f, 0x1f, 0x80 };

/* Write the marker nop carrying @payload at @p (TWINMARK_INSN_LEN bytes). */
static inline void twinmark_put(uint8_t *p, uint32_t payload)
{
	memcpy(p, twinmark_nop_prefix, sizeof(twinmark_nop_prefix));
	for (int i = 0; i < 4; i++)
		p[3 + i] = (uint8_t)(payload >> (8 * i));
}

/* If @p (of @len bytes) is a marker nop, store its payload in @payload and return 1. */
static inline int twinmark_get(const uint8_t *p, size_t len, uint32_t *payload)
{
	if (len != TWINMARK_INSN_LEN || memcmp(p, twinmark_nop_prefix, sizeof(twinmark_nop_prefix)))
		return 0;
	*payload = (uint32_t)p[3] | (uint32_t)p[4] << 8 | (uint32_t)p[5] << 16 |
		   (uint32_t)p[6] << 24;
	return 1;
}

#endif /* TWINMARK_H */
