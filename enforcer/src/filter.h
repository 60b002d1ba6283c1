/* SPDX-License-Identifier: Apache-2.0
 * The enforcer's seccomp filter (x86_64), in a header of its own so that
 * test/unit.c can check it. Included once by src/enforcer.c. */
#ifndef SLIPWAY_FILTER_H
#define SLIPWAY_FILTER_H
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#define LD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* low 32 bits of argument i (x86 is little-endian) */
#define LD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(k) BPF_STMT(BPF_RET | BPF_K, (k))

/* Only execve/execveat go to the supervisor; everything else is allowed
 * without touching syscall arguments, so the kernel's seccomp action cache
 * (Linux >= 5.11) resolves those syscalls without running the filter at all
 * and the syscall-heavy steady state pays nothing.
 *
 * Jump offsets are relative to the next instruction; indices are noted.
 * test/unit.c checks that the cache applies (it replays the kernel's
 * seccomp_is_const_allow()) and the verdicts; test/run.sh checks the
 * filter end to end (int 0x80, nested listener). */
static struct sock_filter exec_filter[] = {
	/*  0 */ LD_ARCH,
	/*  1 */ JEQ(AUDIT_ARCH_X86_64, 0, 18),                 /* else -> 20 */
	/*  2 */ LD_NR,
	/*  3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 11, 0), /* x32 -> 15 */
	/*  4 */ JEQ(__NR_execve, 9, 0),                        /* -> 14 */
	/*  5 */ JEQ(__NR_execveat, 8, 0),                      /* -> 14 */
	/*  6 */ JEQ(__NR_seccomp, 1, 0),                       /* -> 8 */
	/*  7 */ RET(SECCOMP_RET_ALLOW),
	/* A nested SECCOMP_RET_USER_NOTIF filter installed later by the
	 * workload would take precedence over ours (filters are evaluated
	 * newest first and equal actions keep the newest; see the
	 * SECCOMP_USER_NOTIF_FLAG_CONTINUE note in linux/seccomp.h) and could
	 * answer CONTINUE for any exec. So no new listeners for the workload. */
	/*  8 */ LD_ARG(0),
	/*  9 */ JEQ(SECCOMP_SET_MODE_FILTER, 0, 2),              /* else -> 12 */
	/* 10 */ LD_ARG(1),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 1, 0), /* -> 13 */
	/* 12 */ RET(SECCOMP_RET_ALLOW),
	/* 13 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* 14 */ RET(SECCOMP_RET_USER_NOTIF),
	/* x32 ABI (same audit arch, nr | 0x40000000): not supervised, so its
	 * execve (520), execveat (545) and seccomp (317) are refused. */
	/* 15 */ JEQ(__X32_SYSCALL_BIT | 520, 3, 0),             /* -> 19 */
	/* 16 */ JEQ(__X32_SYSCALL_BIT | 545, 2, 0),             /* -> 19 */
	/* 17 */ JEQ(__X32_SYSCALL_BIT | 317, 1, 0),             /* -> 19 */
	/* 18 */ RET(SECCOMP_RET_ALLOW),
	/* 19 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* i386 (int 0x80 / 32-bit binaries): allowed except execve (11),
	 * execveat (358) and seccomp (354). Any other arch: kill. */
	/* 20 */ JEQ(AUDIT_ARCH_I386, 0, 5),                    /* else -> 26 */
	/* 21 */ LD_NR,
	/* 22 */ JEQ(11, 4, 0),                                 /* -> 27 */
	/* 23 */ JEQ(358, 3, 0),                                /* -> 27 */
	/* 24 */ JEQ(354, 2, 0),                                /* -> 27 */
	/* 25 */ RET(SECCOMP_RET_ALLOW),
	/* 26 */ RET(SECCOMP_RET_KILL_PROCESS),
	/* 27 */ RET(SECCOMP_RET_ERRNO | EPERM),
};

/* The Landlock gate leaves exec to the kernel. Landlock does not govern
 * memfds, so memfd_create alone goes to the supervisor, which creates the
 * memfd sealed against exec (MFD_NOEXEC_SEAL) and hands it over.
 * execveat with AT_EMPTY_PATH (fexecve: exec of an open fd, the way to run
 * a memfd) goes there too, so that such an attempt is reported: it is rare,
 * and a flag test in the filter keeps every other exec away from the
 * supervisor. The rest is as in exec_filter: no nested listener (it could
 * answer CONTINUE for memfd_create), and x32/i386 cannot reach memfd_create
 * or seccomp. Exec from those ABIs is allowed: Landlock checks it like any
 * other. */
