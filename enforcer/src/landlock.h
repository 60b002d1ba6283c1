/* SPDX-License-Identifier: Apache-2.0
 * The Landlock exec gate: one ruleset built from the manifest, which
 * grants EXECUTE to the image's executables only and keeps them from being
 * changed. See README.md ("Landlock gate"). */
#ifndef SLIPWAY_LANDLOCK_H
#define SLIPWAY_LANDLOCK_H
#include <stddef.h>

#include "manifest.h"
#include "policy.h"

/* The oldest Landlock ABI the gate uses: 3 (Linux 6.2) adds TRUNCATE. */
#define GATE_LANDLOCK_MIN_ABI 3

struct gate_stats {
	size_t exec_rules;      /* manifest entries granted EXECUTE */
	size_t skipped;         /* manifest entries missing or not matching type/mode/size */
	size_t write_rules;     /* files and directories granted the write rights */
	size_t chain_dirs;      /* directories that hold an executable (no write rights) */
};

/* The kernel's Landlock ABI version, or -1 with errno set (ENOSYS: not
 * built in; EOPNOTSUPP: disabled at boot; EPERM: refused by a seccomp
 * profile). */
int landlock_abi(void);

/* Build the ruleset (see landlock.c for the rules). protect[] are files
 * that nothing may write or execute (the enforcer's own configuration).
 * Returns the ruleset fd, or -1 with errno set and a message in err. */
int landlock_build(const struct manifest *m, const struct policy *p, const char *const *protect,
		   size_t nprotect, struct gate_stats *st, char *err, size_t errlen);

/* Enforce the ruleset on the calling thread (no_new_privs must be set). */
int landlock_enter(int ruleset_fd);

#endif
