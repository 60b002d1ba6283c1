/* libFuzzer harness for the manifest parser (see README.md, "Fuzzing").
 *   make fuzz && ./build/fuzz/fuzz_manifest -max_total_time=60 fuzz/corpus-manifest
 * Checks, beyond memory safety: a successful parse yields sorted, unique,
 * findable entries whose paths are absolute. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	char err[256];
	char *buf = malloc(size + 1);
	size_t i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (manifest_parse(&m, buf, size, err, sizeof err) == 0) {
		for (i = 0; i < m.n; i++) {
			if (m.e[i].path[0] != '/')
				abort();
			if (i > 0 && strcmp(m.e[i - 1].path, m.e[i].path) >= 0)
				abort();
			if (manifest_find(&m, m.e[i].path) != &m.e[i])
				abort();
		}
		manifest_free(&m);
	} else if (err[0] == '\0') {
		abort(); /* every failure must explain itself */
	}
	free(buf);
	return 0;
}
