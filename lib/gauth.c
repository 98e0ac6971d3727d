/*
 * gauth.c: google-authenticator-libpam's ~/.google_authenticator format:
 * parsing, the decision on one code, and the file as it must be written
 * back. Lines it does not understand are kept verbatim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "gauth.h"

#define NUMBER_MAX ((uint64_t)1 << 40) /* times and steps: far future */
#define SKEW_MAX 1000000               /* steps; libpam's own are smaller */

static const char *const option_names[GO_COUNT] = {
    [GO_RATE_LIMIT] = "RATE_LIMIT",
    [GO_WINDOW_SIZE] = "WINDOW_SIZE",
    [GO_STEP_SIZE] = "STEP_SIZE",
    [GO_DISALLOW_REUSE] = "DISALLOW_REUSE",
    [GO_TOTP_AUTH] = "TOTP_AUTH",
    [GO_HOTP_COUNTER] = "HOTP_COUNTER",
    [GO_TIME_SKEW] = "TIME_SKEW",
};

static const char *const option_errors[GO_COUNT] = {
    [GO_RATE_LIMIT] = "invalid RATE_LIMIT option",
    [GO_WINDOW_SIZE] = "invalid WINDOW_SIZE option",
    [GO_STEP_SIZE] = "invalid STEP_SIZE option",
    [GO_DISALLOW_REUSE] = "invalid DISALLOW_REUSE option",
    [GO_TOTP_AUTH] = "invalid TOTP_AUTH option",
    [GO_HOTP_COUNTER] = "invalid HOTP_COUNTER option",
    [GO_TIME_SKEW] = "invalid TIME_SKEW option",
};

int
gauth_base32_decode(
    const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen)
{
	unsigned acc = 0, bits = 0, v;
	size_t i, n = 0;
	int padded = 0;
	char c;

	*outlen = 0;
	for (i = 0; i < inlen; i++) {
		c = in[i];
		/* libpam's decoder skips these too. */
		if (c == ' ' || c == '\t' || c == '-')
			continue;
		if (c == '=') {
			padded = 1;
			continue;
		}
		if (padded)
			return ERR_FORMAT;
		/* As libpam's decoder: the digits mistyped for letters. */
		if (c == '0')
			c = 'O';
		else if (c == '1')
			c = 'L';
		else if (c == '8')
			c = 'B';
		if (c >= 'A' && c <= 'Z')
			v = (unsigned)(c - 'A');
		else if (c >= 'a' && c <= 'z')
			v = (unsigned)(c - 'a');
		else if (c >= '2' && c <= '7')
			v = (unsigned)(c - '2') + 26;
		else
			return ERR_FORMAT;
		acc = ((acc << 5) | v) & 0xffff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == outmax) {
				wipe(out, n);
				return ERR_TOO_BIG;
			}
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (n == 0)
		return ERR_FORMAT;
	*outlen = n;
	return 0;
}

/* Skip blanks, then one decimal number no larger than max. */
static int
next_number(const char **pp, uint64_t max, uint64_t *vp)
{
	const char *p = *pp + strspn(*pp, " \t");
	uint64_t v = 0, d;

	if (*p < '0' || *p > '9')
		return ERR_FORMAT;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = (uint64_t)(*p - '0');
		if (d > max || v > (max - d) / 10)
			return ERR_FORMAT;
		v = v * 10 + d;
	}
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return ERR_FORMAT;
	*pp = p;
	*vp = v;
	return 0;
}

static int
at_end(const char *p)
{
	return p[strspn(p, " \t")] == '\0';
}

/* The rest of an option line: numbers separated by blanks. */
static int
number_list(const char *p, uint64_t **listp, size_t *np)
{
	uint64_t *list = NULL, *nl, v;
	size_t n = 0;
	int r;

	while (!at_end(p)) {
		if (n == GAUTH_LIST_MAX) {
			r = ERR_LIMIT;
			goto fail;
		}
		if ((r = next_number(&p, NUMBER_MAX, &v)) != 0)
			goto fail;
		if ((nl = reallocarray(list, n + 1, sizeof(*list))) == NULL) {
			r = ERR_ALLOC;
			goto fail;
		}
		list = nl;
		list[n++] = v;
	}
	*listp = list;
	*np = n;
	return 0;
fail:
	free(list);
	return r;
}

