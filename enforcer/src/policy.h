/* SPDX-License-Identifier: Apache-2.0
 * /.slipway/policy.json: {"mode":"enforce"|"audit","allow":[...],
 * "onUnsupported":"deny"|"allow"}. See README.md ("Policy format"). */
#ifndef SLIPWAY_POLICY_H
#define SLIPWAY_POLICY_H
#include <stddef.h>

struct policy {
	int audit;              /* 0 = enforce (default), 1 = audit */
	int unsupported_allow;  /* 0 = deny/fail closed (default), 1 = run unguarded */
	char **allow;           /* absolute paths; a trailing '/' means "anything below" */
	size_t nallow;
};

/* Defaults: enforce, no extra paths, onUnsupported deny. */
void policy_default(struct policy *p);

/* Parse JSON text (buf is modified in place and must outlive *p: strings
 * are decoded into it). Returns 0, or -1 with a message in err. */
int policy_parse(struct policy *p, char *buf, size_t len, char *err, size_t errlen);

void policy_free(struct policy *p);

/* Is the canonical path covered by the allow list? */
int policy_allows(const struct policy *p, const char *path);

#endif
