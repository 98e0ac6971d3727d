/*
 * test_gauth.c: the ~/.google_authenticator format (lib/gauth.c): base32,
 * parsing and its refusals, TOTP windows and skew, DISALLOW_REUSE,
 * RATE_LIMIT, scratch codes used once, the HOTP counter, and the file
 * written back. HOTP here is RFC 4226's, over OpenSSL's HMAC-SHA1, checked
 * against the RFC's own test values first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "err.h"
#include "gauth.h"
#include "tests/unit/t.h"

/* base32 of RFC 4226's and RFC 6238's SHA-1 key "12345678901234567890" */
#define KEY32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define RFC6238_T 1111111109ULL /* TOTP 07081804: six digits 081804 */

static int hotp_calls;

static int
hotp(void *ctx, const uint8_t *key, size_t keylen, uint64_t counter,
    char out[GAUTH_CODE_LEN + 1])
{
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0, off, i;
	uint32_t bin;

	hotp_calls++;
	for (i = 0; i < 8; i++)
		msg[i] = (uint8_t)(counter >> (56 - 8 * i));
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac,
	        &maclen) == NULL ||
	    maclen != 20)
		return ERR_CRYPTO;
	off = mac[19] & 0xf;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
	    ((uint32_t)mac[off + 1] << 16) | ((uint32_t)mac[off + 2] << 8) |
	    mac[off + 3];
	snprintf(out, GAUTH_CODE_LEN + 1, "%06u", bin % 1000000);
	return 0;
}

/* The code for counter (or TOTP step) under the test key. */
static const char *
code_for(uint64_t counter)
{
	static char out[GAUTH_CODE_LEN + 1];
	static const uint8_t key[] = "12345678901234567890";

	if (hotp(NULL, key, 20, counter, out) != 0)
		return "xxxxxx";
	return out;
}

static struct gauth *
parse(const char *text)
{
	struct gauth *g = NULL;
	unsigned long line;
	const char *why;

	if (gauth_parse(text, strlen(text), &g, &why, &line) != 0) {
		printf("# parse failed at line %lu: %s\n", line, why);
		return NULL;
	}
	return g;
}

/* The file as it would be written back, NUL-terminated, static. */
static const char *
written(const struct gauth *g)
{
	static char text[8192];
	struct buf *b = buf_new(0);

	text[0] = '\0';
	if (b != NULL && gauth_serialize(g, b) == 0 &&
	    buf_len(b) < sizeof(text)) {
		memcpy(text, buf_ptr(b), buf_len(b));
		text[buf_len(b)] = '\0';
	}
	buf_free(b);
	return text;
}

static enum gauth_verdict
check(struct gauth *g, const char *code, uint64_t now)
{
	enum gauth_verdict v = GAUTH_WRONG;

	if (gauth_check(g, code, now, hotp, NULL, &v) != 0)
		return (enum gauth_verdict) - 1;
	return v;
}

static void
test_base32(void)
{
	uint8_t out[32];
	size_t n = 0;

	T_CHECK("base32: foobar",
	    gauth_base32_decode("MZXW6YTBOI======", 16, out, sizeof(out), &n) ==
	            0 &&
	        n == 6 && memcmp(out, "foobar", 6) == 0);
	T_CHECK("base32: unpadded, lower case",
	    gauth_base32_decode("mzxw6", 5, out, sizeof(out), &n) == 0 &&
	        n == 3 && memcmp(out, "foo", 3) == 0);
	T_CHECK("base32: 20-byte key",
	    gauth_base32_decode(KEY32, strlen(KEY32), out, sizeof(out), &n) ==
	            0 &&
	        n == 20 && memcmp(out, "12345678901234567890", 20) == 0);
	T_CHECK("base32: spaces skipped",
	    gauth_base32_decode("MZXW 6YTB OI", 12, out, sizeof(out), &n) ==
	            0 &&
	        n == 6);
	T_CHECK("base32: 0, 1 and 8 read as O, L and B, as libpam",
	    gauth_base32_decode("MZXW6YTB0I", 10, out, sizeof(out), &n) == 0 &&
	        n == 6 && memcmp(out, "foobar", 6) == 0 &&
	        gauth_base32_decode("1", 1, out, sizeof(out), &n) ==
	            ERR_FORMAT &&
	        gauth_base32_decode("81", 2, out, sizeof(out), &n) == 0 &&
	        n == 1 && out[0] == 0x0a);
	T_CHECK("base32: digit 9 refused",
	    gauth_base32_decode("MZXW9", 5, out, sizeof(out), &n) ==
	        ERR_FORMAT);
	T_CHECK("base32: data after padding refused",
	    gauth_base32_decode("MZ======MZ", 10, out, sizeof(out), &n) ==
	        ERR_FORMAT);
	T_CHECK("base32: empty refused",
	    gauth_base32_decode("", 0, out, sizeof(out), &n) == ERR_FORMAT);
	T_CHECK("base32: output bound",
	    gauth_base32_decode(KEY32, strlen(KEY32), out, 10, &n) ==
	        ERR_TOO_BIG);
}

