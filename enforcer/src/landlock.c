/* SPDX-License-Identifier: Apache-2.0
 * The Landlock ruleset of the exec gate (landlock(7)).
 *
 * Handled rights: EXECUTE, WRITE_FILE, TRUNCATE, REMOVE_FILE, MAKE_REG and
 * REFER. Everything a ruleset handles is denied unless a rule grants it,
 * and a rule on a directory grants its rights to everything below it.
 * Rules bind to inodes, not to names.
 *
 *  - Each manifest executable (a regular file with the listed mode and
 *    size) gets EXECUTE, and nothing else: no path to it may be opened for
 *    writing or truncated, so its bytes cannot change.
 *  - A "chain" directory is one that has an executable (or a protected
 *    file) somewhere below it. It gets no rule itself, since a rule there
 *    would reach the executables. Its other entries do get one: a
 *    directory that is not a chain directory gets all the write rights
 *    (WRITE_FILE, TRUNCATE, REMOVE_FILE, MAKE_REG, REFER) for its whole
 *    tree, and a file that is not an executable gets WRITE_FILE and
 *    TRUNCATE.
 *  - policy "allow" entries get EXECUTE (and the write rights: anything may
 *    run there, so there is nothing to keep unchanged).
 * What follows from this:
 *  - A new file (dropped, copied, or a replacement renamed into place) is a
 *    new inode without EXECUTE: the kernel refuses to exec it (EACCES).
 *  - An executable cannot be hard-linked or renamed into a writable
 *    directory: with REFER handled the kernel refuses a link or rename
 *    that would give the file rights it lacked where it was (EXDEV), and
 *    chain directories lack MAKE_REG and REMOVE_FILE themselves.
 *  - The app cannot create, remove or rename files directly in a chain
 *    directory (/, /usr/bin, /app when /app/server is listed, ...).
 * Landlock does not govern internal filesystems (memfd, pipes, sockets):
 * the enforcer's seccomp filter closes memfd_create (see enforcer.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

/* Newer than Debian 12's UAPI headers (Linux 6.1). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* Linux 6.2, ABI 3 */
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define R_EXEC ((uint64_t)LANDLOCK_ACCESS_FS_EXECUTE)
#define R_FILE ((uint64_t)(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE))
#define R_DIR (R_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
	       LANDLOCK_ACCESS_FS_REFER)
#define R_HANDLED (R_EXEC | R_DIR)

int landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

int landlock_enter(int ruleset_fd)
{
	return (int)syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
}

/* A directory path as (start, length): "/" or "/a/b" without a trailing
 * slash. Chain directories point into the manifest's own strings. */
struct span {
	const char *s;
	size_t n;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

struct builder {
	int rs;
	struct span *chain;
	size_t nchain, cap;
	const struct manifest *m;
	const char *const *protect;
	size_t nprotect;
	struct gate_stats *st;
	char *err;
	size_t errlen;
};

static int fail(struct builder *b, const char *what, const char *path)
{
	int e = errno;

	snprintf(b->err, b->errlen, "%s %s: %s", what, path, strerror(e));
	errno = e;
	return -1;
}

static int push(struct builder *b, const char *s, size_t n)
{
	if (b->nchain == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct span *v = realloc(b->chain, cap * sizeof *v);

		if (!v)
			return fail(b, "out of memory for", "chain directories");
		b->chain = v;
		b->cap = cap;
	}
	b->chain[b->nchain].s = s;
	b->chain[b->nchain].n = n;
	b->nchain++;
	return 0;
}

/* "/", "/a", "/a/b" for the path "/a/b/c". */
static int add_ancestors(struct builder *b, const char *path)
{
	size_t i;

	if (push(b, "/", 1) < 0)
		return -1;
	for (i = 1; path[i]; i++)
		if (path[i] == '/' && push(b, path, i) < 0)
			return -1;
	return 0;
}

static int add_rule(struct builder *b, int fd, uint64_t access, const char *path)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access, .parent_fd = fd };

	if (syscall(SYS_landlock_add_rule, b->rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == 0)
		return 1;
	/* EBADFD: an internal filesystem object, which Landlock does not
	 * govern anyway. */
	if (errno == EBADFD)
		return 0;
	return fail(b, "landlock_add_rule", path);
}

static int is_protected(const struct builder *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->nprotect; i++)
		if (strcmp(b->protect[i], path) == 0)
			return 1;
	return 0;
}

/* EXECUTE for one manifest entry, if the file is what the manifest says
 * (type, mode, size; the content is the image's, see README.md). */
