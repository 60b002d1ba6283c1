/* SPDX-License-Identifier: Apache-2.0
 * A small, strict JSON reader for exactly the policy shape (RFC 8259
 * grammar; UTF-8 validated; duplicate known keys rejected; unknown keys are
 * parsed and ignored). No general JSON model: the enforcer has no policy
 * language, only these three settings. */
#include "policy.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

struct rd {
	char *s, *p, *end;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	char msg[160];

	if (r->failed)
		return -1;
	r->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A byte offset rather than line/column: strings are decoded in place,
	 * so the text before r->p no longer matches the file. */
	snprintf(r->err, r->errlen, "at byte %zu: %s", (size_t)(r->p - r->s), msg);
	return -1;
}

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(struct rd *r, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (r->end - r->p < 4)
		return fail(r, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = *r->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail(r, "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, max U+10FFFF), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static char *put_utf8(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* Parse a string at r->p (which points at the opening quote). Decodes in
 * place: the decoded form is never longer than the escaped form, so the
 * write cursor never overtakes the read cursor. Returns the NUL-terminated
 * decoded string (or NULL on error); *has_nul reports an embedded \u0000. */
static char *string(struct rd *r, size_t *outlen, int *has_nul)
{
	char *start, *w;

	if (r->p >= r->end || *r->p != '"')
		return fail(r, "expected a string"), NULL;
	start = w = ++r->p;
	*has_nul = 0;
	for (;;) {
		unsigned char c;
		if (r->p >= r->end)
			return fail(r, "unterminated string"), NULL;
		c = (unsigned char)*r->p;
		if (c == '"') {
			r->p++;
			*w = '\0'; /* w <= position of the closing quote */
			*outlen = (size_t)(w - start);
			return start;
		}
		if (c < 0x20)
			return fail(r, "control character in string"), NULL;
		if (c == '\\') {
			uint32_t cp;
			r->p++;
			if (r->p >= r->end)
				return fail(r, "unterminated escape"), NULL;
			switch (*r->p++) {
			case '"': *w++ = '"'; break;
			case '\\': *w++ = '\\'; break;
			case '/': *w++ = '/'; break;
			case 'b': *w++ = '\b'; break;
			case 'f': *w++ = '\f'; break;
			case 'n': *w++ = '\n'; break;
			case 'r': *w++ = '\r'; break;
			case 't': *w++ = '\t'; break;
			case 'u':
				if (hex4(r, &cp) < 0)
					return NULL;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(r, "unpaired low surrogate"), NULL;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					uint32_t lo;
					if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
						return fail(r, "unpaired high surrogate"), NULL;
					r->p += 2;
					if (hex4(r, &lo) < 0)
						return NULL;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(r, "bad low surrogate"), NULL;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0)
					*has_nul = 1;
				w = put_utf8(w, cp);
				break;
			default:
				return fail(r, "invalid escape"), NULL;
			}
			continue;
		}
		{
			size_t n = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
			if (n == 0)
				return fail(r, "invalid UTF-8"), NULL;
			memmove(w, r->p, n);
			w += n;
			r->p += n;
		}
	}
}

static int skip_value(struct rd *r, int depth);

static int number(struct rd *r)
{
	char *p = r->p;
#define DIG(c) ((c) >= '0' && (c) <= '9')
	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end || !DIG(*p))
		return fail(r, "invalid number");
	if (*p == '0')
		p++;
	else
		while (p < r->end && DIG(*p))
			p++;
	if (p < r->end && *p == '.') {
		p++;
		if (p >= r->end || !DIG(*p))
			return fail(r, "invalid number");
		while (p < r->end && DIG(*p))
			p++;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= r->end || !DIG(*p))
			return fail(r, "invalid number");
		while (p < r->end && DIG(*p))
			p++;
	}
#undef DIG
	r->p = p;
	return 0;
}

static int literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, "unexpected character");
	r->p += n;
	return 0;
}

/* Validate and skip any JSON value (used for unknown keys). */
static int skip_value(struct rd *r, int depth)
{
	size_t len;
	int nul;

	if (depth > MAX_DEPTH)
		return fail(r, "nesting too deep");
	ws(r);
	if (r->p >= r->end)
		return fail(r, "unexpected end of input");
	switch (*r->p) {
	case '"':
		return string(r, &len, &nul) ? 0 : -1;
	case '{':
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		for (;;) {
			ws(r);
			if (!string(r, &len, &nul))
				return -1;
			ws(r);
			if (r->p >= r->end || *r->p != ':')
				return fail(r, "expected ':'");
			r->p++;
			if (skip_value(r, depth + 1) < 0)
				return -1;
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == '}') {
				r->p++;
				return 0;
			}
			return fail(r, "expected ',' or '}'");
		}
	case '[':
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		for (;;) {
			if (skip_value(r, depth + 1) < 0)
				return -1;
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return 0;
			}
			return fail(r, "expected ',' or ']'");
		}
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		return number(r);
	}
}