static void
test_rfc4226(void)
{
	static const char *const want[] = {"755224", "287082", "359152",
	    "969429", "338314", "254676", "287922", "162583", "399871",
	    "520489"};
	unsigned i, ok = 1;

	for (i = 0; i < 10; i++)
		ok &= strcmp(code_for(i), want[i]) == 0;
	T_CHECK("hotp: RFC 4226 appendix D values", ok);
	T_CHECK("hotp: RFC 6238 SHA-1 value at 1111111109",
	    strcmp(code_for(RFC6238_T / 30), "081804") == 0);
}

static void
test_parse(void)
{
	struct gauth *g;
	const char *why = NULL;
	unsigned long line = 0;
	char big[GAUTH_FILE_MAX + 2];

	g = parse(KEY32 "\n"
	                "\" RATE_LIMIT 3 30 1700000000 1700000010\n"
	                "\" WINDOW_SIZE 17\n"
	                "\" DISALLOW_REUSE 56666666\n"
	                "\" TOTP_AUTH\n"
	                "\" SOMETHING_NEW keep me\n"
	                "12345678\n"
	                "87654321\r\n");
	T_CHECK("parse: typical file", g != NULL);
	if (g != NULL) {
		T_CHECK("parse: key",
		    g->keylen == 20 &&
		        memcmp(g->key, "12345678901234567890", 20) == 0);
		T_CHECK("parse: RATE_LIMIT",
		    g->rate_limit && g->rate_attempts == 3 &&
		        g->rate_interval == 30 && g->nrate_times == 2 &&
		        g->rate_times[1] == 1700000010);
		T_CHECK("parse: WINDOW_SIZE", g->window == 17);
		T_CHECK("parse: DISALLOW_REUSE",
		    g->disallow_reuse && g->nused_steps == 1 &&
		        g->used_steps[0] == 56666666);
		T_CHECK("parse: TOTP_AUTH", g->totp && g->hotp_counter == 0);
		T_CHECK("parse: defaults", g->step == 30 && g->skew == 0);
		T_CHECK("parse: two scratch codes", gauth_scratch_left(g) == 2);
		T_CHECK("parse: nothing changed yet", !g->changed);
		T_CHECK("parse: written back as read (CR dropped)",
		    strcmp(written(g),
		        KEY32 "\n"
		              "\" RATE_LIMIT 3 30 1700000000 1700000010\n"
		              "\" WINDOW_SIZE 17\n"
		              "\" DISALLOW_REUSE 56666666\n"
		              "\" TOTP_AUTH\n"
		              "\" SOMETHING_NEW keep me\n"
		              "12345678\n"
		              "87654321\n") == 0);
		gauth_free(g);
	}
	g = parse(KEY32);
	T_CHECK("parse: secret alone, no newline",
	    g != NULL && !g->totp && g->window == 3 &&
	        strcmp(written(g), KEY32 "\n") == 0);
	gauth_free(g);

#define REFUSED(name, text, wantline)                                          \
	do {                                                                   \
		struct gauth *x = NULL;                                        \
		int rr = gauth_parse(text, strlen(text), &x, &why, &line);     \
		T_CHECK(name,                                                  \
		    rr != 0 && x == NULL && why != NULL &&                     \
		        line == (wantline));                                   \
	} while (0)
	REFUSED("parse: empty file", "", 0);
	REFUSED("parse: bad base32", "NOT-BASE32!\n\" TOTP_AUTH\n", 1);
	REFUSED("parse: duplicate option",
	    KEY32 "\n\" TOTP_AUTH\n\" WINDOW_SIZE 3\n\" WINDOW_SIZE 5\n", 4);
	REFUSED("parse: WINDOW_SIZE 0", KEY32 "\n\" WINDOW_SIZE 0\n", 2);
	REFUSED("parse: WINDOW_SIZE 101", KEY32 "\n\" WINDOW_SIZE 101\n", 2);
	REFUSED("parse: WINDOW_SIZE junk", KEY32 "\n\" WINDOW_SIZE 3x\n", 2);
	REFUSED("parse: STEP_SIZE 61", KEY32 "\n\" STEP_SIZE 61\n", 2);
	REFUSED("parse: RATE_LIMIT one number", KEY32 "\n\" RATE_LIMIT 3\n", 2);
	REFUSED(
	    "parse: RATE_LIMIT 0 attempts", KEY32 "\n\" RATE_LIMIT 0 30\n", 2);
	REFUSED("parse: RATE_LIMIT bad time",
	    KEY32 "\n\" RATE_LIMIT 3 30 17x\n", 2);
	REFUSED("parse: DISALLOW_REUSE negative",
	    KEY32 "\n\" DISALLOW_REUSE -5\n", 2);
	REFUSED("parse: HOTP_COUNTER 0", KEY32 "\n\" HOTP_COUNTER 0\n", 2);
	REFUSED("parse: HOTP_COUNTER overflow",
	    KEY32 "\n\" HOTP_COUNTER 99999999999999999999999\n", 2);
	REFUSED("parse: TOTP_AUTH with a value", KEY32 "\n\" TOTP_AUTH 1\n", 2);
	T_CHECK("parse: NUL byte refused",
	    gauth_parse(KEY32 "\n\0\n", strlen(KEY32) + 3, &g, &why, &line) ==
	            ERR_FORMAT &&
	        g == NULL);
	memset(big, 'A', sizeof(big));
	T_CHECK("parse: too large refused",
	    gauth_parse(big, sizeof(big), &g, &why, &line) == ERR_TOO_BIG &&
	        g == NULL);
#undef REFUSED
}

