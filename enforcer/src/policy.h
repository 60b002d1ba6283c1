/* SPDX-License-Identifier: Apache-2.0
 * /.slipway/policy.json: {"mode":"enforce"|"audit","allow":[...],
 * "onUnsupported":"fallback"|"fail","report":"no-cost"|"all"}. See README.md ("Policy format"). */
#ifndef SLIPWAY_POLICY_H
#define SLIPWAY_POLICY_H
#include <stddef.h>

struct policy {
	int audit;              /* 0 = enforce (default), 1 = audit */
	int unsupported_fail;   /* no Landlock: 0 = fall back to the seccomp gate (default), 1 = exit 126 */
	int report_all;         /* Landlock gate: 0 = report the denials that cost nothing per exec
				 * (default), 1 = every denied exec, at a round trip per exec */
	char **allow;           /* absolute paths; a trailing '/' means "anything below" */
	size_t nallow;
};

/* Defaults: enforce, no extra paths, onUnsupported fallback. */
void policy_default(struct policy *p);

/* Parse JSON text (buf is modified in place and must outlive *p: strings
 * are decoded into it). Returns 0, or -1 with a message in err. */
int policy_parse(struct policy *p, char *buf, size_t len, char *err, size_t errlen);

void policy_free(struct policy *p);

/* Is the canonical path covered by the allow list? */
int policy_allows(const struct policy *p, const char *path);

#endif
