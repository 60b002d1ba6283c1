/* Unit tests for the manifest parser, the policy reader, SHA-256 and the
 * seccomp filter.
 * Prints "unit: N passed, M failed"; exit status 1 on any failure. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "manifest.h"
#include "policy.h"
#include "sha256.h"

static int passed, failed;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (cond) {                                     \
			passed++;                               \
		} else {                                        \
			failed++;                               \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
		}                                               \
	} while (0)

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int parse_manifest(const char *text, struct manifest *m, char *err, size_t errlen)
{
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	int r;

	memcpy(buf, text, n + 1);
	r = manifest_parse(m, buf, n, err, errlen);
	m->buf = buf;
	return r;
}

static void manifest_ok(void)
{
	struct manifest m;
	char err[256] = "";
	const char *t =
		"# comment\n"
		"\n"
		H64 " 125640 0755 /usr/bin/dash\n"
		H64 " 0 4755 /usr/bin/with space name\n"
		H64 " 9223372036854775807 0700 /a\n"
		H64 " 1 0644 /usr/bin/\xc3\xa9t\xc3\xa9\n";
	struct mentry *e;

	CHECK(parse_manifest(t, &m, err, sizeof err) == 0, "valid manifest rejected: %s", err);
	CHECK(m.n == 4, "expected 4 entries, got %zu", m.n);
	e = manifest_find(&m, "/usr/bin/dash");
	CHECK(e && e->size == 125640 && e->mode == 0755 && e->line == 3, "dash entry");
	CHECK(e && e->sha256[0] == 0xe3 && e->sha256[31] == 0x55, "sha decoded");
	e = manifest_find(&m, "/usr/bin/with space name");
	CHECK(e && e->mode == 04755 && e->size == 0, "path with spaces");
	CHECK(manifest_find(&m, "/a") && manifest_find(&m, "/a")->size == 9223372036854775807ULL, "max size");
	CHECK(manifest_find(&m, "/usr/bin/\xc3\xa9t\xc3\xa9") != NULL, "utf-8 path");
	CHECK(manifest_find(&m, "/usr/bin/das") == NULL, "no prefix match");
	CHECK(manifest_find(&m, "/usr/bin/dash ") == NULL, "no trailing-space match");
	CHECK(manifest_find(&m, "/b") == NULL, "absent");
	manifest_free(&m);
	free(m.buf);

	CHECK(parse_manifest("", &m, err, sizeof err) == 0 && m.n == 0, "empty manifest ok");
	manifest_free(&m);
	free(m.buf);
	CHECK(parse_manifest("# only a comment\n", &m, err, sizeof err) == 0 && m.n == 0, "comment only");
	manifest_free(&m);
	free(m.buf);
}

static void manifest_bad(const char *text, const char *want)
{
	struct manifest m;
	char err[256] = "";
	int r = parse_manifest(text, &m, err, sizeof err);

	CHECK(r == -1 && strstr(err, want) != NULL, "input %.70s...: want error containing \"%s\", got r=%d \"%s\"",
	      text, want, r, err);
	if (r == 0)
		manifest_free(&m);
	free(m.buf);
}

static void manifest_errors(void)
{
	manifest_bad(H64 " 1 0755 /bin/x", "line 1: missing final newline");
	manifest_bad("# c\n" H64 " 1 0755 relative/x\n", "line 2: path must be absolute");
	manifest_bad(H64 " 1 0755 /bin/x\nE3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 1 0755 /y\n",
		     "line 2: expected 64 lowercase hex");
	manifest_bad("e3b0 1 0755 /x\n", "line 1: expected 64 lowercase hex");
	manifest_bad(H64 "0 1 0755 /x\n", "line 1: expected one space after the 64-digit sha256");
	manifest_bad(H64 "  1 0755 /x\n", "line 1: expected file size");
	manifest_bad(H64 " 01 0755 /x\n", "line 1: expected file size");
	manifest_bad(H64 " -1 0755 /x\n", "line 1: expected file size");
	manifest_bad(H64 " 9223372036854775808 0755 /x\n", "line 1: file size too large");
	manifest_bad(H64 " 99999999999999999999999 0755 /x\n", "line 1: file size too large");
	manifest_bad(H64 " 1x 0755 /x\n", "line 1: expected one space after the size");
	manifest_bad(H64 " 1 755 /x\n", "line 1: expected mode as four octal digits");
	manifest_bad(H64 " 1 0855 /x\n", "line 1: expected mode as four octal digits");
	manifest_bad(H64 " 1 07555 /x\n", "line 1: expected one space after the mode");
	manifest_bad(H64 " 1 0755\n", "line 1: expected one space after the mode");
	manifest_bad(H64 " 1 0755 \n", "line 1: path must be absolute");
	manifest_bad(H64 " 1 0755 /\n", "line 1: path must name a file");
	manifest_bad(H64 " 1 0755 /bin/\n", "line 1: path must not end with '/'");
	manifest_bad(H64 " 1 0755 /bin//x\n", "line 1: path must not contain '//'");
	manifest_bad(H64 " 1 0755 /bin/./x\n", "line 1: path must not contain '.'");
	manifest_bad(H64 " 1 0755 /bin/../x\n", "line 1: path must not contain '.'");
	manifest_bad(H64 " 1 0755 /bin/..\n", "line 1: path must not contain '.'");
	manifest_bad(H64 " 1 0755 /x\n" H64 " 2 0755 /y\n" H64 " 1 0755 /x\n", "line 3: duplicate path (first listed on line 1)");
	manifest_bad(" " H64 " 1 0755 /x\n", "line 1: expected 64 lowercase hex");
	manifest_bad(H64 "\t1 0755 /x\n", "line 1: expected one space");
	{
		/* embedded NUL */
		struct manifest m;
		char err[256] = "", buf[] = "xx\0yy\n";
		CHECK(manifest_parse(&m, buf, sizeof buf - 1, err, sizeof err) == -1 && strstr(err, "NUL"),
		      "NUL byte rejected: %s", err);
	}
	{
		char *big = malloc(PATH_MAX + 200);
		sprintf(big, "%s 1 0755 /", H64);
		memset(big + strlen(big), 'a', PATH_MAX);
		strcpy(big + strlen(H64) + 9 + PATH_MAX, "\n");
		manifest_bad(big, "line 1: path too long");
		free(big);
	}
}