static void
test_totp(void)
{
	uint64_t now = RFC6238_T, t = RFC6238_T / 30;
	struct gauth *g;
	char want[256];

	g = parse(KEY32 "\n\" TOTP_AUTH\n");
	if (g == NULL) {
		T_CHECK("totp: parse", 0);
		return;
	}
	T_CHECK("totp: RFC 6238 code at 1111111109",
	    check(g, "081804", now) == GAUTH_OK_TOTP);
	T_CHECK("totp: without DISALLOW_REUSE the same code again works",
	    check(g, "081804", now) == GAUTH_OK_TOTP && !g->changed);
	T_CHECK("totp: previous step inside the window",
	    check(g, code_for(t - 1), now) == GAUTH_OK_TOTP);
	T_CHECK("totp: next step inside the window",
	    check(g, code_for(t + 1), now) == GAUTH_OK_TOTP);
	T_CHECK("totp: two steps ahead outside the default window",
	    check(g, code_for(t + 2), now) == GAUTH_WRONG);
	T_CHECK("totp: wrong code", check(g, "000000", now) == GAUTH_WRONG);
	hotp_calls = 0;
	(void)check(g, code_for(t - 1), now);
	T_CHECK("totp: every code of the window computed, hit or not",
	    hotp_calls == 1 + 3);
	T_CHECK("totp: five digits malformed",
	    check(g, "08180", now) == GAUTH_MALFORMED_CODE);
	T_CHECK("totp: seven digits malformed",
	    check(g, "0818041", now) == GAUTH_MALFORMED_CODE);
	T_CHECK("totp: letters malformed",
	    check(g, "08a804", now) == GAUTH_MALFORMED_CODE);
	T_CHECK("totp: an eight-digit code is only a scratch code",
	    check(g, "07081804", now) == GAUTH_WRONG);
	gauth_free(g);

	g = parse(KEY32 "\n\" TOTP_AUTH\n\" WINDOW_SIZE 5\n");
	T_CHECK("totp: WINDOW_SIZE 5 takes two steps ahead",
	    g != NULL && check(g, code_for(t + 2), now) == GAUTH_OK_TOTP &&
	        check(g, code_for(t - 2), now) == GAUTH_OK_TOTP &&
	        check(g, code_for(t + 3), now) == GAUTH_WRONG);
	gauth_free(g);

	g = parse(KEY32 "\n\" TOTP_AUTH\n\" STEP_SIZE 60\n");
	T_CHECK("totp: STEP_SIZE 60",
	    g != NULL && check(g, code_for(now / 60), now) == GAUTH_OK_TOTP);
	gauth_free(g);

	g = parse(KEY32 "\n\" TOTP_AUTH\n\" TIME_SKEW -2\n");
	T_CHECK("totp: TIME_SKEW moves the window",
	    g != NULL && check(g, code_for(t - 3), now) == GAUTH_OK_TOTP &&
	        check(g, code_for(t), now) == GAUTH_WRONG);
	gauth_free(g);

	g = parse(KEY32 "\n\" TOTP_AUTH\n\" DISALLOW_REUSE 5 37037000\n");
	if (g == NULL) {
		T_CHECK("reuse: parse", 0);
		return;
	}
	T_CHECK("reuse: first use accepted",
	    check(g, "081804", now) == GAUTH_OK_TOTP && g->changed);
	snprintf(want, sizeof(want),
	    KEY32 "\n\" TOTP_AUTH\n\" DISALLOW_REUSE %llu\n",
	    (unsigned long long)t);
	T_CHECK("reuse: step recorded, old ones pruned",
	    strcmp(written(g), want) == 0);
	T_CHECK("reuse: the same code refused",
	    check(g, "081804", now) == GAUTH_REUSED);
	T_CHECK("reuse: refused a minute later too (the same step)",
	    check(g, "081804", now + 30) == GAUTH_REUSED);
	T_CHECK("reuse: the next step's code accepted",
	    check(g, code_for(t + 1), now) == GAUTH_OK_TOTP);
	snprintf(want, sizeof(want),
	    KEY32 "\n\" TOTP_AUTH\n\" DISALLOW_REUSE %llu %llu\n",
	    (unsigned long long)t, (unsigned long long)t + 1);
	T_CHECK("reuse: both steps recorded", strcmp(written(g), want) == 0);
	gauth_free(g);
}

