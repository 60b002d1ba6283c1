/* SPDX-License-Identifier: Apache-2.0
 *
 * slipway-enforcer: a tini-sized PID 1 that only lets a container run the
 * executables its image shipped with (drift prevention).
 *
 *   /.slipway/enforcer -- CMD ARGS...
 *
 * Design (details and rationale in README.md):
 *  - The enforcer forks. The child sets no_new_privs, installs a seccomp
 *    filter that sends execve/execveat to user space (SECCOMP_RET_USER_NOTIF,
 *    see seccomp(2) and seccomp_unotify(2)), hands the listener fd to the
 *    parent over a socketpair (SCM_RIGHTS, see unix(7)) and then execs CMD.
 *    The exec of CMD itself is therefore checked like every later exec.
 *  - The parent is the supervisor and PID 1: it polls the listener fd and a
 *    signalfd (signalfd(2)), answers notifications, forwards signals to the
 *    workload and reaps zombies.
 *  - An exec is allowed when the file it would run is a regular file listed
 *    in the manifest at its canonical path with the same mode, size and
 *    sha256, or when the canonical path is on the policy's allow list.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Kernel UAPI headers (found via -idirafter /usr/include; only linux/ and
 * asm/ headers are used so nothing from glibc's libc headers leaks in). */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "filter.h"
#include "landlock.h"
#include "manifest.h"
#include "policy.h"
#include "proxy.h"
#include "sha256.h"

/* Newer than the build host's UAPI headers (Linux 6.6). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#define STATX_MNT_ID_ 0x00001000U
/* memfd_create(2) flags newer than Debian 12's headers (Linux 6.3). */
#define MFD_NOEXEC_SEAL_ 0x0008U
#define MFD_EXEC_ 0x0010U
#ifndef MFD_NAME_MAX
#define MFD_NAME_MAX 249 /* NAME_MAX - strlen("memfd:"), mm/memfd.c */
#endif

#define PROG "slipway-enforcer"
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define MANIFEST_MAX (64u << 20)
#define POLICY_MAX (1u << 20)

/* --- configuration, loaded once at startup --------------------------- */

static struct manifest manifest;
static struct policy policy;
static int log_all;                     /* SLIPWAY_ENFORCER_LOG=all */
static pid_t workload = -1;

/* Which mechanism gates exec (README.md, "Choosing the gate"). */
static enum { GATE_SECCOMP, GATE_LANDLOCK } gate = GATE_SECCOMP;

/* Opened once at startup, close-on-exec. Each exec then needs no path
 * walk through "/proc" or "/proc/self", and a later mount over /proc
 * cannot change what we look at. -1 if the open failed: the code falls
 * back to the full paths (or, for root_dir, to the target's root). */
static int proc_dir = -1;               /* /proc */
static int selffd_dir = -1;             /* /proc/<our pid>/fd */
static int root_dir = -1;               /* our root, identity in our_root */

/* Identity of our own root, to decide whether the target's root is ours. */
static struct {
	uint64_t dev_major, dev_minor, ino, mnt_id;
	int have_mnt_id;
} our_root;

/* Scratch buffers for the hot path: no allocation after startup. */
static char req_path[PATH_MAX];         /* path as passed by the workload */
static char canon[PATH_MAX + 32];       /* resolved path, enforcer's view */
static char scratch[2 * PATH_MAX + 2];
static unsigned char hashbuf[1 << 16];
static char logbuf[6 * (2 * PATH_MAX + 2) + 1024];

/* --- error reporting -------------------------------------------------- */

static void vmsg(const char *kind, int err, const char *fmt, va_list ap)
{
	char buf[PATH_MAX + 512];
	int n;

	n = snprintf(buf, sizeof buf, PROG ": %s: ", kind);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	if (n < (int)sizeof buf - 2 && err)
		n += snprintf(buf + n, sizeof buf - (size_t)n, ": %s", strerror(err));
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
}

static void warnmsg(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning", err, fmt, ap);
	va_end(ap);
}

static void infomsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("info", 0, fmt, ap);
	va_end(ap);
}

static void hint(const char *h)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, PROG ": hint: %s\n", h);

	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Print "slipway-enforcer: error: <msg>[: <strerror(err)>]" and an optional
 * hint, then exit (like tini's and bubblewrap's die()). */
__attribute__((noreturn, format(printf, 4, 5)))
static void die(int code, int err, const char *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", err, fmt, ap);
	va_end(ap);
	if (h)
		hint(h);
	_exit(code);
}

/* --- decision log: one JSON object per line on stderr ----------------- */

static size_t json_str(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	/* worst case per input byte is 6 output bytes; callers size cap */
	while (*p && n + 7 < cap) {
		unsigned char c = *p;
		size_t len = 1, i;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'u';
			out[n++] = '0';
			out[n++] = '0';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else if (c < 0x80) {
			out[n++] = (char)c;
		} else {
			/* Pass valid UTF-8 through; replace invalid bytes with
			 * U+FFFD so the line stays valid JSON. */
			if (c >= 0xc2 && c <= 0xdf)
				len = 2;
			else if (c >= 0xe0 && c <= 0xef)
				len = 3;
			else if (c >= 0xf0 && c <= 0xf4)
				len = 4;
			else
				len = 0;
			for (i = 1; i < len; i++)
				if ((p[i] & 0xc0) != 0x80)
					len = 0;
			if (len == 0) {
				memcpy(out + n, "\\ufffd", 6);
				n += 6;
				len = 1;
			} else {
				memcpy(out + n, p, len);
				n += len;
			}
		}
		p += len;
	}
	return n;
}

/* Who made a logged call: its real uid and command name (comm), from
 * /proc/<pid>/status. uid -1 and an empty name when unreadable. */
struct who {
	long uid;
	char comm[64];
};