static void policy_case(const char *json, int ok, int audit, int unsup, size_t nallow, const char *want_err)
{
	struct policy p;
	char err[256] = "";
	size_t n = strlen(json);
	char *buf = malloc(n + 1);
	int r;

	memcpy(buf, json, n + 1);
	r = policy_parse(&p, buf, n, err, sizeof err);
	if (ok) {
		CHECK(r == 0, "policy %s rejected: %s", json, err);
		if (r == 0) {
			CHECK(p.audit == audit && p.unsupported_fail == unsup && p.nallow == nallow,
			      "policy %s: audit=%d unsup=%d nallow=%zu", json, p.audit, p.unsupported_fail, p.nallow);
			policy_free(&p);
		}
	} else {
		CHECK(r == -1 && strstr(err, want_err) != NULL, "policy %s: want error \"%s\", got r=%d \"%s\"",
		      json, want_err, r, err);
	}
	free(buf);
}

static void policy_tests(void)
{
	struct policy p;
	char buf[256];
	char err[256];

	{
		static const char *const texts[] = { "{}", "{\"report\":\"no-cost\"}", "{\"report\":\"all\"}" };
		size_t i;

		for (i = 0; i < 3; i++) {
			snprintf(buf, sizeof buf, "%s", texts[i]);
			CHECK(policy_parse(&p, buf, strlen(buf), err, sizeof err) == 0 && p.report_all == (i == 2),
			      "policy %s: report_all=%d", texts[i], p.report_all);
			policy_free(&p);
		}
	}

	policy_case("{}", 1, 0, 0, 0, NULL);
	policy_case(" {\"mode\":\"audit\"}\n", 1, 1, 0, 0, NULL);
	policy_case("{\"mode\":\"enforce\",\"onUnsupported\":\"fail\",\"allow\":[]}", 1, 0, 1, 0, NULL);
	policy_case("{\"allow\":[\"/a\",\"/b/\"],\"x\":{\"y\":[1,-2.5e+3,true,false,null,\"s\"]},\"mode\":\"audit\"}",
		    1, 1, 0, 2, NULL);
	policy_case("{\"unknown\":\"\\u00e9\\ud83d\\ude00\\n\"}", 1, 0, 0, 0, NULL);
	policy_case("", 0, 0, 0, 0, "policy must be a JSON object");
	policy_case("[]", 0, 0, 0, 0, "policy must be a JSON object");
	policy_case("{\"mode\":\"Enforce\"}", 0, 0, 0, 0, "\"mode\" must be \"enforce\" or \"audit\"");
	policy_case("{\"mode\":1}", 0, 0, 0, 0, "\"mode\" must be");
	policy_case("{\"onUnsupported\":\"yes\"}", 0, 0, 0, 0, "\"onUnsupported\" must be \"fallback\" or \"fail\"");
	policy_case("{\"report\":\"everything\"}", 0, 0, 0, 0, "\"report\" must be \"no-cost\" or \"all\"");
	policy_case("{\"report\":\"all\",\"report\":\"all\"}", 0, 0, 0, 0, "duplicate key \"report\"");
	policy_case("{\"allow\":\"/x\"}", 0, 0, 0, 0, "\"allow\" must be an array");
	policy_case("{\"allow\":[\"rel\"]}", 0, 0, 0, 0, "absolute paths");
	policy_case("{\"allow\":[\"/a\\u0000b\"]}", 0, 0, 0, 0, "without NUL");
	policy_case("{\"allow\":[1]}", 0, 0, 0, 0, "entries must be strings");
	policy_case("{\"mode\":\"audit\",\"mode\":\"enforce\"}", 0, 0, 0, 0, "duplicate key \"mode\"");
	policy_case("{\"mode\":\"audit\",}", 0, 0, 0, 0, "expected a string");
	policy_case("{\"mode\":\"audit\"", 0, 0, 0, 0, "expected ',' or '}'");
	policy_case("{\"mode\":\"audit\"} x", 0, 0, 0, 0, "trailing data");
	policy_case("{\"mode\" \"audit\"}", 0, 0, 0, 0, "expected ':'");
	policy_case("{'mode':'audit'}", 0, 0, 0, 0, "expected a string");
	policy_case("{\"x\":01}", 0, 0, 0, 0, "expected ',' or '}'");
	policy_case("{\"x\":1.}", 0, 0, 0, 0, "invalid number");
	policy_case("{\"x\":tru}", 0, 0, 0, 0, "unexpected character");
	policy_case("{\"x\":\"\\q\"}", 0, 0, 0, 0, "invalid escape");
	policy_case("{\"x\":\"\\ud800\"}", 0, 0, 0, 0, "unpaired high surrogate");
	policy_case("{\"x\":\"\\udc00\"}", 0, 0, 0, 0, "unpaired low surrogate");
	policy_case("{\"x\":\"a\tb\"}", 0, 0, 0, 0, "control character");
	policy_case("{\"x\":\"\xff\"}", 0, 0, 0, 0, "invalid UTF-8");
	policy_case("{\"x\":\"\xc0\xaf\"}", 0, 0, 0, 0, "invalid UTF-8");
	policy_case("{\"x\":\"\xed\xa0\x80\"}", 0, 0, 0, 0, "invalid UTF-8");
	policy_case("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0, 0, 0, 0,
		    "nesting too deep");

	strcpy(buf, "{\"allow\":[\"/opt/app/run\",\"/opt/tools/\",\"/\\u00e9\"]}");
	CHECK(policy_parse(&p, buf, strlen(buf), err, sizeof err) == 0, "allow policy: %s", err);
	CHECK(policy_allows(&p, "/opt/app/run"), "exact allow");
	CHECK(!policy_allows(&p, "/opt/app/run2"), "exact is not prefix");
	CHECK(!policy_allows(&p, "/opt/app"), "exact is not parent");
	CHECK(policy_allows(&p, "/opt/tools/x/y"), "dir prefix");
	CHECK(!policy_allows(&p, "/opt/toolsx"), "dir prefix needs slash");
	CHECK(policy_allows(&p, "/\xc3\xa9"), "unicode escape decoded");
	policy_free(&p);
}