static void
test_scratch(void)
{
	struct gauth *g;

	g = parse(KEY32 "\n\" TOTP_AUTH\n11111111\n22222222\n33333333\n");
	if (g == NULL) {
		T_CHECK("scratch: parse", 0);
		return;
	}
	T_CHECK("scratch: a code works",
	    check(g, "22222222", 1000) == GAUTH_OK_SCRATCH && g->changed &&
	        gauth_scratch_left(g) == 2);
	T_CHECK("scratch: removed from the file",
	    strcmp(written(g), KEY32 "\n\" TOTP_AUTH\n11111111\n33333333\n") ==
	        0);
	T_CHECK(
	    "scratch: only once", check(g, "22222222", 1000) == GAUTH_WRONG);
	T_CHECK("scratch: an unknown one refused",
	    check(g, "44444444", 1000) == GAUTH_WRONG &&
	        gauth_scratch_left(g) == 2);
	T_CHECK("scratch: the last one works",
	    check(g, "33333333", 1000) == GAUTH_OK_SCRATCH &&
	        check(g, "11111111", 1000) == GAUTH_OK_SCRATCH &&
	        gauth_scratch_left(g) == 0);
	gauth_free(g);
	g = parse(KEY32 "\n\" TOTP_AUTH\n01234567\n1234567\n");
	T_CHECK("scratch: lines that are not codes are kept, never match",
	    g != NULL && gauth_scratch_left(g) == 0 &&
	        check(g, "01234567", 1000) == GAUTH_WRONG &&
	        strcmp(written(g),
	            KEY32 "\n\" TOTP_AUTH\n01234567\n1234567\n") == 0);
	gauth_free(g);
}

static void
test_rate_limit(void)
{
	struct gauth *g;

	g = parse(KEY32 "\n\" RATE_LIMIT 2 30 100\n\" TOTP_AUTH\n");
	if (g == NULL) {
		T_CHECK("rate: parse", 0);
		return;
	}
	T_CHECK("rate: an old attempt pruned, first attempt counted",
	    check(g, "000000", 1000) == GAUTH_WRONG && g->changed &&
	        strcmp(written(g),
	            KEY32 "\n\" RATE_LIMIT 2 30 1000\n\" TOTP_AUTH\n") == 0);
	T_CHECK("rate: second attempt allowed",
	    check(g, code_for(1010 / 30), 1010) == GAUTH_OK_TOTP);
	T_CHECK("rate: third within 30 s refused even with the right code",
	    check(g, code_for(1020 / 30), 1020) == GAUTH_RATE_LIMITED);
	T_CHECK("rate: the latest attempts kept",
	    strcmp(written(g),
	        KEY32 "\n\" RATE_LIMIT 2 30 1010 1020\n"
	              "\" TOTP_AUTH\n") == 0);
	T_CHECK("rate: allowed again once the interval has passed",
	    check(g, code_for(1051 / 30), 1051) == GAUTH_OK_TOTP);
	T_CHECK("rate: times in the future dropped",
	    check(g, "000000", 500) == GAUTH_WRONG && g->nrate_times == 1 &&
	        g->rate_times[0] == 500);
	gauth_free(g);
}

