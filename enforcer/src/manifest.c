/* SPDX-License-Identifier: Apache-2.0
 * Strict parser for /.slipway/manifest. Every malformed line is an error:
 * the manifest is the allow-list, so a half-understood manifest must not
 * silently allow (or deny) anything. */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase is rejected on purpose: one canonical spelling */
}

/* A path must be absolute and canonical, because it is compared byte for
 * byte with the kernel's view of the resolved file (readlink of
 * /proc/self/fd/N), which never contains "//", "." or ".." components or a
 * trailing slash. A non-canonical manifest path could never match, so it is
 * an injector bug we want to hear about. */
static const char *bad_path(const char *p, size_t n)
{
	size_t i, start;

	if (n == 0 || p[0] != '/')
		return "path must be absolute";
	if (n >= PATH_MAX)
		return "path too long";
	if (n == 1)
		return "path must name a file, not /";
	if (p[n - 1] == '/')
		return "path must not end with '/'";
	for (i = 1, start = 1; i <= n; i++) {
		if (i == n || p[i] == '/') {
			size_t len = i - start;
			if (len == 0)
				return "path must not contain '//'";
			if ((len == 1 && p[start] == '.') ||
			    (len == 2 && p[start] == '.' && p[start + 1] == '.'))
				return "path must not contain '.' or '..' components";
			start = i + 1;
		}
	}
	return NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct mentry *)a)->path, ((const struct mentry *)b)->path);
}

int manifest_parse(struct manifest *m, char *buf, size_t len, char *err, size_t errlen)
{
	size_t i, lines = 0, n = 0;
	char *p = buf, *end = buf + len;
	uint32_t lineno = 0;

	m->e = NULL;
	m->n = 0;
	if (memchr(buf, '\0', len))
		return fail(err, errlen, "manifest contains a NUL byte");
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	if (len > 0 && buf[len - 1] != '\n')
		return fail(err, errlen, "line %zu: missing final newline (truncated file?)", lines + 1);
	if (lines > 0) {
		m->e = calloc(lines, sizeof *m->e);
		if (!m->e)
			return fail(err, errlen, "out of memory for %zu manifest lines", lines);
	}

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)); /* exists: checked above */
		char *q = p;
		struct mentry *e;
		uint64_t size = 0;
		uint32_t mode = 0;
		const char *why;
		int k;

		lineno++;
		*nl = '\0';
		if (q == nl || *q == '#') { /* blank line or comment */
			p = nl + 1;
			continue;
		}
		e = &m->e[n];
		/* <sha256: 64 lowercase hex> */
		for (k = 0; k < 32; k++, q += 2) {
			int hi, lo;
			if (nl - q < 2 || (hi = hexval(q[0])) < 0 || (lo = hexval(q[1])) < 0) {
				fail(err, errlen, "line %u: expected 64 lowercase hex digits of sha256", lineno);
				goto bad;
			}
			e->sha256[k] = (uint8_t)(hi << 4 | lo);
		}
		if (*q != ' ') {
			fail(err, errlen, "line %u: expected one space after the 64-digit sha256", lineno);
			goto bad;
		}
		q++;
		/* <size: decimal, no sign, no leading zeros> */
		if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] >= '0' && q[1] <= '9')) {
			fail(err, errlen, "line %u: expected file size in decimal", lineno);
			goto bad;
		}
		for (; *q >= '0' && *q <= '9'; q++) {
			if (size > ((uint64_t)INT64_MAX - (uint64_t)(*q - '0')) / 10) {
				fail(err, errlen, "line %u: file size too large", lineno);
				goto bad;
			}
			size = size * 10 + (uint64_t)(*q - '0');
		}
		if (*q != ' ') {
			fail(err, errlen, "line %u: expected one space after the size", lineno);
			goto bad;
		}
		q++;
		/* <mode: exactly four octal digits, e.g. 0755> */
		for (k = 0; k < 4; k++, q++) {
			if (*q < '0' || *q > '7') {
				fail(err, errlen, "line %u: expected mode as four octal digits (e.g. 0755)", lineno);
				goto bad;
			}
			mode = mode * 8 + (uint32_t)(*q - '0');
		}
		if (*q != ' ') {
			fail(err, errlen, "line %u: expected one space after the mode", lineno);
			goto bad;
		}
		q++;
		/* <path: rest of the line> */
		if ((why = bad_path(q, (size_t)(nl - q))) != NULL) {
			fail(err, errlen, "line %u: %s", lineno, why);
			goto bad;
		}
		e->path = q;
		e->size = size;
		e->mode = mode;
		e->line = lineno;
		n++;
		p = nl + 1;
	}

	if (n > 1)
		qsort(m->e, n, sizeof *m->e, cmp_entry);
	for (i = 1; i < n; i++) {
		if (strcmp(m->e[i - 1].path, m->e[i].path) == 0) {
			uint32_t a = m->e[i - 1].line, b = m->e[i].line;
			fail(err, errlen, "line %u: duplicate path (first listed on line %u)",
			     a > b ? a : b, a > b ? b : a);
			goto bad;
		}
	}
	m->n = n;
	return 0;
bad:
	free(m->e);
	m->e = NULL;
	m->n = 0;
	return -1;
}

void manifest_free(struct manifest *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

struct mentry *manifest_find(const struct manifest *m, const char *path)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, m->e[mid].path);
		if (c == 0)
			return &m->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, len = 0;
	int fd, saved;

	/* O_NONBLOCK: a FIFO planted at the path must not hang PID 1; it is
	 * then rejected as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto err;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto err;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto err;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		goto err;
	for (;;) { /* read until EOF; the file may change size under us */
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			errno = EFBIG; /* grew while reading: refuse a moving target */
			goto err;
		}
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
err:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}