static void sha_hex(const void *d, size_t n, char out[65])
{
	struct sha256 s;
	uint8_t h[32];
	int i;

	sha256_init(&s);
	sha256_update(&s, d, n);
	sha256_final(&s, h);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void sha_tests(void)
{
	char hex[65];
	struct sha256 s;
	uint8_t h[32], h2[32];
	static char mil[1000000];
	size_t i;

	sha_hex("", 0, hex);
	CHECK(!strcmp(hex, H64), "sha256('')=%s", hex);
	sha_hex("abc", 3, hex);
	CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256(abc)=%s", hex);
	sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256(448 bits)=%s", hex);
	memset(mil, 'a', sizeof mil);
	sha_hex(mil, sizeof mil, hex);
	CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "sha256(1M a)=%s", hex);
	/* incremental updates of odd sizes give the same digest */
	sha256_init(&s);
	for (i = 0; i < sizeof mil;) {
		size_t k = (i % 97) + 1;
		if (k > sizeof mil - i)
			k = sizeof mil - i;
		sha256_update(&s, mil + i, k);
		i += k;
	}
	sha256_final(&s, h);
	sha256_init(&s);
	sha256_update(&s, mil, sizeof mil);
	sha256_final(&s, h2);
	CHECK(!memcmp(h, h2, 32), "incremental == one-shot");
}