static void
test_hotp(void)
{
	struct gauth *g;

	g = parse(KEY32 "\n\" HOTP_COUNTER 1\n");
	if (g == NULL) {
		T_CHECK("hotp: parse", 0);
		return;
	}
	T_CHECK("hotp: a code ahead within the window",
	    check(g, code_for(3), 5) == GAUTH_OK_HOTP && g->hotp_counter == 4);
	T_CHECK("hotp: counter written back",
	    strcmp(written(g), KEY32 "\n\" HOTP_COUNTER 4\n") == 0);
	/* As libpam: a wrong code moves the counter on by one. */
	T_CHECK("hotp: the same code refused, the counter moved on",
	    check(g, code_for(3), 5) == GAUTH_WRONG && g->hotp_counter == 5 &&
	        strcmp(written(g), KEY32 "\n\" HOTP_COUNTER 5\n") == 0);
	T_CHECK("hotp: an earlier code refused",
	    check(g, code_for(2), 5) == GAUTH_WRONG && g->hotp_counter == 6);
	T_CHECK("hotp: beyond the window refused",
	    check(g, code_for(9), 5) == GAUTH_WRONG && g->hotp_counter == 7);
	T_CHECK("hotp: a code the wrong ones skipped is refused",
	    check(g, code_for(6), 5) == GAUTH_WRONG && g->hotp_counter == 8);
	T_CHECK("hotp: the next code accepted",
	    check(g, code_for(8), 5) == GAUTH_OK_HOTP && g->hotp_counter == 9);
	gauth_free(g);
	/* libpam's FILEFORMAT: TOTP only without HOTP_COUNTER. */
	g = parse(KEY32 "\n\" HOTP_COUNTER 1\n\" TOTP_AUTH\n");
	T_CHECK("hotp: with HOTP_COUNTER a TOTP code is refused",
	    g != NULL && check(g, "081804", RFC6238_T) == GAUTH_WRONG &&
	        check(g, code_for(2), RFC6238_T) == GAUTH_OK_HOTP);
	gauth_free(g);
	g = parse(KEY32 "\n");
	T_CHECK("neither TOTP_AUTH nor HOTP_COUNTER: nothing matches",
	    g != NULL && check(g, code_for(0), 5) == GAUTH_WRONG &&
	        check(g, code_for(1), 30) == GAUTH_WRONG);
	gauth_free(g);
}

static void
test_round_trip(void)
{
	struct gauth *g, *h;
	char first[8192];
	const char *text = KEY32 "\n"
	                         "\" RATE_LIMIT 3 30\n"
	                         "\" DISALLOW_REUSE\n"
	                         "\" TOTP_AUTH\n"
	                         "\"odd line\n"
	                         "\n"
	                         "12345678\n";

	g = parse(text);
	T_CHECK("round trip: parse", g != NULL);
	if (g == NULL)
		return;
	(void)check(g, "081804", RFC6238_T);
	(void)check(g, "12345678", RFC6238_T + 1);
	snprintf(first, sizeof(first), "%s", written(g));
	h = parse(first);
	T_CHECK("round trip: what is written parses to the same file",
	    h != NULL && strcmp(written(h), first) == 0);
	T_CHECK("round trip: state kept",
	    h != NULL && h->nused_steps == 1 && h->nrate_times == 2 &&
	        gauth_scratch_left(h) == 0);
	T_CHECK("round trip: unknown lines kept",
	    strstr(first, "\n\"odd line\n\n") != NULL);
	gauth_free(g);
	gauth_free(h);
}

int
main(void)
{
	test_base32();
	test_rfc4226();
	test_parse();
	test_totp();
	test_scratch();
	test_rate_limit();
	test_hotp();
	test_round_trip();
	return T_DONE();
}