static int grant_exec(struct builder *b, const struct mentry *e)
{
	struct stat st;
	int fd, r;

	fd = open(e->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		b->st->skipped++;
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		r = fail(b, "fstat", e->path);
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != e->mode ||
	    (uint64_t)st.st_size != e->size || is_protected(b, e->path)) {
		b->st->skipped++;
		close(fd);
		return 0;
	}
	r = add_rule(b, fd, R_EXEC, e->path);
	close(fd);
	if (r > 0)
		b->st->exec_rules++;
	return r < 0 ? -1 : 0;
}

/* policy "allow": "/x/" is a directory (everything below may run),
 * "/x" a file. Bound to what exists now. */
static int grant_allow(struct builder *b, const char *entry)
{
	char path[PATH_MAX];
	size_t n = strlen(entry);
	int dir = entry[n - 1] == '/', fd, r;
	struct stat st;

	if (dir && n > 1)
		n--;
	if (n >= sizeof path)
		return 0;
	memcpy(path, entry, n);
	path[n] = '\0';
	fd = open(path, O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : O_NOFOLLOW));
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0) {
		r = fail(b, "fstat", path);
	} else if (dir && S_ISDIR(st.st_mode)) {
		r = add_rule(b, fd, R_EXEC | R_DIR, path);
	} else if (!dir && S_ISREG(st.st_mode)) {
		r = add_rule(b, fd, R_EXEC | R_FILE, path);
	} else {
		r = 0;
	}
	close(fd);
	return r < 0 ? -1 : 0;
}

/* The entries of one chain directory: write rights for everything that is
 * neither a chain directory, an executable nor a protected file. */
static int fill_dir(struct builder *b, const struct span *d)
{
	char path[PATH_MAX];
	size_t plen = d->n == 1 ? 0 : d->n;
	struct dirent *de;
	DIR *dir;
	int dfd, r = 0;

	memcpy(path, d->s, d->n);
	path[d->n] = '\0';
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0
									 : fail(b, "open", path);
	dir = fdopendir(dfd);
	if (!dir) {
		r = fail(b, "fdopendir", path);
		close(dfd);
		return r;
	}
	path[plen] = '/';
	for (;;) {
		size_t nl;
		struct span c;
		struct stat st;
		unsigned char type;
		int fd;

		errno = 0;
		if (!(de = readdir(dir))) {
			if (errno) {
				path[plen] = '\0';
				r = fail(b, "readdir", plen ? path : "/");
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nl = strlen(de->d_name);
		if (plen + 1 + nl >= sizeof path)
			continue;
		memcpy(path + plen + 1, de->d_name, nl + 1);
		c.s = path;
		c.n = plen + 1 + nl;
		if (bsearch(&c, b->chain, b->nchain, sizeof *b->chain, span_cmp) ||
		    manifest_find(b->m, path) || is_protected(b, path))
			continue;
		type = de->d_type;
		if (type == DT_UNKNOWN) {
			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* gone meanwhile */
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		}
		if (type == DT_LNK) /* the target has rules of its own */
			continue;
		fd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		r = add_rule(b, fd, type == DT_DIR ? R_DIR : R_FILE, path);
		close(fd);
		if (r < 0)
			break;
		b->st->write_rules += (size_t)r;
		r = 0;
	}
	closedir(dir);
	return r;
}

int landlock_build(const struct manifest *m, const struct policy *p, const char *const *protect,
		   size_t nprotect, struct gate_stats *st, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = R_HANDLED };
	struct builder b = { .m = m, .protect = protect, .nprotect = nprotect, .st = st,
			     .err = err, .errlen = errlen };
	size_t i, j;
	int e;

	memset(st, 0, sizeof *st);
	b.rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (b.rs < 0)
		return fail(&b, "landlock_create_ruleset", "(exec gate)");
	for (i = 0; i < m->n; i++)
		if (add_ancestors(&b, m->e[i].path) < 0)
			goto bad;
	for (i = 0; i < nprotect; i++)
		if (protect[i][0] == '/' && add_ancestors(&b, protect[i]) < 0)
			goto bad;
	qsort(b.chain, b.nchain, sizeof *b.chain, span_cmp);
	for (i = j = 0; i < b.nchain; i++)
		if (j == 0 || span_cmp(&b.chain[j - 1], &b.chain[i]) != 0)
			b.chain[j++] = b.chain[i];
	b.nchain = j;
	st->chain_dirs = j;

	for (i = 0; i < m->n; i++)
		if (grant_exec(&b, &m->e[i]) < 0)
			goto bad;
	for (i = 0; i < p->nallow; i++)
		if (grant_allow(&b, p->allow[i]) < 0)
			goto bad;
	for (i = 0; i < b.nchain; i++)
		if (fill_dir(&b, &b.chain[i]) < 0)
			goto bad;
	free(b.chain);
	return b.rs;
bad:
	e = errno;
	free(b.chain);
	close(b.rs);
	errno = e;
	return -1;
}
