/* Benchmark driver.
 *   execloop exec N PATH       fork + execve(PATH) + waitpid, N times
 *   execloop sys N             N x getppid()
 *   execloop rw N              N x (write 64 B to /dev/null + read 64 B from /dev/zero)
 *   execloop memfd N           N x (memfd_create + close): under the Landlock gate,
 *                              one notification round trip each
 *   execloop enoent N          N x execve() of a missing path, no fork: under the
 *                              enforcer, one notification round trip each
 *   execloop prefilter CMD...  install an allow-everything seccomp filter (as a
 *                              container runtime's default profile would), then exec CMD
 * Prints the elapsed wall-clock seconds of the loop on stdout, and on a second
 * line the CPU seconds spent meanwhile by this process, the children it reaped
 * and its parent: under the enforcer the parent is the supervisor, so the work
 * it does for the loop (notifications) counts, and its start-up does not. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of one task in seconds: the first field of /proc/<pid>/schedstat
 * (nanoseconds on the CPU), or 0 if unreadable. */
static double task_cpu(const char *path)
{
	unsigned long long ns = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return (double)ns / 1e9;
}

static double cpu_now(void)
{
	char parent[64];
	struct rusage ru;

	snprintf(parent, sizeof parent, "/proc/%d/schedstat", (int)getppid());
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		memset(&ru, 0, sizeof ru);
	return task_cpu("/proc/self/schedstat") + task_cpu(parent) + (double)ru.ru_utime.tv_sec +
	       (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	long i, n;
	double t0, c0;

	if (argc >= 3 && !strcmp(argv[1], "prefilter")) {
		struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, f };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
			perror("execloop: seccomp");
			return 1;
		}
		execvp(argv[2], argv + 2);
		perror("execloop: exec");
		return 127;
	}
	if (argc < 3)
		return 2;
	n = atol(argv[2]);
	c0 = cpu_now();
	t0 = now();
	if (!strcmp(argv[1], "exec") && argc == 4) {
		char *args[] = { argv[3], NULL };
		for (i = 0; i < n; i++) {
			int st;
			pid_t p = fork();
			if (p < 0)
				return 1;
			if (p == 0) {
				execve(argv[3], args, environ);
				_exit(127);
			}
			if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "execloop: child failed\n");
				return 1;
			}
		}
	} else if (!strcmp(argv[1], "enoent")) {
		char *args[] = { "missing", NULL };
		for (i = 0; i < n; i++)
			if (execve("/nonexistent/slipway-bench", args, environ) == 0 || errno != ENOENT)
				return 1;
	} else if (!strcmp(argv[1], "memfd")) {
		for (i = 0; i < n; i++) {
			int fd = (int)syscall(SYS_memfd_create, "bench", 1U /* MFD_CLOEXEC */);
			if (fd < 0 || close(fd) < 0)
				return 1;
		}
	} else if (!strcmp(argv[1], "sys")) {
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(argv[1], "rw")) {
		char buf[64] = { 0 };
		int dn = open("/dev/null", O_WRONLY), dz = open("/dev/zero", O_RDONLY);
		if (dn < 0 || dz < 0)
			return 1;
		for (i = 0; i < n; i++)
			if (write(dn, buf, sizeof buf) != sizeof buf || read(dz, buf, sizeof buf) != sizeof buf)
				return 1;
	} else {
		return 2;
	}
	t0 = now() - t0;
	printf("%.6f\n%.6f\n", t0, cpu_now() - c0);
	return 0;
}
