/* Test helper for exec paths a shell cannot produce.
 *   xexec memfd FILE        copy FILE into a memfd, execveat(fd, "", AT_EMPTY_PATH)
 *   xexec memfdproc FILE    copy FILE into a memfd, execve("/proc/self/fd/N")
 *   xexec memfdchmod FILE   copy FILE into a memfd, fchmod(0755), execveat
 *   xexec memfdx FILE       memfd_create(MFD_EXEC), copy FILE into it, execveat
 *   xexec fdexec FILE       open FILE, execveat(fd, "", AT_EMPTY_PATH)
 *   xexec dirfd DIR NAME    open DIR, execveat(dirfd, NAME, 0)
 *   xexec procfd FILE       open FILE, execve("/proc/self/fd/N")
 *   xexec int80 FILE        execve through the i386 entry point (int 0x80)
 *   xexec listener          try to install a nested seccomp listener
 *   xexec pageend FILE      execve(FILE) with the path string ending right
 *                           before an unmapped page
 *   xexec pagecross FILE    execve(FILE) with the path string running across
 *                           a page boundary (both pages mapped)
 * Exits 0 if the exec / operation succeeded (the exec'd program's status),
 * otherwise prints the errno text and exits 126 (EPERM, EACCES), 127 (ENOENT) or 1. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what)
{
	int e = errno;
	fprintf(stderr, "xexec: %s: %s\n", what, strerror(e));
	return e == EPERM || e == EACCES ? 126 : e == ENOENT ? 127 : 1;
}

int main(int argc, char **argv)
{
	char *args[] = { "child", NULL };
	char buf[65536];
	int fd, src;
	ssize_t n;

	if (argc < 2)
		return 2;
	if ((!strcmp(argv[1], "memfd") || !strcmp(argv[1], "memfdproc") ||
	     !strcmp(argv[1], "memfdchmod") || !strcmp(argv[1], "memfdx")) && argc == 3) {
		/* 0x10: MFD_EXEC (Linux 6.3) */
		fd = (int)syscall(SYS_memfd_create, "payload", !strcmp(argv[1], "memfdx") ? 0x10U : 0U);
		if (fd < 0)
			return fail("memfd_create");
		src = open(argv[2], O_RDONLY);
		if (src < 0)
			return fail("open");
		while ((n = read(src, buf, sizeof buf)) > 0)
			if (write(fd, buf, (size_t)n) != n)
				return fail("write");
		if (!strcmp(argv[1], "memfdchmod") && fchmod(fd, 0755) < 0)
			return fail("fchmod(memfd, 0755)");
		if (!strcmp(argv[1], "memfdproc")) {
			char p[64];
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			execve(p, args, environ);
			return fail("execve(/proc/self/fd/N of a memfd)");
		}
		syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
		return fail("execveat(memfd)");
	}
	if (!strcmp(argv[1], "fdexec") && argc == 3) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return fail("open");
		syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
		return fail("execveat(fd)");
	}
	if (!strcmp(argv[1], "dirfd") && argc == 4) {
		fd = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return fail("open");
		syscall(SYS_execveat, fd, argv[3], args, environ, 0);
		return fail("execveat(dirfd)");
	}
	if (!strcmp(argv[1], "procfd") && argc == 3) {
		char p[64];
		fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return fail("open");
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		execve(p, args, environ);
		return fail("execve(/proc/self/fd/N)");
	}
	if (!strcmp(argv[1], "int80") && argc == 3) {
		/* i386 execve(11) with 32-bit pointers: copy the path below 4 GiB. */
		char *low = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		long ret;
		if (low == MAP_FAILED)
			return fail("mmap");
		snprintf(low, 4096, "%s", argv[2]);
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(11), "b"(low), "c"(0), "d"(0) : "memory");
		errno = (int)-ret;
		return fail("int 0x80 execve");
	}
	if (!strcmp(argv[1], "pageend") && argc == 3) {
		size_t len = strlen(argv[2]) + 1;
		char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || munmap(m + 4096, 4096) < 0)
			return fail("mmap");
		memcpy(m + 4096 - len, argv[2], len);
		execve(m + 4096 - len, args, environ);
		return fail("execve(page end)");
	}
	if (!strcmp(argv[1], "pagecross") && argc == 3) {
		size_t len = strlen(argv[2]) + 1, half = len / 2;
		char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return fail("mmap");
		memcpy(m + 4096 - half, argv[2], len);
		execve(m + 4096 - half, args, environ);
		return fail("execve(page cross)");
	}
	if (!strcmp(argv[1], "listener")) {
		struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, f };
		long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				 SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (r < 0)
			return fail("seccomp(NEW_LISTENER)");
		printf("listener installed\n");
		return 0;
	}
	return 2;
}