static void who_is(pid_t pid, struct who *w)
{
	char buf[1024], name[32], *p, *q;
	ssize_t n;
	int fd;

	w->uid = -1;
	w->comm[0] = '\0';
	snprintf(name, sizeof name, "%s%d/status", proc_dir >= 0 ? "" : "/proc/", (int)pid);
	fd = openat(proc_dir >= 0 ? proc_dir : AT_FDCWD, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (!strncmp(buf, "Name:\t", 6) && (q = strchr(buf + 6, '\n')) &&
	    (size_t)(q - buf - 6) < sizeof w->comm) {
		memcpy(w->comm, buf + 6, (size_t)(q - buf - 6));
		w->comm[q - buf - 6] = '\0';
	}
	if ((p = strstr(buf, "\nUid:\t")))
		w->uid = strtol(p + 6, NULL, 10);
}

/* One decision as ONE line on stderr: the prefix PROG ": " and a JSON
 * object (format in README.md, "Decision log"; "v" changes only if a
 * field changes meaning). sha may be NULL and who->uid -1 (null). */
static void log_decision(const char *decision, const char *path, const uint8_t *sha, pid_t pid,
			 const struct who *w, const char *rule, const char *detail,
			 const char *syscall_name)
{
	static const char hex[] = "0123456789abcdef";
	struct timespec ts;
	struct tm tm;
	size_t n = 0, cap = sizeof logbuf, i;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm))
		memset(&tm, 0, sizeof tm), ts.tv_nsec = 0;
	n += (size_t)snprintf(logbuf, cap,
			      PROG ": {\"v\":1,\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
			      "\"decision\":\"%s\",\"gate\":\"%s\",\"syscall\":\"%s\",\"path\":\"",
			      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			      tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, decision,
			      gate == GATE_LANDLOCK ? "landlock" : "seccomp", syscall_name);
	n += json_str(logbuf + n, cap - n - 512, path);
	n += (size_t)snprintf(logbuf + n, cap - n, "\",\"sha256\":");
	if (sha) {
		logbuf[n++] = '"';
		for (i = 0; i < 32; i++) {
			logbuf[n++] = hex[sha[i] >> 4];
			logbuf[n++] = hex[sha[i] & 15];
		}
		logbuf[n++] = '"';
	} else {
		n += (size_t)snprintf(logbuf + n, cap - n, "null");
	}
	n += (size_t)snprintf(logbuf + n, cap - n, ",\"pid\":%d,\"uid\":", (int)pid);
	if (w->uid >= 0)
		n += (size_t)snprintf(logbuf + n, cap - n, "%ld", w->uid);
	else
		n += (size_t)snprintf(logbuf + n, cap - n, "null");
	n += (size_t)snprintf(logbuf + n, cap - n, ",\"parent\":");
	if (w->comm[0]) {
		logbuf[n++] = '"';
		n += json_str(logbuf + n, cap - n - 400, w->comm);
		logbuf[n++] = '"';
	} else {
		n += (size_t)snprintf(logbuf + n, cap - n, "null");
	}
	n += (size_t)snprintf(logbuf + n, cap - n, ",\"rule\":\"%s\",\"detail\":\"", rule);
	n += json_str(logbuf + n, cap - n - 8, detail);
	n += (size_t)snprintf(logbuf + n, cap - n, "\"}\n");
	/* One write(2) per line so concurrent writers do not interleave it. */
	(void)!write(STDERR_FILENO, logbuf, n);
}

/* --- the seccomp filter (src/filter.h) ---------------------------------- */

static int install_filter(struct sock_filter *filter, size_t len)
{
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = filter };
	long fd;

	/* seccomp(2): without CAP_SYS_ADMIN a filter needs no_new_privs; we
	 * set it unconditionally so setuid binaries cannot escape the gate
	 * by gaining privileges (prctl(2), PR_SET_NO_NEW_PRIVS). Landlock
	 * needs it too (landlock_restrict_self(2)). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	/* WAIT_KILLABLE_RECV (Linux >= 5.19): once we picked up a notification
	 * only fatal signals interrupt the target, so a signal-heavy workload
	 * cannot make an exec restart over and over while we hash. */
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return (int)fd;
}

/* --- passing the listener fd from child to parent (unix(7) SCM_RIGHTS) - */

static int send_msg(int sock, char tag, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &tag, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Returns the tag ('F' listener fd, 'U' unguarded) or 0 on EOF (the child
 * died before reaching exec; its exit status tells why). */
static char recv_msg(int sock, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char tag = 0;
	struct iovec iov = { &tag, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			die(EXIT_CANNOT_EXEC, errno, NULL, "recvmsg from the workload process");
	if (r == 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof *fd);
	return tag;
}

/* --- statx without libc support (musl 1.2.3 has no statx wrapper) ------ */

struct kstatx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct kstatx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	struct kstatx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t mnt_id;
	uint64_t spare[13];
};
_Static_assert(sizeof(struct kstatx) == 256, "struct statx ABI size");

static int kstatx(int dirfd, const char *path, int flags, struct kstatx *st)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, STATX_MNT_ID_ | 0x7ffU /* BASIC_STATS */, st);
}

/* --- checking one exec ------------------------------------------------- */

enum verdict { V_NONE, V_ALLOW, V_DENY, V_ERRNO };

struct decision {
	enum verdict v;
	int err;                /* for V_ERRNO: errno handed back to the workload */
	const char *path;       /* what to log */
	const char *rule;       /* stable identifier, see README.md ("Decision log") */
	char reason[200];
	int have_sha;           /* sha: the file's SHA-256 (for the log) */
	uint8_t sha[32];
};

static enum verdict set(struct decision *d, enum verdict v, int err, const char *rule,
			const char *fmt, ...)
{
	va_list ap;

	d->v = v;
	d->err = err;
	d->rule = rule;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
	return v;
}

/* "<n>" appended at p (no stdio on the hot path); returns the new end. */
static char *put_uint(char *p, unsigned long v)
{
	char t[24];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = t[--n];
	return p;
}

/* Open "/proc/<pid>[/rest]" through proc_dir. The caller must check
 * SECCOMP_IOCTL_NOTIF_ID_VALID afterwards before trusting the result. */
static int proc_open(unsigned pid, const char *rest, int flags)
{
	char name[64], *p = name;

	if (proc_dir < 0)
		p = memcpy(p, "/proc/", 6) + 6;
	p = put_uint(p, pid);
	if (rest) {
		size_t l = strlen(rest);
		if (l > sizeof name - (size_t)(p - name) - 2)
			return errno = ENAMETOOLONG, -1;
		*p++ = '/';
		p = memcpy(p, rest, l) + l;
	}
	*p = '\0';
	return openat(proc_dir >= 0 ? proc_dir : AT_FDCWD, name, flags | O_CLOEXEC);
}

/* Our own /proc/self/fd/<fd>: returns the dirfd to use with *name. */
static int self_fd(char name[32], int fd)
{
	char *p = name;

	if (selffd_dir < 0)
		p = memcpy(p, "/proc/self/fd/", 14) + 14;
	*put_uint(p, (unsigned)fd) = '\0';
	return selffd_dir >= 0 ? selffd_dir : AT_FDCWD;
}

/* Whether process_vm_readv(2) works at all here, probed once at startup
 * on our own memory: Docker's default seccomp profile (Engine 20.10)
 * allows it only with CAP_SYS_PTRACE and answers EPERM without it, and
 * kernels without CONFIG_CROSS_MEMORY_ATTACH answer ENOSYS. */
static int vm_readv_works = 1;

/* Read a NUL-terminated string from the target. process_vm_readv(2) reads
 * the rest of the first page, and only if the string goes on, the rest up
 * to cap (each remote page is pinned, and most paths are short). A read
 * that runs into an unmapped page stops at the page boundary, so a string
 * ending just before one is still read whole. Where process_vm_readv is
 * refused (see vm_readv_works; ENOSYS or EPERM), pread(2) on
 * /proc/<pid>/mem (proc(5)) is used. Both need ptrace access to the
 * target, so a genuine ptrace refusal fails either way (the open of
 * /proc/<pid>/mem). If that open finds no /proc/<pid>, its errno goes to
 * *proc_err. Returns 0 or a negative errno. */