static struct sock_filter memfd_filter[] = {
	/*  0 */ LD_ARCH,
	/*  1 */ JEQ(AUDIT_ARCH_X86_64, 0, 19),                 /* else -> 21 */
	/*  2 */ LD_NR,
	/*  3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 13, 0), /* x32 -> 17 */
	/*  4 */ JEQ(__NR_memfd_create, 11, 0),                 /* -> 16 */
	/*  5 */ JEQ(__NR_seccomp, 4, 0),                       /* -> 10 */
	/*  6 */ JEQ(__NR_execveat, 1, 0),                      /* -> 8 */
	/*  7 */ RET(SECCOMP_RET_ALLOW),
	/*  8 */ LD_ARG(4),                                     /* execveat flags */
	/*  9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, 6, 4), /* -> 16, else -> 14 */
	/* 10 */ LD_ARG(0),
	/* 11 */ JEQ(SECCOMP_SET_MODE_FILTER, 0, 2),              /* else -> 14 */
	/* 12 */ LD_ARG(1),
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 1, 0), /* -> 15 */
	/* 14 */ RET(SECCOMP_RET_ALLOW),
	/* 15 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* 16 */ RET(SECCOMP_RET_USER_NOTIF),
	/* x32: memfd_create (319) and seccomp (317) refused */
	/* 17 */ JEQ(__X32_SYSCALL_BIT | 319, 2, 0),             /* -> 20 */
	/* 18 */ JEQ(__X32_SYSCALL_BIT | 317, 1, 0),             /* -> 20 */
	/* 19 */ RET(SECCOMP_RET_ALLOW),
	/* 20 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* i386: memfd_create (356) and seccomp (354) refused; other arch: kill */
	/* 21 */ JEQ(AUDIT_ARCH_I386, 0, 4),                    /* else -> 26 */
	/* 22 */ LD_NR,
	/* 23 */ JEQ(356, 3, 0),                                /* -> 27 */
	/* 24 */ JEQ(354, 2, 0),                                /* -> 27 */
	/* 25 */ RET(SECCOMP_RET_ALLOW),
	/* 26 */ RET(SECCOMP_RET_KILL_PROCESS),
	/* 27 */ RET(SECCOMP_RET_ERRNO | EPERM),
};

/* The Landlock gate with policy "report": "all": as memfd_filter, and every
 * x86_64 execve and execveat goes to the supervisor as well, which answers
 * CONTINUE for what the manifest vouches for (Landlock still decides) and
 * refuses and reports the rest. That costs a notification round trip per
 * exec (README.md, "Performance"), so it is not the default. */
static struct sock_filter report_filter[] = {
	/*  0 */ LD_ARCH,
	/*  1 */ JEQ(AUDIT_ARCH_X86_64, 0, 18),                 /* else -> 20 */
	/*  2 */ LD_NR,
	/*  3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 12, 0), /* x32 -> 16 */
	/*  4 */ JEQ(__NR_memfd_create, 10, 0),                 /* -> 15 */
	/*  5 */ JEQ(__NR_execve, 9, 0),                        /* -> 15 */
	/*  6 */ JEQ(__NR_execveat, 8, 0),                      /* -> 15 */
	/*  7 */ JEQ(__NR_seccomp, 1, 0),                       /* -> 9 */
	/*  8 */ RET(SECCOMP_RET_ALLOW),
	/*  9 */ LD_ARG(0),
	/* 10 */ JEQ(SECCOMP_SET_MODE_FILTER, 0, 2),              /* else -> 13 */
	/* 11 */ LD_ARG(1),
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 1, 0), /* -> 14 */
	/* 13 */ RET(SECCOMP_RET_ALLOW),
	/* 14 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* 15 */ RET(SECCOMP_RET_USER_NOTIF),
	/* x32: memfd_create (319) and seccomp (317) refused */
	/* 16 */ JEQ(__X32_SYSCALL_BIT | 319, 2, 0),             /* -> 19 */
	/* 17 */ JEQ(__X32_SYSCALL_BIT | 317, 1, 0),             /* -> 19 */
	/* 18 */ RET(SECCOMP_RET_ALLOW),
	/* 19 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* i386: memfd_create (356) and seccomp (354) refused; other arch: kill */
	/* 20 */ JEQ(AUDIT_ARCH_I386, 0, 4),                    /* else -> 25 */
	/* 21 */ LD_NR,
	/* 22 */ JEQ(356, 3, 0),                                /* -> 26 */
	/* 23 */ JEQ(354, 2, 0),                                /* -> 26 */
	/* 24 */ RET(SECCOMP_RET_ALLOW),
	/* 25 */ RET(SECCOMP_RET_KILL_PROCESS),
	/* 26 */ RET(SECCOMP_RET_ERRNO | EPERM),
};

#endif
