/* SPDX-License-Identifier: Apache-2.0
 * The image manifest: which executables the image shipped with. Format is
 * documented in enforcer/README.md ("Manifest format"). */
#ifndef SLIPWAY_MANIFEST_H
#define SLIPWAY_MANIFEST_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct mentry {
	const char *path;       /* NUL-terminated, points into manifest.buf */
	uint64_t size;
	uint32_t mode;          /* permission bits, & 07777 */
	uint32_t line;          /* source line, for diagnostics */
	uint8_t sha256[32];
	/* Verification cache: the identity of the file whose content last
	 * hashed equal to sha256. Filled in the supervisor (no allocation). */
	int verified;
	dev_t dev;
	ino_t ino;
	off_t vsize;
	struct timespec mtime, ctime;
};

struct manifest {
	struct mentry *e;       /* sorted by path (strcmp) */
	size_t n;
	char *buf;              /* owns the text the paths point into */
};

/* Parse `len` bytes at `buf` (modified in place; must stay alive while the
 * manifest is used). On success returns 0 and fills *m (m->buf is NOT set:
 * the caller owns buf). On error returns -1 and writes a message into err. */
int manifest_parse(struct manifest *m, char *buf, size_t len, char *err, size_t errlen);

/* Free what manifest_parse allocated (m->e), not the text buffer. */
void manifest_free(struct manifest *m);

/* Binary search by canonical absolute path. */
struct mentry *manifest_find(const struct manifest *m, const char *path);

/* Read a whole file (up to max bytes) into a fresh NUL-terminated heap
 * buffer. Returns 0, or -1 with errno set (EFBIG if larger than max). */
int read_file(const char *path, size_t max, char **out, size_t *outlen);

#endif