static int read_target_string(pid_t pid, int *proc_err, uint64_t addr, char *out, size_t cap)
{
	ssize_t r;
	size_t got = 0;
	int memfd;

	while (vm_readv_works && got < cap) {
		uint64_t a = addr + got;
		size_t chunk = got ? cap - got : 4096 - (size_t)(a & 4095);
		struct iovec local, remote;

		if (chunk > cap - got)
			chunk = cap - got;
		local.iov_base = out + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)a;
		remote.iov_len = chunk;
		r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (r > 0) {
			if (memchr(out + got, '\0', (size_t)r))
				return 0;
			got += (size_t)r;
			if ((size_t)r < chunk)
				return -EFAULT;
			continue;
		}
		if (r == 0 || (errno != ENOSYS && errno != EPERM))
			return r == 0 || errno == EFAULT ? -EFAULT : -errno;
		break;
	}
	if (got >= cap)
		return -ENAMETOOLONG; /* getname() limit: PATH_MAX */

	got = 0;
	memfd = proc_open((unsigned)pid, "mem", O_RDONLY);
	if (memfd < 0 && errno == ENOENT)
		*proc_err = ENOENT;
	if (memfd < 0)
		return -errno;
	while (got < cap) {
		uint64_t a = addr + got;
		size_t chunk = 4096 - (size_t)(a & 4095);

		if (a > (uint64_t)INT64_MAX) {
			got = 0;
			break;
		}
		if (chunk > cap - got)
			chunk = cap - got;
		r = pread(memfd, out + got, chunk, (off_t)a);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (memchr(out + got, '\0', (size_t)r)) {
			close(memfd);
			return 0;
		}
		got += (size_t)r;
	}
	close(memfd);
	return got < cap ? -EFAULT : -ENAMETOOLONG; /* getname() limit: PATH_MAX */
}

static long openat2_path(int dirfd, const char *path, int nofollow, unsigned long long resolve)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
		.resolve = resolve,
	};
	long fd;
	int tries = 0;

	/* openat2(2): EAGAIN means a concurrent rename raced with a scoped
	 * (RESOLVE_IN_ROOT) lookup; retrying is the documented answer. */
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN && ++tries < 8);
	return fd;
}

/* Errors that the kernel's own exec would report for the same path: handing
 * them back unchanged keeps execvp()'s PATH search and shells' 127/126
 * logic working, and is safe because the exec fails either way. */
static int passthrough_errno(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG || e == EACCES ||
	       e == EFAULT || e == EBADF;
}

/* Is the target's root (statx of /proc/<pid>/root, before ID_VALID) our
 * own root? Resolving in root_dir is then the same as resolving in the
 * target's root, without opening it. An absolute path is only resolved
 * that way when the mount id matches too: same mount, same directory
 * inode, hence the same mount tree below it. Kernels without STATX_MNT_ID
 * (< 5.8) resolve absolute paths in the target's root as before; relative
 * paths keep the older dev/ino test (README, "Limitations"). */
static int target_root_is_ours(unsigned pid, int absolute)
{
	struct kstatx st;
	char name[32], *p = name;

	if (absolute && (!our_root.have_mnt_id || root_dir < 0))
		return 0;
	if (proc_dir < 0)
		p = memcpy(p, "/proc/", 6) + 6;
	p = put_uint(p, pid);
	memcpy(p, "/root", 6);
	if (kstatx(proc_dir >= 0 ? proc_dir : AT_FDCWD, name, 0, &st) < 0)
		return 0;
	if (st.dev_major != our_root.dev_major || st.dev_minor != our_root.dev_minor ||
	    st.ino != our_root.ino)
		return 0;
	if (our_root.have_mnt_id && (!(st.mask & STATX_MNT_ID_) || st.mnt_id != our_root.mnt_id))
		return 0;
	return 1;
}

/* Resolve a relative path for a target whose root differs from ours (a
 * chroot or another mount namespace): express its base directory relative
 * to its root and resolve the joined path scoped to that root. */
