/* libFuzzer harness for the policy JSON reader (see README.md, "Fuzzing").
 *   make fuzz && ./build/fuzz/fuzz_policy -max_total_time=60 fuzz/corpus-policy */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	char err[256];
	char *buf = malloc(size + 1);
	size_t i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (policy_parse(&p, buf, size, err, sizeof err) == 0) {
		for (i = 0; i < p.nallow; i++)
			if (p.allow[i][0] != '/' || !policy_allows(&p, p.allow[i]))
				abort();
		policy_free(&p);
	} else if (err[0] == '\0') {
		abort();
	}
	free(buf);
	return 0;
}