static int allow_list(struct rd *r, struct policy *p)
{
	size_t cap = 0;

	ws(r);
	if (r->p >= r->end || *r->p != '[')
		return fail(r, "\"allow\" must be an array of absolute paths");
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		size_t len;
		int nul;
		char *s;

		ws(r);
		if (r->p >= r->end || *r->p != '"')
			return fail(r, "\"allow\" entries must be strings");
		if (!(s = string(r, &len, &nul)))
			return -1;
		if (nul || len == 0 || s[0] != '/')
			return fail(r, "\"allow\" entries must be absolute paths without NUL");
		if (p->nallow == cap) {
			char **n;
			cap = cap ? cap * 2 : 8;
			n = realloc(p->allow, cap * sizeof *n);
			if (!n)
				return fail(r, "out of memory");
			p->allow = n;
		}
		p->allow[p->nallow++] = s;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return fail(r, "expected ',' or ']' in \"allow\"");
	}
}

static int choice(struct rd *r, const char *key, const char *a, const char *b, int *out)
{
	size_t len;
	int nul;
	char *s;

	ws(r);
	if (r->p >= r->end || *r->p != '"')
		return fail(r, "\"%s\" must be \"%s\" or \"%s\"", key, a, b);
	if (!(s = string(r, &len, &nul)))
		return -1;
	if (!nul && strcmp(s, a) == 0)
		*out = 0;
	else if (!nul && strcmp(s, b) == 0)
		*out = 1;
	else
		return fail(r, "\"%s\" must be \"%s\" or \"%s\"", key, a, b);
	return 0;
}

void policy_default(struct policy *p)
{
	p->audit = 0;
	p->unsupported_fail = 0;
	p->report_all = 0;
	p->allow = NULL;
	p->nallow = 0;
}

void policy_free(struct policy *p)
{
	free(p->allow);
	policy_default(p);
}

int policy_parse(struct policy *p, char *buf, size_t len, char *err, size_t errlen)
{
	struct rd r = { buf, buf, buf + len, err, errlen, 0 };
	int seen_mode = 0, seen_allow = 0, seen_unsup = 0, seen_report = 0;

	policy_default(p);
	ws(&r);
	if (r.p >= r.end || *r.p != '{') {
		fail(&r, "policy must be a JSON object");
		goto bad;
	}
	r.p++;
	ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto done;
	}
	for (;;) {
		size_t klen;
		int nul;
		char *key;

		ws(&r);
		if (!(key = string(&r, &klen, &nul)))
			goto bad;
		ws(&r);
		if (r.p >= r.end || *r.p != ':') {
			fail(&r, "expected ':'");
			goto bad;
		}
		r.p++;
		if (!nul && strcmp(key, "mode") == 0) {
			if (seen_mode++) {
				fail(&r, "duplicate key \"mode\"");
				goto bad;
			}
			if (choice(&r, "mode", "enforce", "audit", &p->audit) < 0)
				goto bad;
		} else if (!nul && strcmp(key, "onUnsupported") == 0) {
			if (seen_unsup++) {
				fail(&r, "duplicate key \"onUnsupported\"");
				goto bad;
			}
			if (choice(&r, "onUnsupported", "fallback", "fail", &p->unsupported_fail) < 0)
				goto bad;
		} else if (!nul && strcmp(key, "report") == 0) {
			if (seen_report++) {
				fail(&r, "duplicate key \"report\"");
				goto bad;
			}
			if (choice(&r, "report", "no-cost", "all", &p->report_all) < 0)
				goto bad;
		} else if (!nul && strcmp(key, "allow") == 0) {
			if (seen_allow++) {
				fail(&r, "duplicate key \"allow\"");
				goto bad;
			}
			if (allow_list(&r, p) < 0)
				goto bad;
		} else if (skip_value(&r, 1) < 0) {
			goto bad;
		}
		ws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}') {
			r.p++;
			break;
		}
		fail(&r, "expected ',' or '}'");
		goto bad;
	}
done:
	ws(&r);
	if (r.p != r.end) {
		fail(&r, "trailing data after the policy object");
		goto bad;
	}
	return 0;
bad:
	policy_free(p);
	return -1;
}

int policy_allows(const struct policy *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->nallow; i++) {
		const char *a = p->allow[i];
		size_t n = strlen(a);
		if (a[n - 1] == '/' ? strncmp(path, a, n) == 0 : strcmp(path, a) == 0)
			return 1;
	}
	return 0;
}