static long open_relative_foreign(int procfd, const char *base, int rootfd, const char *path,
				  int nofollow, struct decision *d)
{
	static char rootp[PATH_MAX], basep[PATH_MAX];
	ssize_t rl, bl;
	size_t skip;

	rl = readlinkat(procfd, "root", rootp, sizeof rootp - 1);
	bl = readlinkat(procfd, base, basep, sizeof basep - 1);
	if (rl <= 0 || bl <= 0) {
		set(d, V_DENY, 0, "unverifiable", "cannot resolve relative path in a foreign root");
		return -1;
	}
	rootp[rl] = basep[bl] = '\0';
	skip = (rl == 1 && rootp[0] == '/') ? 0 : (size_t)rl;
	if (basep[0] != '/' || strncmp(basep, rootp, skip) != 0 ||
	    (basep[skip] != '/' && basep[skip] != '\0')) {
		set(d, V_DENY, 0, "unverifiable", "working directory is outside the process root");
		return -1;
	}
	if ((size_t)snprintf(scratch, sizeof scratch, "%s/%s", basep + skip, path) >= sizeof scratch) {
		set(d, V_ERRNO, ENAMETOOLONG, "would-fail", "path too long");
		return -1;
	}
	return openat2_path(rootfd, scratch, nofollow, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Reopen an O_PATH fd for reading through /proc/self/fd (proc(5)): we
 * never open() a workload's path for reading directly, so a FIFO or device
 * could not block or be triggered by the check. */
static int reopen_for_reading(int fd)
{
	char self[32];

	return openat(self_fd(self, fd), self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

/* SHA-256 of everything readable from rfd. 0, or -1 with errno set. */
static int hash_fd(int rfd, uint8_t digest[32])
{
	struct sha256 h;

	sha256_init(&h);
	for (;;) {
		ssize_t r = read(rfd, hashbuf, sizeof hashbuf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		sha256_update(&h, hashbuf, (size_t)r);
	}
	sha256_final(&h, digest);
	return 0;
}

/* The hash of a file the decision log names, when no check computed it:
 * regular files up to LOG_HASH_MAX only, so that a workload cannot stall
 * the supervisor by exec'ing a huge file. */
#define LOG_HASH_MAX (64u << 20)
static void hash_for_log(int fd, const struct stat *st, struct decision *d)
{
	int rfd;

	if (d->have_sha || !S_ISREG(st->st_mode) || st->st_size > (off_t)LOG_HASH_MAX)
		return;
	if ((rfd = reopen_for_reading(fd)) < 0)
		return;
	d->have_sha = hash_fd(rfd, d->sha) == 0;
	close(rfd);
}

static int same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Compare content, mode and size with the manifest entry, hashing only when
 * the file's identity differs from the last successful verification. */
static enum verdict verify_content(int fd, const struct stat *st, struct mentry *e,
				   struct decision *d)
{
	uint8_t digest[32];
	struct stat st2;
	struct timespec now;
	int rfd;

	if ((st->st_mode & 07777) != e->mode)
		return set(d, V_DENY, 0, "mode-mismatch", "mode %04o differs from manifest %04o",
			   (unsigned)(st->st_mode & 07777), (unsigned)e->mode);
	if ((uint64_t)st->st_size != e->size)
		return set(d, V_DENY, 0, "size-mismatch", "size %lld differs from manifest %llu",
			   (long long)st->st_size, (unsigned long long)e->size);
	if (e->verified && e->dev == st->st_dev && e->ino == st->st_ino &&
	    e->vsize == st->st_size && same_time(e->mtime, st->st_mtim) &&
	    same_time(e->ctime, st->st_ctim)) {
		memcpy(d->sha, e->sha256, sizeof d->sha);
		d->have_sha = 1;
		return set(d, V_ALLOW, 0, "manifest", "manifest (cached hash)");
	}

	rfd = reopen_for_reading(fd);
	if (rfd < 0)
		return set(d, V_DENY, 0, "unverifiable", "cannot open for hashing: %s", strerror(errno));
	if (hash_fd(rfd, digest) < 0) {
		int e2 = errno;
		close(rfd);
		return set(d, V_DENY, 0, "unverifiable", "read error while hashing: %s", strerror(e2));
	}
	memcpy(d->sha, digest, sizeof d->sha);
	d->have_sha = 1;
	if (fstat(rfd, &st2) < 0) {
		close(rfd);
		return set(d, V_DENY, 0, "unverifiable", "fstat after hashing failed");
	}
	close(rfd);
	if (st2.st_size != st->st_size || !same_time(st2.st_mtim, st->st_mtim) ||
	    !same_time(st2.st_ctim, st->st_ctim))
		return set(d, V_DENY, 0, "unverifiable", "file changed while it was hashed");
	if (memcmp(digest, e->sha256, sizeof digest) != 0)
		return set(d, V_DENY, 0, "sha256-mismatch", "sha256 differs from manifest");

	/* Cache the identity only if the file has not changed for 2 s:
	 * timestamps may be coarse (one clock tick), so a write landing in
	 * the same tick as the change we saw would leave mtime/ctime equal.
	 * Any later write gets a newer ctime than a 2 s old one. */
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec - st->st_ctim.tv_sec >= 2 &&
	    now.tv_sec - st->st_mtim.tv_sec >= 2) {
		e->verified = 1;
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->vsize = st->st_size;
		e->mtime = st->st_mtim;
		e->ctime = st->st_ctim;
	}
	return set(d, V_ALLOW, 0, "manifest", "manifest");
}

/* Decide about one execve/execveat. Returns V_NONE if the notification is
 * no longer valid (the target died or was interrupted): nobody to answer. */
static enum verdict check_exec(int nfd, const struct seccomp_notif *req, struct decision *d)
{
	int nr = req->data.nr, dirfd, flags, nofollow, procfd = -1, rootfd = -1, basefd = -1;
	int in_our_root = 0, proc_err = 0, root_err = 0, open_err = 0;
	unsigned pid = req->pid;
	long fd = -1;
	uint64_t pathp;
	char base[24], name[32];
	struct stat st, st2;
	struct mentry *e;
	ssize_t n;
	int r;

	memset(&st, 0, sizeof st);
	d->path = req_path;
	req_path[0] = '\0';
	if (req->data.arch != AUDIT_ARCH_X86_64)
		return set(d, V_ERRNO, EPERM, "would-fail", "unexpected architecture");
	if (nr == __NR_execve) {
		dirfd = AT_FDCWD;
		pathp = req->data.args[0];
		flags = 0;
	} else if (nr == __NR_execveat) {
		dirfd = (int)req->data.args[0];
		pathp = req->data.args[1];
		flags = (int)req->data.args[4];
	} else {
		return set(d, V_ERRNO, ENOSYS, "would-fail", "unexpected syscall %d", nr);
	}
	nofollow = (nr == __NR_execveat) && (flags & AT_SYMLINK_NOFOLLOW);
	/* the directory a relative or empty path starts from, below /proc/<pid> */
	if (dirfd == AT_FDCWD)
		memcpy(base, "cwd", 4);
	else
		snprintf(base, sizeof base, "fd/%d", dirfd);

	/* Everything taken from the target (its memory, and whatever is
	 * opened through /proc/<pid>) is gathered before the ID_VALID check
	 * below and used only after it passed. */
	r = read_target_string((pid_t)pid, &proc_err, pathp, req_path, sizeof req_path);
	if (r == 0 && req_path[0] == '\0') {
		/* execveat(fd, "", AT_EMPTY_PATH): execute the open file itself
		 * (fexecve(3)). Follow the target's fd through procfs. */
		if (nr == __NR_execveat && (flags & AT_EMPTY_PATH) &&
		    (fd = proc_open(pid, base, O_PATH)) < 0)
			open_err = errno == ENOENT ? EBADF : errno;
	} else if (r == 0) {
		in_our_root = target_root_is_ours(pid, req_path[0] == '/');
		if (in_our_root && req_path[0] != '/') {
			if ((basefd = proc_open(pid, base, O_PATH | O_DIRECTORY)) < 0)
				open_err = errno == ENOENT ? EBADF : errno;
		} else if (!in_our_root) {
			if (procfd < 0 && (procfd = proc_open(pid, NULL, O_PATH | O_DIRECTORY)) < 0)
				proc_err = errno;
			else if ((rootfd = openat(procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
				root_err = errno;
		}
	}
	/* TOCTOU (seccomp_unotify(2), "Caveats"): only trust what we read,
	 * and the fds opened through /proc/<pid>, if the target is still
	 * blocked in this very syscall afterwards: a live, blocked target
	 * means its pid cannot have been reused by another process in the
	 * meantime. (A /proc/<pid> directory fd stays bound to that process
	 * even if the pid is recycled later.) */
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		d->v = V_NONE;
		goto out;
	}
	if (proc_err) {
		req_path[0] = '\0';
		set(d, V_DENY, 0, "unverifiable", "cannot open /proc/%u: %s", pid, strerror(proc_err));
		goto out;
	}
	if (r == -EPERM || r == -EACCES || r == -ESRCH) {
		req_path[0] = '\0';
		set(d, V_DENY, 0, "unverifiable", "cannot read the process's memory (%s); the enforcer needs "
		    "ptrace access to the workload", strerror(-r));
		goto out;
	}
	if (r < 0) {
		req_path[0] = '\0';
		set(d, V_ERRNO, -r, "would-fail", "cannot read path argument");
		goto out;
	}

	if (req_path[0] == '\0') {
		if (nr != __NR_execveat || !(flags & AT_EMPTY_PATH)) {
			set(d, V_ERRNO, ENOENT, "would-fail", "empty path");
			goto out;
		}
		errno = open_err;
	} else if (root_err) {
		set(d, V_DENY, 0, "unverifiable", "cannot open /proc/%u/root: %s", pid, strerror(root_err));
		goto out;
	} else if (req_path[0] == '/') {
		/* Resolve exactly as the kernel will for the target. Magic
		 * links (/proc/self/fd/N, /proc/<pid>/exe, ...) are refused:
		 * they would be resolved from *our* point of view. */
		fd = openat2_path(in_our_root ? root_dir : rootfd, req_path, nofollow,
				  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	} else if (in_our_root) {
		if (basefd < 0) {
			set(d, V_ERRNO, open_err, "would-fail", "bad directory fd");
			goto out;
		}
		fd = openat2_path(basefd, req_path, nofollow, RESOLVE_NO_MAGICLINKS);
	} else {
		fd = open_relative_foreign(procfd, base, rootfd, req_path, nofollow, d);
		if (fd < 0 && d->v != V_NONE)
			goto out;
	}
	if (fd < 0) {
		int e2 = errno;
		if (passthrough_errno(e2))
			set(d, V_ERRNO, e2, "would-fail", "%s", strerror(e2));
		else
			set(d, V_DENY, 0, "unverifiable", "cannot resolve path: %s", strerror(e2));
		goto out;
	}
	if (fstat((int)fd, &st) < 0) {
		set(d, V_DENY, 0, "unverifiable", "fstat: %s", strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode)) { /* only with AT_SYMLINK_NOFOLLOW */
		set(d, V_ERRNO, ELOOP, "would-fail", "symbolic link with AT_SYMLINK_NOFOLLOW");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) { /* execve(2): EACCES for non-regular files */
		set(d, V_ERRNO, EACCES, "would-fail", "not a regular file");
		goto out;
	}

	/* The canonical path, as the kernel names the opened file from our
	 * root: symlinks (e.g. /bin/sh -> dash) are resolved to their target,
	 * which is how the manifest lists files. */
	n = readlinkat(self_fd(name, (int)fd), name, canon, sizeof canon - 1);
	if (n <= 0) {
		set(d, V_DENY, 0, "unverifiable", "readlink: %s", strerror(errno));
		goto out;
	}
	canon[n] = '\0';
	if (canon[0] != '/' || st.st_nlink == 0 ||
	    (n > 10 && memcmp(canon + n - 10, " (deleted)", 10) == 0)) {
		/* memfd_create(2), O_TMPFILE or an unlinked file: there is no
		 * path in the image that could vouch for it. */
		d->path = canon;
		set(d, V_DENY, 0, "fileless", "fileless execution (memfd, O_TMPFILE or deleted file)");
		goto out;
	}
	d->path = canon;
	/* The path string must lead to this very inode from our root too;
	 * otherwise the file lives in another mount namespace or was renamed
	 * while we looked, and the name proves nothing. When the path was
	 * just resolved in our own root and the kernel names the result by
	 * that same string, that walk is the check already. */
	if (!(in_our_root && req_path[0] == '/' && strcmp(canon, req_path) == 0) &&
	    (fstatat(AT_FDCWD, canon, &st2, AT_SYMLINK_NOFOLLOW) < 0 ||
	     st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)) {
		set(d, V_DENY, 0, "unverifiable", "path does not name this file from the enforcer's root");
		goto out;
	}
	if (policy_allows(&policy, canon)) {
		set(d, V_ALLOW, 0, "allow-list", "policy allow list");
		goto out;
	}
	e = manifest_find(&manifest, canon);
	if (!e) {
		set(d, V_DENY, 0, "not-in-manifest", "not in manifest");
		goto out;
	}
	verify_content((int)fd, &st, e, d);
out:
	if (fd >= 0 && (d->v == V_DENY || (d->v == V_ALLOW && log_all)))
		hash_for_log((int)fd, &st, d);
	if (fd >= 0)
		close((int)fd);
	if (basefd >= 0)
		close(basefd);
	if (rootfd >= 0)
		close(rootfd);
	if (procfd >= 0)
		close(procfd);
	return d->v;
}

/* memfd_create(2) under the Landlock gate. Landlock does not govern
 * memfds, so the supervisor creates the memfd itself with MFD_NOEXEC_SEAL
 * (Linux >= 6.3: no exec bits, and F_SEAL_EXEC so they cannot be added
 * back) and installs it in the caller as the call's result
 * (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND, Linux >= 5.14).
 * execveat(AT_EMPTY_PATH) or /proc/self/fd/N on it then fail with EACCES.
 * mmap(PROT_EXEC) of it still works, so JITs that double-map a memfd run.
 * An explicit MFD_EXEC is refused and logged. */
static void handle_memfd(int nfd, const struct seccomp_notif *req)
{
	static struct seccomp_notif_resp resp;
	static char name[MFD_NAME_MAX + 1 + 16];
	unsigned flags = (unsigned)req->data.args[1];
	struct seccomp_notif_addfd add;
	struct who w;
	int proc_err = 0, r, mfd;

	memset(&resp, 0, sizeof resp);
	resp.id = req->id;
	/* The name is cosmetic (/proc/<pid>/fd shows "memfd:<name>"): if the
	 * caller's memory cannot be read, a fixed name does as well. */
	r = read_target_string((pid_t)req->pid, &proc_err, req->data.args[0], name, MFD_NAME_MAX + 1);
	if (r == -EFAULT || r == -ENAMETOOLONG) {
		resp.error = r == -EFAULT ? -EFAULT : -EINVAL; /* as memfd_create(2) */
		goto send;
	}
	if (r < 0)
		memcpy(name, "slipway", 8);
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return; /* the caller is gone: nobody to answer */
	if (flags & MFD_EXEC_) {
		char shown[sizeof name + 8];

		who_is((pid_t)req->pid, &w);
		snprintf(shown, sizeof shown, "memfd:%s", name);
		log_decision("denied", shown, NULL, (pid_t)req->pid, &w, "memfd-exec",
			     "executable memfd (MFD_EXEC) refused: Landlock cannot gate exec from memfds",
			     "memfd_create");
		resp.error = -EPERM;
		goto send;
	}
	mfd = memfd_create(name, (flags & ~(unsigned)(MFD_CLOEXEC | MFD_NOEXEC_SEAL_)) |
				 MFD_NOEXEC_SEAL_ | MFD_CLOEXEC);
	if (mfd < 0) {
		resp.error = -errno; /* e.g. EINVAL for unknown flags, as the kernel would */
		goto send;
	}
	memset(&add, 0, sizeof add);
	add.id = req->id;
	add.flags = SECCOMP_ADDFD_FLAG_SEND;
	add.srcfd = (unsigned)mfd;
	add.newfd_flags = (flags & MFD_CLOEXEC) ? O_CLOEXEC : 0;
	r = ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
	close(mfd);
	if (r >= 0 || errno == ENOENT) /* answered, or the caller is gone */
		return;
	resp.error = -errno; /* e.g. EMFILE: the caller's fd table is full */
send:
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		die(EXIT_CANNOT_EXEC, errno, NULL, "SECCOMP_IOCTL_NOTIF_SEND");
}

/* Log one exec decision of the seccomp gate. who_is() reads /proc/<pid>
 * while the target is still blocked in the call (we have not answered),
 * so the pid is still the target's unless it was killed meanwhile; then
 * uid and parent are left out. */
static void log_exec(int nfd, const struct seccomp_notif *req, const struct decision *d,
		     const char *decision, const char *sc)
{
	struct who w;

	who_is((pid_t)req->pid, &w);
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		w.uid = -1;
		w.comm[0] = '\0';
	}
	log_decision(decision, d->path, d->have_sha ? d->sha : NULL, (pid_t)req->pid, &w,
		     d->rule ? d->rule : "unverifiable", d->reason, sc);
}

static void handle_notification(int nfd)
{
	static struct seccomp_notif req;
	static struct seccomp_notif_resp resp;
	static struct decision d;
	const char *sc;

	/* seccomp_unotify(2): the receive buffer must be zeroed. */
	memset(&req, 0, sizeof req);
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		if (errno == ENOENT || errno == EINTR) /* target gone already */
			return;
		die(EXIT_CANNOT_EXEC, errno, NULL, "SECCOMP_IOCTL_NOTIF_RECV");
	}
	if (req.data.arch == AUDIT_ARCH_X86_64 && req.data.nr == __NR_memfd_create) {
		handle_memfd(nfd, &req);
		return;
	}
	memset(&d, 0, sizeof d);
	if (check_exec(nfd, &req, &d) == V_NONE)
		return;
	sc = req.data.nr == __NR_execveat ? "execveat" : "execve";

	memset(&resp, 0, sizeof resp);
	resp.id = req.id;
	switch (d.v) {
	case V_ALLOW:
		/* CONTINUE lets the kernel run the syscall as the target issued
		 * it. seccomp_unotify(2) warns this is not a security mechanism
		 * on its own: another thread of the target (or a process that
		 * shares its memory) can rewrite the path after we read it,
		 * and the directory entry can be swapped between our check and
		 * the kernel's lookup. That race requires code execution that
		 * is already running, which is accepted for drift prevention
		 * (see README.md, "Limitations"). */
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		if (log_all)
			log_exec(nfd, &req, &d, "allowed", sc);
		break;
	case V_DENY:
		if (gate == GATE_LANDLOCK && d.rule && !strcmp(d.rule, "unverifiable")) {
			/* Report-only here: what the supervisor cannot
			 * resolve (a magic link such as /proc/self/exe, which
			 * busybox uses for its applets) is Landlock's to
			 * decide, unreported. */
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			break;
		}
		if (policy.audit) {
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			log_exec(nfd, &req, &d, "audited", sc);
		} else {
			/* Under the Landlock gate the app sees the errno the
			 * kernel gives for the execs it refuses itself. */
			resp.error = gate == GATE_LANDLOCK ? -EACCES : -EPERM;
			log_exec(nfd, &req, &d, "denied", sc);
		}
		break;
	default: /* V_ERRNO: the exec would fail anyway, report the same error */
		resp.error = -d.err;
		if (log_all)
			log_exec(nfd, &req, &d, "denied", sc);
		break;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		die(EXIT_CANNOT_EXEC, errno, NULL, "SECCOMP_IOCTL_NOTIF_SEND");
}

/* --- PID 1 duties ------------------------------------------------------ */

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static int status_to_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_CANNOT_EXEC;
}

/* Reap every child that has exited (orphans are re-parented to us as PID 1
 * or as child subreaper, prctl(2) PR_SET_CHILD_SUBREAPER). Returns 1 and
 * sets *code once the workload itself has exited. */
static int reap(int *code)
{
	int status, done = 0;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == workload) {
			*code = status_to_exit(status);
			done = 1;
		}
	}
	if (p < 0 && errno != ECHILD && errno != EINTR)
		die(EXIT_CANNOT_EXEC, errno, NULL, "waitpid");
	return done;
}

__attribute__((noreturn))
static void supervise(int sfd, int nfd)
{
	struct pollfd pfd[2];
	int code = EXIT_CANNOT_EXEC;

	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = nfd;
	pfd[1].events = POLLIN;
	for (;;) {
		nfds_t cnt = nfd >= 0 ? 2 : 1;

		if (poll(pfd, cnt, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_CANNOT_EXEC, errno, NULL, "poll");
		}
		if (cnt == 2 && (pfd[1].revents & POLLIN))
			handle_notification(nfd);
		else if (cnt == 2 && (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			/* No task uses the filter any more (Linux >= 5.8). */
			close(nfd);
			nfd = -1;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si[8];
			ssize_t r = read(sfd, si, sizeof si);
			size_t i;

			if (r < 0 && errno != EAGAIN && errno != EINTR)
				die(EXIT_CANNOT_EXEC, errno, NULL, "read signalfd");
			for (i = 0; r > 0 && i < (size_t)r / sizeof si[0]; i++) {
				int sig = (int)si[i].ssi_signo;
				if (sig == SIGCHLD)
					continue; /* reaped below */
				if (kill(workload, sig) < 0 && errno != ESRCH)
					warnmsg(errno, "forwarding signal %d", sig);
			}
			if (reap(&code))
				exit(code);
		}
	}
}

/* --- startup ----------------------------------------------------------- */

static void load_config(const char *policy_path, const char *manifest_path)
{
	char err[256];
	char *buf;
	size_t len;

	policy_default(&policy);
	if (read_file(policy_path, POLICY_MAX, &buf, &len) < 0) {
		if (errno != ENOENT)
			die(EXIT_CANNOT_EXEC, errno, NULL, "cannot read policy %s", policy_path);
		/* no policy file: defaults (enforce, no extras, deny if unsupported) */
	} else if (policy_parse(&policy, buf, len, err, sizeof err) < 0) {
		die(EXIT_CANNOT_EXEC, 0, "see README.md, \"Policy format\"",
		    "malformed policy %s: %s", policy_path, err);
	} /* buf stays allocated: the allow list points into it */

	if (read_file(manifest_path, MANIFEST_MAX, &buf, &len) < 0)
		die(EXIT_CANNOT_EXEC, errno,
		    errno == ENOENT ? "the image was not prepared by the Slipway injector, or "
				      "SLIPWAY_ENFORCER_MANIFEST points to the wrong file; "
				      "refusing to run unguarded (fail closed)"
				    : NULL,
		    "cannot read manifest %s", manifest_path);
	if (manifest_parse(&manifest, buf, len, err, sizeof err) < 0)
		die(EXIT_CANNOT_EXEC, 0, "see README.md, \"Manifest format\"",
		    "malformed manifest %s: %s", manifest_path, err);
	manifest.buf = buf;
}

/* The Landlock ruleset, built by the supervisor before it forks. The
 * enforcer's own files are protected: a workload that rewrote the policy
 * or the manifest would loosen the gate for the container's next start. */
static int build_ruleset(const char *policy_path, const char *manifest_path, int abi)
{
	static char protect_buf[3][PATH_MAX];
	const char *protect[3];
	struct gate_stats st;
	struct timespec t0, t1;
	size_t np = 0;
	char err[PATH_MAX + 128];
	int rs;

	if (realpath(policy_path, protect_buf[np]))
		protect[np] = protect_buf[np], np++;
	if (realpath(manifest_path, protect_buf[np]))
		protect[np] = protect_buf[np], np++;
	if (realpath("/proc/self/exe", protect_buf[np]))
		protect[np] = protect_buf[np], np++;
	if (clock_gettime(CLOCK_MONOTONIC, &t0) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "clock_gettime");
	rs = landlock_build(&manifest, &policy, protect, np, &st, err, sizeof err);
	if (rs < 0)
		die(EXIT_CANNOT_EXEC, 0, NULL, "building the Landlock ruleset: %s", err);
	if (clock_gettime(CLOCK_MONOTONIC, &t1) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "clock_gettime");
	infomsg("exec gate: landlock (ABI %d): %zu executables, %zu manifest entries missing or "
		"changed, %zu directories hold executables, %zu write rules; ruleset built in %ld ms; "
		"denials reported: %s",
		abi, st.exec_rules, st.skipped, st.chain_dirs, st.write_rules,
		(long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
		policy.report_all ? "every exec (policy report=all: one round trip per exec)"
				  : "CMD, fd and memfd execs (policy report=no-cost)");
	return rs;
}

static const char usage[] =
	"usage: enforcer [--] CMD [ARGS...]\n"
	"Runs CMD as a supervised workload: only executables listed in the image\n"
	"manifest may be executed. See enforcer/README.md.\n";

/* Under the Landlock gate the kernel refuses exec itself (EACCES) and, by
 * default, the supervisor never sees it; the exec of CMD is one the
 * enforcer can still report: from here, in the child (do_log; with
 * "report": "all" the supervisor has logged it). Returns 1 if the refusal
 * was the gate's (an executable file that is not in the manifest as it is). */
static int report_cmd_denied(const char *cmd, int do_log)
{
	static char found[PATH_MAX], real[PATH_MAX];
	const char *rule = NULL, *path = cmd;
	struct decision d;
	struct stat st;
	struct mentry *e;
	struct who w;
	int fd;

	if (!strchr(cmd, '/')) { /* the first PATH entry execvp(3) would try */
		const char *p = getenv("PATH");

		if (!p)
			p = "/usr/local/bin:/bin:/usr/bin";
		for (path = NULL; *p && !path; p += *p == ':') {
			size_t n = strcspn(p, ":");

			if ((size_t)snprintf(found, sizeof found, "%.*s/%s", (int)n, p, cmd) < sizeof found &&
			    stat(found, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
				path = found;
			p += n;
		}
		if (!path)
			return 0;
	}
	if (!realpath(path, real) || (fd = open(real, O_PATH | O_CLOEXEC)) < 0)
		return 0;
	memset(&d, 0, sizeof d);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		close(fd); /* the kernel refuses that anyway */
		return 0;
	}
	e = manifest_find(&manifest, real);
	if (!e)
		rule = "not-in-manifest";
	else if ((st.st_mode & 07777) != e->mode)
		rule = "mode-mismatch";
	else if ((uint64_t)st.st_size != e->size)
		rule = "size-mismatch";
	else
		rule = "interpreter"; /* listed, yet refused: its ELF or #! interpreter is not */
	if (policy_allows(&policy, real)) {
		close(fd);
		return 0;
	}
	if (!do_log) {
		close(fd);
		return 1;
	}
	hash_for_log(fd, &st, &d);
	close(fd);
	who_is(getpid(), &w);
	log_decision("denied", real, d.have_sha ? d.sha : NULL, getpid(), &w, rule,
		     strcmp(rule, "interpreter") ? "Landlock refused the exec of CMD"
						 : "Landlock refused the exec of CMD, which is listed: "
						   "its ELF interpreter (PT_INTERP) or #! interpreter is not",
		     "execve");
	return 1;
}

__attribute__((noreturn))
static void run_child(int sock, char **cmd, const sigset_t *oldmask, int simulate_unsupported,
		      int ruleset)
{
	struct sigaction sa;
	int nfd = -1, e, drift;
	size_t i;

	/* Undo the supervisor's signal setup: ignored dispositions and the
	 * blocked mask are inherited across execve(2). */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	if (sigprocmask(SIG_SETMASK, oldmask, NULL) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "sigprocmask");

	/* Own process group, and the terminal's foreground group if we had
	 * it (like tini): Ctrl-C then reaches the workload once, directly,
	 * rather than also via the enforcer's forwarding. */
	if (setpgid(0, 0) == 0 && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgid(getppid())) {
		/* SIGTTOU is still ignored here (set by the parent). */
		(void)tcsetpgrp(STDIN_FILENO, getpgrp());
	}
	sigaction(SIGTTOU, &sa, NULL);

	if (simulate_unsupported)
		errno = ENOSYS;
	else if (gate == GATE_LANDLOCK && policy.report_all)
		nfd = install_filter(report_filter, sizeof report_filter / sizeof report_filter[0]);
	else if (gate == GATE_LANDLOCK)
		nfd = install_filter(memfd_filter, sizeof memfd_filter / sizeof memfd_filter[0]);
	else
		nfd = install_filter(exec_filter, sizeof exec_filter / sizeof exec_filter[0]);
	if (nfd < 0)
		die(EXIT_CANNOT_EXEC, errno,
		    "this requires Linux >= 5.0 built with CONFIG_SECCOMP_FILTER, and a "
		    "container seccomp profile that permits seccomp(2) (Docker's default does)",
		    "cannot install the seccomp filter (seccomp user notification unavailable)");
	if (send_msg(sock, 'F', nfd) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "passing the seccomp listener to the supervisor");
	close(nfd);
	close(sock);
	if (gate == GATE_LANDLOCK) {
		/* From here on the kernel refuses exec of anything the ruleset
		 * does not grant, in this process and all it starts. */
		if (landlock_enter(ruleset) < 0)
			die(EXIT_CANNOT_EXEC, errno, NULL, "landlock_restrict_self");
		close(ruleset);
	}

	execvp(cmd[0], cmd);
	e = errno;
	{
		char buf[PATH_MAX + 256];
		int k = snprintf(buf, sizeof buf, PROG ": cannot execute %s: %s\n", cmd[0], strerror(e));
		(void)!write(STDERR_FILENO, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
	}
	/* With "report": "all" the supervisor has seen and logged this exec. */
	drift = gate == GATE_LANDLOCK ? e == EACCES && report_cmd_denied(cmd[0], !policy.report_all)
				      : e == EPERM;
	if (drift)
		hint("the executable is not part of the image manifest (drift prevention); "
		     "rebuild the image or add the path to \"allow\" in policy.json");
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

/* Landlock where the kernel has what the gate needs, else per policy
 * onUnsupported. Audit mode must see every exec: the seccomp gate. */
static void choose_gate(int simulate_no_landlock, int *abi)
{
	char why[160];
	int fd;

	why[0] = '\0';
	if (policy.audit) {
		gate = GATE_SECCOMP;
		infomsg("exec gate: seccomp user notification (audit mode: every exec is checked and logged)");
		return;
	}
	if (simulate_no_landlock)
		*abi = -1, errno = EOPNOTSUPP;
	else
		*abi = landlock_abi();
	if (*abi < 0)
		snprintf(why, sizeof why, "Landlock unavailable (%s)", strerror(errno));
	else if (*abi < GATE_LANDLOCK_MIN_ABI)
		snprintf(why, sizeof why, "Landlock ABI %d is older than %d (Linux 6.2)", *abi,
			 GATE_LANDLOCK_MIN_ABI);
	else if ((fd = memfd_create("slipway-probe", MFD_NOEXEC_SEAL_ | MFD_CLOEXEC)) < 0)
		snprintf(why, sizeof why, "memfd_create(MFD_NOEXEC_SEAL) unavailable (%s; Linux >= 6.3)",
			 strerror(errno));
	else
		close(fd);
	if (!why[0]) {
		gate = GATE_LANDLOCK;
		return;
	}
	if (policy.unsupported_fail)
		die(EXIT_CANNOT_EXEC, 0,
		    "the Landlock gate needs Linux >= 6.3 with Landlock enabled (lsm=...,landlock) "
		    "and a seccomp profile that permits the landlock_* calls; or set "
		    "\"onUnsupported\":\"fallback\" to use the slower seccomp gate",
		    "%s; not starting the workload (policy onUnsupported=fail)", why);
	gate = GATE_SECCOMP;
	warnmsg(0, "%s; exec gate: seccomp user notification (policy onUnsupported=fallback)", why);
}

int main(int argc, char **argv)
{
	const char *policy_path, *manifest_path, *v;
	char **cmd;
	sigset_t sigs, oldmask;
	struct sigaction sa;
	struct kstatx rst;
	int sv[2], sfd, nfd = -1, simulate_unsupported = 0, simulate_no_landlock = 0;
	int ruleset = -1, abi = -1;
	size_t i;
	pid_t pid;
	char tag;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	cmd = argv + 1;
	if (argc >= 2 && !strcmp(argv[1], "--"))
		cmd = argv + 2;
	else if (argc >= 2 && argv[1][0] == '-')
		cmd = NULL;
	if (!cmd || !cmd[0]) {
		fputs(usage, stderr);
		return 2;
	}

	/* Configuration comes from the image; the env overrides exist for
	 * tests. They are removed so the workload does not see them. */
	policy_path = getenv("SLIPWAY_ENFORCER_POLICY");
	if (!policy_path || !*policy_path)
		policy_path = "/.slipway/policy.json";
	manifest_path = getenv("SLIPWAY_ENFORCER_MANIFEST");
	if (!manifest_path || !*manifest_path)
		manifest_path = "/.slipway/manifest";
	v = getenv("SLIPWAY_ENFORCER_LOG");
	log_all = v && !strcmp(v, "all");
#ifdef SLIPWAY_TESTING
	/* Test builds only: a production binary never lets the environment
	 * switch enforcement off. */
	v = getenv("SLIPWAY_ENFORCER_SIMULATE_UNSUPPORTED");
	simulate_unsupported = v && !strcmp(v, "1");       /* no seccomp at all */
	v = getenv("SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK");
	simulate_no_landlock = v && !strcmp(v, "1");       /* kernel without Landlock */
	/* the path Docker's default seccomp profile forces (no process_vm_readv) */
	v = getenv("SLIPWAY_ENFORCER_SIMULATE_NO_VM_READV");
	if (v && !strcmp(v, "1"))
		vm_readv_works = 0;
#endif
	load_config(policy_path, manifest_path);
	unsetenv("SLIPWAY_ENFORCER_POLICY");
	unsetenv("SLIPWAY_ENFORCER_MANIFEST");
	unsetenv("SLIPWAY_ENFORCER_LOG");
	unsetenv("SLIPWAY_ENFORCER_SIMULATE_UNSUPPORTED");
	unsetenv("SLIPWAY_ENFORCER_SIMULATE_NO_VM_READV");
	unsetenv("SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK");

	choose_gate(simulate_no_landlock, &abi);
	if (gate == GATE_LANDLOCK)
		ruleset = build_ruleset(policy_path, manifest_path, abi);

	/* Isolated serving (no network): the router's way in, see proxy.c. */
	{
		char perr[512];

		if (proxy_start(perr, sizeof perr) < 0)
			die(EXIT_CANNOT_EXEC, errno, NULL, "%s", perr);
	}

	root_dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (kstatx(root_dir >= 0 ? root_dir : AT_FDCWD, root_dir >= 0 ? "" : "/",
		   root_dir >= 0 ? AT_EMPTY_PATH : 0, &rst) < 0)
		die(EXIT_CANNOT_EXEC, errno, "statx(2) needs Linux >= 4.11", "statx /");
	our_root.dev_major = rst.dev_major;
	our_root.dev_minor = rst.dev_minor;
	our_root.ino = rst.ino;
	our_root.mnt_id = rst.mnt_id;
	our_root.have_mnt_id = !!(rst.mask & STATX_MNT_ID_);

	/* Signals are taken synchronously through a signalfd (signalfd(2)),
	 * so they are blocked before fork and unblocked in the child. */
	sigemptyset(&sigs);
	for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&sigs, forwarded[i]);
	sigaddset(&sigs, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &sigs, &oldmask) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "sigprocmask");
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "signalfd");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);   /* a closed stderr must not kill PID 1 */
	sigaction(SIGTTIN, &sa, NULL);   /* we may write from a background group */
	sigaction(SIGTTOU, &sa, NULL);

	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		warnmsg(errno, "PR_SET_CHILD_SUBREAPER (orphans will not be reaped by us)");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "socketpair");
	pid = fork();
	if (pid < 0)
		die(EXIT_CANNOT_EXEC, errno, NULL, "fork");
	if (pid == 0) {
		close(sv[0]);
		close(sfd);
		run_child(sv[1], cmd, &oldmask, simulate_unsupported, ruleset);
	}
	workload = pid;
	close(sv[1]);
	if (ruleset >= 0)
		close(ruleset);
	proc_dir = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	selffd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	{
		char probe = 1, into = 0;
		struct iovec l = { &into, 1 }, rm = { &probe, 1 };

		if (vm_readv_works && process_vm_readv(getpid(), &l, 1, &rm, 1, 0) < 0 &&
		    (errno == ENOSYS || errno == EPERM))
			vm_readv_works = 0;
	}
	tag = recv_msg(sv[0], &nfd);
	close(sv[0]);
	if (tag == 'F' && (gate == GATE_SECCOMP || policy.report_all)) {
		/* Linux >= 6.6: wake us on the target's CPU, cutting the
		 * round-trip latency of each exec. Older kernels: EINVAL. */
		unsigned long long fl = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
		(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, fl);
	} else if (tag != 'F' && nfd >= 0) {
		close(nfd);
		nfd = -1;
	}
	if (tag == 'F' && nfd < 0)
		die(EXIT_CANNOT_EXEC, 0, NULL, "no seccomp listener received");
	/* tag 0: the child failed before exec and will exit with a status
	 * we pass on. */
	supervise(sfd, nfd);
}
