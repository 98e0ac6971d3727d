/*
 * fuzz_gauth.c: libFuzzer target for ~/.google_authenticator files:
 * parsing, checks of a few codes against them, and the file written
 * back, which must parse again to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "gauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not HOTP: a cheap stand-in with the same shape of output. */
static int
fake_hotp(void *ctx, const uint8_t *key, size_t keylen, uint64_t counter,
    char out[GAUTH_CODE_LEN + 1])
{
	uint64_t h = counter * 1000003u;
	size_t i;

	for (i = 0; i < keylen; i++)
		h = h * 31 + key[i];
	snprintf(out, GAUTH_CODE_LEN + 1, "%06u", (unsigned)(h % 1000000));
	return 0;
}

static void
written_parses_back(const struct gauth *g)
{
	struct buf *b1 = buf_new(0), *b2 = buf_new(0);
	struct gauth *h = NULL;
	unsigned long line;
	const char *why;

	if (b1 == NULL || b2 == NULL || gauth_serialize(g, b1) != 0)
		goto out;
	if (gauth_parse(
	        (const char *)buf_ptr(b1), buf_len(b1), &h, &why, &line) != 0) {
		/* Only growth past the size cap may stop it parsing. */
		if (buf_len(b1) <= GAUTH_FILE_MAX)
			abort();
		goto out;
	}
	if (gauth_serialize(h, b2) != 0 || buf_len(b1) != buf_len(b2) ||
	    memcmp(buf_ptr(b1), buf_ptr(b2), buf_len(b1)) != 0)
		abort();
out:
	gauth_free(h);
	buf_free(b1);
	buf_free(b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codes[] = {
	    "123456", "12345678", "000000", "1234", "abcdef", ""};
	enum gauth_verdict v;
	struct gauth *g = NULL;
	unsigned long line;
	const char *why;
	size_t i, left;
	int r;

	r = gauth_parse((const char *)data, size, &g, &why, &line);
	if ((r == 0) != (g != NULL) || (r != 0 && why == NULL))
		abort();
	if (g == NULL)
		return 0;
	written_parses_back(g);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		left = gauth_scratch_left(g);
		if (gauth_check(g, codes[i], 1700000000 + 30 * i, fake_hotp,
		        NULL, &v) != 0)
			continue;
		if (v == GAUTH_OK_SCRATCH && gauth_scratch_left(g) != left - 1)
			abort();
		if (v != GAUTH_WRONG && v != GAUTH_MALFORMED_CODE &&
		    v != GAUTH_REUSED && v != GAUTH_RATE_LIMITED &&
		    !g->changed && (g->disallow_reuse || v != GAUTH_OK_TOTP))
			abort();
	}
	written_parses_back(g);
	gauth_free(g);
	return 0;
}