/* --- the seccomp filter ------------------------------------------------ */

/* The kernel's seccomp_is_const_allow() (kernel/seccomp.c, Linux 5.11+):
 * a syscall skips the filter (action cache bitmap) only if, with nr and
 * arch known, the filter reaches RET_ALLOW without loading anything else. */
static int const_allow(const struct sock_filter *f, size_t len, uint32_t arch, uint32_t nr)
{
	uint32_t a = 0;
	size_t pc;
	int res;

	for (pc = 0; pc < len; pc++) {
		uint32_t k = f[pc].k;

		switch (f[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k == offsetof(struct seccomp_data, nr))
				a = nr;
			else if (k == offsetof(struct seccomp_data, arch))
				a = arch;
			else
				return 0;
			break;
		case BPF_RET | BPF_K:
			return k == SECCOMP_RET_ALLOW;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
			switch (BPF_OP(f[pc].code)) {
			case BPF_JEQ: res = a == k; break;
			case BPF_JGE: res = a >= k; break;
			case BPF_JGT: res = a > k; break;
			default: res = (a & k) != 0; break;
			}
			pc += res ? f[pc].jt : f[pc].jf;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* Run the filter on one seccomp_data (only the opcodes the filter uses). */
static uint32_t run_filter(const struct sock_filter *f, size_t len, const struct seccomp_data *d)
{
	uint32_t a = 0;
	size_t pc;

	for (pc = 0; pc < len; pc++) {
		uint32_t k = f[pc].k;

		switch (f[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k > sizeof *d - 4)
				return 0xdead;
			memcpy(&a, (const char *)d + k, 4);
			break;
		case BPF_RET | BPF_K:
			return k;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? f[pc].jt : f[pc].jf;
			break;
		default:
			return 0xbad;
		}
	}
	return 0xfa11;
}

static uint32_t verdict_of(const struct sock_filter *f, size_t len, uint32_t arch, uint32_t nr,
			   uint64_t a0, uint64_t a1)
{
	struct seccomp_data d;

	memset(&d, 0, sizeof d);
	d.arch = arch;
	d.nr = (int)nr;
	d.args[0] = a0;
	d.args[1] = a1;
	return run_filter(f, len, &d);
}

static uint32_t verdict(uint32_t arch, uint32_t nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d;

	memset(&d, 0, sizeof d);
	d.arch = arch;
	d.nr = (int)nr;
	d.args[0] = a0;
	d.args[1] = a1;
	return run_filter(exec_filter, sizeof exec_filter / sizeof exec_filter[0], &d);
}

static void filter_tests(void)
{
	const size_t len = sizeof exec_filter / sizeof exec_filter[0];
	const uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
	uint32_t nr, bad = 0;

	/* Every native x86_64 and i386 syscall except the exec and seccomp
	 * calls must qualify for the cache, so that the filter costs nothing
	 * for them; those must not (the filter has to run). */
	for (nr = 0; nr < 1024; nr++) {
		int native = nr == __NR_execve || nr == __NR_execveat || nr == __NR_seccomp;
		int i386 = nr == 11 || nr == 358 || nr == 354;

		if (const_allow(exec_filter, len, AUDIT_ARCH_X86_64, nr) == native ||
		    const_allow(exec_filter, len, AUDIT_ARCH_I386, nr) == i386) {
			bad++;
			printf("FAIL cache: nr %u\n", nr);
		}
		if (!native && verdict(AUDIT_ARCH_X86_64, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
		if (!i386 && verdict(AUDIT_ARCH_I386, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
	}
	CHECK(bad == 0, "%u syscalls with the wrong cache status or verdict", bad);
	CHECK(!const_allow(exec_filter, len, AUDIT_ARCH_AARCH64, 0), "other arch not cached");

	CHECK(verdict(AUDIT_ARCH_X86_64, __NR_execve, 0, 0) == SECCOMP_RET_USER_NOTIF, "execve notifies");
	CHECK(verdict(AUDIT_ARCH_X86_64, __NR_execveat, 0, 0) == SECCOMP_RET_USER_NOTIF, "execveat notifies");
	CHECK(verdict(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER,
		      SECCOMP_FILTER_FLAG_NEW_LISTENER) == eperm, "no nested listener");
	CHECK(verdict(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0) == SECCOMP_RET_ALLOW,
	      "plain nested filter allowed");
	CHECK(verdict(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0) == SECCOMP_RET_ALLOW,
	      "other seccomp operations allowed");
	CHECK(verdict(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 520, 0, 0) == eperm, "x32 execve refused");
	CHECK(verdict(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 545, 0, 0) == eperm, "x32 execveat refused");
	CHECK(verdict(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 317, 0, 0) == eperm, "x32 seccomp refused");
	CHECK(verdict(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 39, 0, 0) == SECCOMP_RET_ALLOW, "x32 getpid allowed");
	CHECK(verdict(AUDIT_ARCH_I386, 11, 0, 0) == eperm, "i386 execve refused");
	CHECK(verdict(AUDIT_ARCH_I386, 358, 0, 0) == eperm, "i386 execveat refused");
	CHECK(verdict(AUDIT_ARCH_I386, 354, 0, 0) == eperm, "i386 seccomp refused");
	CHECK(verdict(AUDIT_ARCH_AARCH64, 0, 0, 0) == SECCOMP_RET_KILL_PROCESS, "other arch killed");
}

static void memfd_filter_tests(void)
{
	const size_t len = sizeof memfd_filter / sizeof memfd_filter[0];
	const uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
	uint32_t nr, bad = 0;

#define MV(arch, nr, a0, a1) verdict_of(memfd_filter, len, (arch), (nr), (a0), (a1))
	/* Only memfd_create, seccomp and execveat make the filter run;
	 * everything else, execve included, is answered from the action cache. */
	for (nr = 0; nr < 1024; nr++) {
		int native = nr == __NR_memfd_create || nr == __NR_seccomp || nr == __NR_execveat;
		int i386 = nr == 356 || nr == 354;

		if (const_allow(memfd_filter, len, AUDIT_ARCH_X86_64, nr) == native ||
		    const_allow(memfd_filter, len, AUDIT_ARCH_I386, nr) == i386) {
			bad++;
			printf("FAIL memfd filter cache: nr %u\n", nr);
		}
		if (!native && MV(AUDIT_ARCH_X86_64, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
		if (!i386 && MV(AUDIT_ARCH_I386, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
	}
	CHECK(bad == 0, "memfd filter: %u syscalls with the wrong cache status or verdict", bad);
	CHECK(MV(AUDIT_ARCH_X86_64, __NR_memfd_create, 0, 0) == SECCOMP_RET_USER_NOTIF, "memfd_create notifies");
	CHECK(MV(AUDIT_ARCH_X86_64, __NR_execve, 0, 0) == SECCOMP_RET_ALLOW, "execve left to Landlock");
	{
		struct seccomp_data d;

		memset(&d, 0, sizeof d);
		d.arch = AUDIT_ARCH_X86_64;
		d.nr = __NR_execveat;
		CHECK(run_filter(memfd_filter, len, &d) == SECCOMP_RET_ALLOW, "execveat with a path left to Landlock");
		d.args[4] = AT_SYMLINK_NOFOLLOW;
		CHECK(run_filter(memfd_filter, len, &d) == SECCOMP_RET_ALLOW, "execveat(AT_SYMLINK_NOFOLLOW) left to Landlock");
		d.args[4] = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW;
		CHECK(run_filter(memfd_filter, len, &d) == SECCOMP_RET_USER_NOTIF,
		      "execveat(AT_EMPTY_PATH) notifies (fd-based exec is reported)");
	}
	CHECK(MV(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER,
		 SECCOMP_FILTER_FLAG_NEW_LISTENER) == eperm, "memfd filter: no nested listener");
	CHECK(MV(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0) == SECCOMP_RET_ALLOW,
	      "memfd filter: plain nested filter allowed");
	CHECK(MV(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 319, 0, 0) == eperm, "x32 memfd_create refused");
	CHECK(MV(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 317, 0, 0) == eperm, "x32 seccomp refused (memfd filter)");
	CHECK(MV(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 39, 0, 0) == SECCOMP_RET_ALLOW, "x32 getpid allowed (memfd filter)");
	CHECK(MV(AUDIT_ARCH_I386, 356, 0, 0) == eperm, "i386 memfd_create refused");
	CHECK(MV(AUDIT_ARCH_I386, 354, 0, 0) == eperm, "i386 seccomp refused (memfd filter)");
	CHECK(MV(AUDIT_ARCH_I386, 11, 0, 0) == SECCOMP_RET_ALLOW, "i386 execve left to Landlock");
	CHECK(MV(AUDIT_ARCH_AARCH64, 0, 0, 0) == SECCOMP_RET_KILL_PROCESS, "memfd filter: other arch killed");
#undef MV
}

static void report_filter_tests(void)
{
	const size_t len = sizeof report_filter / sizeof report_filter[0];
	const uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
	uint32_t nr, bad = 0;

#define RV(arch, nr, a0, a1) verdict_of(report_filter, len, (arch), (nr), (a0), (a1))
	for (nr = 0; nr < 1024; nr++) {
		int native = nr == __NR_memfd_create || nr == __NR_seccomp || nr == __NR_execve ||
			     nr == __NR_execveat;
		int i386 = nr == 356 || nr == 354;

		if (const_allow(report_filter, len, AUDIT_ARCH_X86_64, nr) == native ||
		    const_allow(report_filter, len, AUDIT_ARCH_I386, nr) == i386) {
			bad++;
			printf("FAIL report filter cache: nr %u\n", nr);
		}
		if (!native && RV(AUDIT_ARCH_X86_64, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
		if (!i386 && RV(AUDIT_ARCH_I386, nr, 0, 0) != SECCOMP_RET_ALLOW)
			bad++;
	}
	CHECK(bad == 0, "report filter: %u syscalls with the wrong cache status or verdict", bad);
	CHECK(RV(AUDIT_ARCH_X86_64, __NR_execve, 0, 0) == SECCOMP_RET_USER_NOTIF, "report filter: execve notifies");
	CHECK(RV(AUDIT_ARCH_X86_64, __NR_execveat, 0, 0) == SECCOMP_RET_USER_NOTIF, "report filter: execveat notifies");
	CHECK(RV(AUDIT_ARCH_X86_64, __NR_memfd_create, 0, 0) == SECCOMP_RET_USER_NOTIF, "report filter: memfd_create notifies");
	CHECK(RV(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER) == eperm,
	      "report filter: no nested listener");
	CHECK(RV(AUDIT_ARCH_X86_64, __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0) == SECCOMP_RET_ALLOW,
	      "report filter: plain nested filter allowed");
	CHECK(RV(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 319, 0, 0) == eperm, "report filter: x32 memfd_create refused");
	CHECK(RV(AUDIT_ARCH_X86_64, __X32_SYSCALL_BIT | 317, 0, 0) == eperm, "report filter: x32 seccomp refused");
	CHECK(RV(AUDIT_ARCH_I386, 356, 0, 0) == eperm, "report filter: i386 memfd_create refused");
	CHECK(RV(AUDIT_ARCH_I386, 11, 0, 0) == SECCOMP_RET_ALLOW, "report filter: i386 execve left to Landlock");
	CHECK(RV(AUDIT_ARCH_AARCH64, 0, 0, 0) == SECCOMP_RET_KILL_PROCESS, "report filter: other arch killed");
#undef RV
}

int main(void)
{
	manifest_ok();
	manifest_errors();
	policy_tests();
	sha_tests();
	filter_tests();
	memfd_filter_tests();
	report_filter_tests();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
