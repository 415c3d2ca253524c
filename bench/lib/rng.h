/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rng.h - the seeded random generator behind every draw the suite makes (the
 * sample order of a plan, the statistics' resamplings): same seed, same stream,
 * on every machine.
 */
#ifndef TWINBENCH_RNG_H
#define TWINBENCH_RNG_H

#include <stdint.h>

/* xoshiro256** state, seeded through splitmix64: same seed, same stream. */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform integer in [0, bound); bound must be > 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);

#endif /* TWINBENCH_RNG_H */
