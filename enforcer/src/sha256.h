/* SPDX-License-Identifier: 0BSD
 * Minimal SHA-256 (FIPS 180-4). Written for slipway-enforcer; no external deps. */
#ifndef SLIPWAY_SHA256_H
#define SLIPWAY_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;     /* total bytes hashed so far */
	uint8_t buf[64];  /* pending partial block */
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);

#endif