static int
parse_skew(const char *p, int64_t *skewp)
{
	uint64_t v;
	int neg = 0, r;

	p += strspn(p, " \t");
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if ((r = next_number(&p, SKEW_MAX, &v)) != 0 || !at_end(p))
		return ERR_FORMAT;
	*skewp = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* The value of a known option, p just after its name. */
static int
parse_option(struct gauth *g, enum gauth_option opt, const char *p)
{
	uint64_t a, b;
	int r;

	switch (opt) {
	case GO_RATE_LIMIT:
		if ((r = next_number(&p, 100, &a)) != 0 || a < 1 ||
		    (r = next_number(&p, 3600, &b)) != 0 || b < 1)
			return ERR_FORMAT;
		g->rate_limit = 1;
		g->rate_attempts = (unsigned)a;
		g->rate_interval = (unsigned)b;
		return number_list(p, &g->rate_times, &g->nrate_times);
	case GO_WINDOW_SIZE:
		if (next_number(&p, 100, &a) != 0 || a < 1 || !at_end(p))
			return ERR_FORMAT;
		g->window = (unsigned)a;
		return 0;
	case GO_STEP_SIZE:
		if (next_number(&p, 60, &a) != 0 || a < 1 || !at_end(p))
			return ERR_FORMAT;
		g->step = (unsigned)a;
		return 0;
	case GO_DISALLOW_REUSE:
		g->disallow_reuse = 1;
		return number_list(p, &g->used_steps, &g->nused_steps);
	case GO_TOTP_AUTH:
		if (!at_end(p))
			return ERR_FORMAT;
		g->totp = 1;
		return 0;
	case GO_HOTP_COUNTER:
		if (next_number(&p, INT64_MAX, &a) != 0 || a < 1 || !at_end(p))
			return ERR_FORMAT;
		g->hotp_counter = a;
		return 0;
	case GO_TIME_SKEW:
		return parse_skew(p, &g->skew);
	default:
		return ERR_INTERNAL;
	}
}

/* Eight digits, the first not zero: what google-authenticator writes. */
static int
is_scratch(const char *s)
{
	size_t i;

	if (strlen(s) != GAUTH_SCRATCH_LEN || s[0] == '0')
		return 0;
	for (i = 0; i < GAUTH_SCRATCH_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Classify one line after the first; takes text. */
static int
add_line(struct gauth *g, char *text, int *seen, const char **why)
{
	struct gauth_line *nl, *l;
	const char *name;
	size_t nlen;
	int o, r;

	if ((nl = reallocarray(g->lines, g->nlines + 1, sizeof(*nl))) == NULL) {
		freezero(text, strlen(text));
		return ERR_ALLOC;
	}
	g->lines = nl;
	l = &g->lines[g->nlines++];
	memset(l, 0, sizeof(*l));
	l->text = text;
	if (is_scratch(text)) {
		l->kind = GL_SCRATCH;
		return 0;
	}
	if (text[0] != '"') {
		l->kind = GL_OTHER;
		return 0;
	}
	l->kind = GL_OPTION;
	if (text[1] != ' ')
		return 0;
	name = text + 2;
	nlen = strcspn(name, " \t");
	for (o = GO_NONE + 1; o < GO_COUNT; o++) {
		if (strlen(option_names[o]) != nlen ||
		    memcmp(name, option_names[o], nlen) != 0)
			continue;
		if (seen[o]) {
			*why = "duplicate option";
			return ERR_FORMAT;
		}
		seen[o] = 1;
		l->opt = (enum gauth_option)o;
		if ((r = parse_option(g, l->opt, name + nlen)) == 0)
			return 0;
		if (r == ERR_ALLOC)
			return r;
		if (r == ERR_LIMIT) {
			*why = "too many numbers in option";
			return r;
		}
		*why = option_errors[o];
		return ERR_FORMAT;
		return 0;
	}
	return 0;
}

int
gauth_parse(const char *text, size_t len, struct gauth **gp, const char **why,
    unsigned long *linep)
{
	struct gauth *g = NULL;
	const char *eol;
	size_t pos = 0, n, linelen;
	unsigned long lineno = 0;
	int seen[GO_COUNT] = {0}, r;
	char *line;

	*gp = NULL;
	*why = NULL;
	*linep = 0;
	if (len > GAUTH_FILE_MAX) {
		*why = "file too large";
		return ERR_TOO_BIG;
	}
	if (memchr(text, '\0', len) != NULL) {
		*why = "NUL byte in file";
		return ERR_FORMAT;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ERR_ALLOC;
	g->window = 3;
	g->step = 30;
	while (pos < len) {
		eol = memchr(text + pos, '\n', len - pos);
		n = eol != NULL ? (size_t)(eol - (text + pos)) : len - pos;
		linelen = n;
		while (linelen > 0 && text[pos + linelen - 1] == '\r')
			linelen--;
		lineno++;
		if ((line = strndup(text + pos, linelen)) == NULL) {
			r = ERR_ALLOC;
			goto fail;
		}
		pos += n + (eol != NULL ? 1 : 0);
		if (lineno == 1) {
			g->secret = line;
			if ((r = gauth_base32_decode(line, linelen, g->key,
			         sizeof(g->key), &g->keylen)) != 0) {
				*why = r == ERR_TOO_BIG
				    ? "shared secret too long"
				    : "no valid base32 shared secret on the "
				      "first line";
				goto fail;
			}
			continue;
		}
		if ((r = add_line(g, line, seen, why)) != 0)
			goto fail;
	}
	if (g->secret == NULL) {
		*why = "empty file";
		r = ERR_FORMAT;
		goto fail;
	}
	*gp = g;
	return 0;
fail:
	*linep = lineno;
	if (*why == NULL)
		*why = "out of memory";
	gauth_free(g);
	return r;
}

void
gauth_free(struct gauth *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nlines; i++)
		if (g->lines[i].text != NULL)
			freezero(g->lines[i].text, strlen(g->lines[i].text));
	free(g->lines);
	if (g->secret != NULL)
		freezero(g->secret, strlen(g->secret));
	free(g->rate_times);
	free(g->used_steps);
	freezero(g, sizeof(*g));
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Count this attempt: keep the attempts of the last rate_interval seconds
 * (this one included); more than rate_attempts of them is too many, and
 * then only the latest rate_attempts are kept, as libpam does.
 */
static int
rate_limit(struct gauth *g, uint64_t now, int *exceededp)
{
	uint64_t *t;
	size_t i, n = 0, keep;

	*exceededp = 0;
	if ((t = calloc(g->nrate_times + 1, sizeof(*t))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < g->nrate_times; i++)
		if (g->rate_times[i] <= now &&
		    g->rate_times[i] + g->rate_interval >= now)
			t[n++] = g->rate_times[i];
	t[n++] = now;
	qsort(t, n, sizeof(*t), cmp_u64);
	keep = n;
	if (n > g->rate_attempts) {
		*exceededp = 1;
		keep = g->rate_attempts;
		memmove(t, t + (n - keep), keep * sizeof(*t));
	}
	free(g->rate_times);
	g->rate_times = t;
	g->nrate_times = keep;
	g->changed = 1;
	return 0;
}

static int
use_scratch(struct gauth *g, const char *code, enum gauth_verdict *vp)
{
	struct gauth_line *found = NULL;
	size_t i;
	int eq;

	/* Every code is compared, so the time says nothing of which. */
	for (i = 0; i < g->nlines; i++) {
		if (g->lines[i].kind != GL_SCRATCH || g->lines[i].used)
			continue;
		eq = ct_eq(g->lines[i].text, code, GAUTH_SCRATCH_LEN);
		if (eq && found == NULL)
			found = &g->lines[i];
	}
	if (found != NULL) {
		found->used = 1;
		g->changed = 1;
		*vp = GAUTH_OK_SCRATCH;
	}
	return 0;
}

/* 1 if hotp(counter) is code; every call compares all six digits. */
static int
code_at(const struct gauth *g, gauth_hotp_fn hotp, void *ctx, uint64_t counter,
    const char *code, int *eqp)
{
	char want[GAUTH_CODE_LEN + 1];
	int r;

	*eqp = 0;
	memset(want, 0, sizeof(want));
	if ((r = hotp(ctx, g->key, g->keylen, counter, want)) != 0)
		goto out;
	if (strnlen(want, sizeof(want)) != GAUTH_CODE_LEN) {
		r = ERR_CRYPTO;
		goto out;
	}
	*eqp = ct_eq(want, code, GAUTH_CODE_LEN);
out:
	wipe(want, sizeof(want));
	return r;
}

static int
check_hotp(struct gauth *g, const char *code, gauth_hotp_fn hotp, void *ctx,
    enum gauth_verdict *vp)
{
	uint64_t found = 0;
	unsigned i;
	int eq, r, hit = 0;

	/* Codes ahead of the counter: the user may have skipped some. */
	for (i = 0; i < g->window; i++) {
		if ((r = code_at(
		         g, hotp, ctx, g->hotp_counter + i, code, &eq)) != 0)
			return r;
		if (eq && !hit) {
			hit = 1;
			found = g->hotp_counter + i;
		}
	}
	/*
	 * As libpam (without its no_increment_hotp): a wrong code moves the
	 * counter on by one too, so a guesser's window of codes keeps moving.
	 */
	g->hotp_counter = hit ? found + 1 : g->hotp_counter + 1;
	g->changed = 1;
	if (hit)
		*vp = GAUTH_OK_HOTP;
	return 0;
}

/* DISALLOW_REUSE: refuse a step seen before; remember this one. */
static int
record_step(struct gauth *g, uint64_t step, enum gauth_verdict *vp)
{
	uint64_t *nl, d;
	size_t i, n = 0;

	for (i = 0; i < g->nused_steps; i++) {
		if (g->used_steps[i] == step) {
			*vp = GAUTH_REUSED;
			return 0;
		}
	}
	/* Steps outside any window around this one can never match again. */
	for (i = 0; i < g->nused_steps; i++) {
		d = g->used_steps[i] > step ? g->used_steps[i] - step
		                            : step - g->used_steps[i];
		if (d < g->window)
			g->used_steps[n++] = g->used_steps[i];
	}
	if (n == GAUTH_LIST_MAX)
		return ERR_LIMIT;
	if ((nl = reallocarray(g->used_steps, n + 1, sizeof(*nl))) == NULL)
		return ERR_ALLOC;
	g->used_steps = nl;
	g->used_steps[n++] = step;
	g->nused_steps = n;
	g->changed = 1;
	*vp = GAUTH_OK_TOTP;
	return 0;
}

static int
check_totp(struct gauth *g, const char *code, uint64_t now, gauth_hotp_fn hotp,
    void *ctx, enum gauth_verdict *vp)
{
	int64_t tm = (int64_t)(now / g->step) + g->skew, s, found = 0;
	int64_t lo = -(int64_t)((g->window - 1) / 2), hi = g->window / 2, i;
	int eq, r, hit = 0;

	for (i = lo; i <= hi; i++) {
		if ((s = tm + i) < 0)
			continue;
		if ((r = code_at(g, hotp, ctx, (uint64_t)s, code, &eq)) != 0)
			return r;
		if (eq && !hit) {
			hit = 1;
			found = s;
		}
	}
	if (!hit)
		return 0;
	if (g->disallow_reuse)
		return record_step(g, (uint64_t)found, vp);
	*vp = GAUTH_OK_TOTP;
	return 0;
}

int
gauth_check(struct gauth *g, const char *code, uint64_t now, gauth_hotp_fn hotp,
    void *ctx, enum gauth_verdict *vp)
{
	size_t i, len = strlen(code);
	int exceeded, r;

	*vp = GAUTH_WRONG;
	if (g->rate_limit) {
		if ((r = rate_limit(g, now, &exceeded)) != 0)
			return r;
		if (exceeded) {
			*vp = GAUTH_RATE_LIMITED;
			return 0;
		}
	}
	for (i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			break;
	if (i != len || (len != GAUTH_CODE_LEN && len != GAUTH_SCRATCH_LEN)) {
		*vp = GAUTH_MALFORMED_CODE;
		return 0;
	}
	if (len == GAUTH_SCRATCH_LEN)
		return use_scratch(g, code, vp);
	/* As libpam: with HOTP_COUNTER, TOTP_AUTH is not used. */
	if (g->hotp_counter > 0)
		return check_hotp(g, code, hotp, ctx, vp);
	if (g->totp)
		return check_totp(g, code, now, hotp, ctx, vp);
	return 0;
}

static int
put_numbers(struct buf *out, const char *head, const uint64_t *v, size_t n)
{
	char num[32];
	size_t i;
	int r;

	if ((r = buf_put(out, head, strlen(head))) != 0)
		return r;
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), " %llu", (unsigned long long)v[i]);
		if ((r = buf_put(out, num, strlen(num))) != 0)
			return r;
	}
	return buf_put(out, "\n", 1);
}

int
gauth_serialize(const struct gauth *g, struct buf *out)
{
	const struct gauth_line *l;
	char head[64];
	size_t i;
	int r;

	if ((r = buf_put(out, g->secret, strlen(g->secret))) != 0 ||
	    (r = buf_put(out, "\n", 1)) != 0)
		return r;
	for (i = 0; i < g->nlines; i++) {
		l = &g->lines[i];
		if (l->used)
			continue;
		switch (l->opt) {
		case GO_RATE_LIMIT:
			snprintf(head, sizeof(head), "\" RATE_LIMIT %u %u",
			    g->rate_attempts, g->rate_interval);
			r = put_numbers(
			    out, head, g->rate_times, g->nrate_times);
			break;
		case GO_DISALLOW_REUSE:
			r = put_numbers(out, "\" DISALLOW_REUSE", g->used_steps,
			    g->nused_steps);
			break;
		case GO_HOTP_COUNTER:
			snprintf(head, sizeof(head), "\" HOTP_COUNTER %llu",
			    (unsigned long long)g->hotp_counter);
			r = put_numbers(out, head, NULL, 0);
			break;
		default:
			if ((r = buf_put(out, l->text, strlen(l->text))) == 0)
				r = buf_put(out, "\n", 1);
			break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

size_t
gauth_scratch_left(const struct gauth *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->nlines; i++)
		if (g->lines[i].kind == GL_SCRATCH && !g->lines[i].used)
			n++;
	return n;
}
