/*
 * test_sshkey_sk.c: FIDO security-key keys and signatures against fixtures
 * enrolled and signed by OpenSSH 9.2's ssh-keygen through tests/sk/soft_sk.so,
 * plus signatures made here with chosen flags and counters.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "sshkey_sk.h"
#include "tests/unit/t.h"

/*
 * ssh-keygen -t {ed25519,ecdsa}-sk -w soft_sk.so; ssh-keygen -lf; and
 * ssh-keygen -Y sign -n test over sshsig_msg with SOFT_SK_COUNTER set
 * (ecdsa with SOFT_SK_UV=1; the "app" key enrolled with
 * -O application=ssh:postern -O no-touch-required).
 */
static const char sshsig_msg[] = "hello postern\n";

static const char ed_pub[] =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAI"
    "FuaGYc0D1U2OktFhZolHWJThZ+XYtpr1cCjpo437WbQAAAABHNzaDo= "
    "test-sk-ed25519@postern";
static const char ed_fp[] =
    "SHA256:NUt1Y7sqq69twIg32qSVwJKF2EBr3wbav/dzVtmlrm0";
static const char ed_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAEoAAAAac2stc3NoLWVkMjU1MTlAb3BlbnNzaC5jb20AAAAgW5oZhz\n"
    "QPVTY6S0WFmiUdYlOFn5di2mvVwKOmjjftZtAAAAAEc3NoOgAAAAR0ZXN0AAAAAAAAAAZz\n"
    "aGE1MTIAAABnAAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAQN0ljqUiIt+RqE\n"
    "BSrWJtDmzp+SqjZKDHwovCUZQ0vdmFgg+NX5DutAX3CwFRtioPQten+gzTGHPRRkXMa4k6\n"
    "wAQBAAAAKg==\n"
    "-----END SSH SIGNATURE-----\n";

static const char ec_pub[] =
    "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb"
    "3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBKnG3n4A79cILrPtqxys7CtMC28bX9kVp3Lpm"
    "qotY7zHA5EICpMBPySz7F+I1dPK2ZObXfEBX3CRIkKqJqX0KIkAAAAEc3NoOg== "
    "test-sk-ecdsa@postern";
static const char ec_fp[] =
    "SHA256:Ge1NEgukD5kAH3WLJ2YE9gnDe2J8hUBfsPMHB8WorKM";
static const char ec_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAH8AAAAic2stZWNkc2Etc2hhMi1uaXN0cDI1NkBvcGVuc3NoLmNvbQ\n"
    "AAAAhuaXN0cDI1NgAAAEEEqcbefgDv1wgus+2rHKzsK0wLbxtf2RWncumaqi1jvMcDkQgK\n"
    "kwE/JLPsX4jV08rZk5td8QFfcJEiQqompfQoiQAAAARzc2g6AAAABHRlc3QAAAAAAAAABn\n"
    "NoYTUxMgAAAHgAAAAic2stZWNkc2Etc2hhMi1uaXN0cDI1NkBvcGVuc3NoLmNvbQAAAEkA\n"
    "AAAgLegE61MK4L1IKv79vQ4vH/KeDiROl9lfQtS2m2zc5fYAAAAhAMxaDC620QDNF7F418\n"
    "rpV6p6cadFNQtO4I0sbt520mFUBQAAAAc=\n"
    "-----END SSH SIGNATURE-----\n";

static const char app_pub[] =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAI"
    "CHWM3ius/sqD3lh0vSzwuGhbtw563U7n7eURJ4T+sjsAAAAC3NzaDpwb3N0ZXJu "
    "test-sk-app@postern";
static const char app_fp[] =
    "SHA256:xqeAfRK0fsIpkhNzB932lIGrcBMGRgW7hh02Ikv/uZA";
static const char app_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAFEAAAAac2stc3NoLWVkMjU1MTlAb3BlbnNzaC5jb20AAAAgIdYzeK\n"
    "6z+yoPeWHS9LPC4aFu3DnrdTuft5REnhP6yOwAAAALc3NoOnBvc3Rlcm4AAAAEdGVzdAAA\n"
    "AAAAAAAGc2hhNTEyAAAAZwAAABpzay1zc2gtZWQyNTUxOUBvcGVuc3NoLmNvbQAAAECKiz\n"
    "cBSRsVlnfAFhQDRJ1Vmxh3XW/UHl3Ow/KaBe9Pd4VlCSn9PvpoDPh7MfIh8CK4B9gdakCq\n"
    "1498u7beMx8FAAAAAGU=\n"
    "-----END SSH SIGNATURE-----\n";

struct sk_fixture {
	const char *name;
	const char *type_name;
	const char *type_short;
	const char *application;
	const char *comment;
	const char *pub;
	const char *fp;
	const char *sshsig;
	uint8_t flags; /* what the signature reports */
	uint32_t counter;
};

static const struct sk_fixture fixtures[] = {
    {"sk-ed25519", SSHKEY_SK_ED25519_NAME, "ED25519-SK",
        "ssh:", "test-sk-ed25519@postern", ed_pub, ed_fp, ed_sshsig, 0x01, 42},
    {"sk-ecdsa", SSHKEY_SK_ECDSA_NAME, "ECDSA-SK",
        "ssh:", "test-sk-ecdsa@postern", ec_pub, ec_fp, ec_sshsig, 0x05, 7},
    {"sk-ed25519-app", SSHKEY_SK_ED25519_NAME, "ED25519-SK", "ssh:postern",
        "test-sk-app@postern", app_pub, app_fp, app_sshsig, 0x00, 101},
};
#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static const char touch_reason[] =
    "user presence (authenticator touch) requirement not met ";
static const char verify_reason[] = "user verification requirement not met ";

static char tname[256];

static const char *
tn(const char *fx, const char *what)
{
	snprintf(tname, sizeof(tname), "%s: %s", fx, what);
	return tname;
}

/* Decode the base64 body between an armour's first and last lines. */
static size_t
unarmour(const char *text, uint8_t *out, size_t max)
{
	const char *p = strchr(text, '\n'), *end = strstr(text, "\n-----END");
	char *b64;
	size_t n = 0, pad = 0;
	int len;

	if (p == NULL || end == NULL || (b64 = malloc(strlen(text))) == NULL)
		return 0;
	for (; p < end; p++)
		if (!isspace((unsigned char)*p))
			b64[n++] = *p;
	if (n / 4 * 3 > max) {
		free(b64);
		return 0;
	}
	while (pad < 2 && n > pad && b64[n - 1 - pad] == '=')
		pad++;
	len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)n);
	free(b64);
	return len < 0 ? 0 : (size_t)len - pad;
}

/* The pieces of an sk signature blob. */
struct sk_sig {
	char *type;
	uint8_t *inner;
	size_t inner_len;
	uint8_t flags;
	uint32_t counter;
};

static int
sig_split(const uint8_t *sig, size_t len, struct sk_sig *s)
{
	struct buf *b = buf_from(sig, len);
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = buf_get_cstring(b, &s->type, NULL)) == 0 &&
	    (r = buf_get_string(b, &s->inner, &s->inner_len)) == 0 &&
	    (r = buf_get_u8(b, &s->flags)) == 0 &&
	    (r = buf_get_u32(b, &s->counter)) == 0)
		r = buf_end(b);
	buf_free(b);
	return r;
}

static void
sig_clear(struct sk_sig *s)
{
	free(s->type);
	free(s->inner);
	memset(s, 0, sizeof(*s));
}

/* Reassemble a signature blob, optionally with a trailing byte. */
static struct buf *
sig_join(const struct sk_sig *s, int trailing)
{
	struct buf *b = buf_new(0);

	buf_put_cstring(b, s->type);
	buf_put_string(b, s->inner, s->inner_len);
	buf_put_u8(b, s->flags);
	buf_put_u32(b, s->counter);
	if (trailing)
		buf_put_u8(b, 0);
	return b;
}

static int
verify_buf(const struct sshkey_sk *k, const struct buf *sig,
    const struct buf *data, uint8_t *flags, uint32_t *counter)
{
	return sshkey_sk_verify(k, buf_ptr(sig), buf_len(sig), buf_ptr(data),
	    buf_len(data), flags, counter);
}

static void
test_public(const struct sk_fixture *fx, struct sshkey_sk **keyp)
{
	struct sshkey_sk *k = NULL, *k2 = NULL;
	struct buf *blob = buf_new(0);
	char fp[64], *text = NULL;
	const char *end = NULL;
	size_t prefix;
	int r;

	*keyp = NULL;
	r = sshkey_sk_parse_public_text(fx->pub, &k, &end);
	T_CHECK(tn(fx->name, "parse public text"), r == 0 && k != NULL);
	if (k == NULL)
		goto out;
	T_CHECK(tn(fx->name, "endp at the comment"),
	    end != NULL && *end == ' ' && strcmp(end + 1, fx->comment) == 0);
	T_CHECK(tn(fx->name, "type name"),
	    strcmp(sshkey_sk_type_name(k), fx->type_name) == 0);
	T_CHECK(tn(fx->name, "short type"),
	    strcmp(sshkey_sk_type_short(k), fx->type_short) == 0);
	T_CHECK(tn(fx->name, "bits"), sshkey_sk_bits(k) == 256);
	T_CHECK(tn(fx->name, "application"),
	    strcmp(sshkey_sk_application(k), fx->application) == 0);
	T_CHECK(tn(fx->name, "fingerprint matches ssh-keygen -l"),
	    sshkey_sk_fingerprint(k, fp, sizeof(fp)) == 0 &&
	        strcmp(fp, fx->fp) == 0);
	T_CHECK(tn(fx->name, "fingerprint buffer too small"),
	    sshkey_sk_fingerprint(k, fp, 10) == ERR_TOO_BIG);
	prefix = strlen(fx->pub) - strlen(fx->comment) - 1;
	T_CHECK(tn(fx->name, "format public text round trip"),
	    sshkey_sk_format_public_text(k, &text) == 0 &&
	        strlen(text) == prefix && memcmp(text, fx->pub, prefix) == 0);
	T_CHECK(tn(fx->name, "blob round trip"),
	    sshkey_sk_to_blob(k, blob) == 0 &&
	        sshkey_sk_from_blob(buf_ptr(blob), buf_len(blob), &k2) == 0 &&
	        sshkey_sk_equal_public(k, k2));
	T_CHECK(tn(fx->name, "own algorithm accepted"),
	    sshkey_sk_sig_alg_ok(k, fx->type_name));
	T_CHECK(tn(fx->name, "other algorithms refused"),
	    !sshkey_sk_sig_alg_ok(k, "ssh-ed25519") &&
	        !sshkey_sk_sig_alg_ok(k, "ecdsa-sha2-nistp256") &&
	        !sshkey_sk_sig_alg_ok(
	            k, "webauthn-sk-ecdsa-sha2-nistp256@openssh.com") &&
	        !sshkey_sk_sig_alg_ok(k, NULL));
	*keyp = k;
	k = NULL;
out:
	free(text);
	sshkey_sk_free(k);
	sshkey_sk_free(k2);
	buf_free(blob);
}

/* A copy of key k's blob with another application. */
static struct sshkey_sk *
with_application(const struct sshkey_sk *k, const char *app)
{
	struct buf *blob = buf_new(0), *b, *out = buf_new(0);
	struct sshkey_sk *k2 = NULL;
	char *type = NULL, *curve = NULL;
	uint8_t *pk = NULL;
	size_t pklen;

	sshkey_sk_to_blob(k, blob);
	b = buf_from(buf_ptr(blob), buf_len(blob));
	buf_get_cstring(b, &type, NULL);
	buf_put_cstring(out, type);
	if (strcmp(type, SSHKEY_SK_ECDSA_NAME) == 0) {
		buf_get_cstring(b, &curve, NULL);
		buf_put_cstring(out, curve);
	}
	buf_get_string(b, &pk, &pklen);
	buf_put_string(out, pk, pklen);
	buf_put_cstring(out, app);
	sshkey_sk_from_blob(buf_ptr(out), buf_len(out), &k2);
	free(type);
	free(curve);
	free(pk);
	buf_free(b);
	buf_free(blob);
	buf_free(out);
	return k2;
}

/* Verify ssh-keygen's SSHSIG over the PROTOCOL.sshsig signed data. */
static void
test_sshsig(const struct sk_fixture *fx, const struct sshkey_sk *k,
    const struct sshkey_sk *other)
{
	uint8_t raw[4096], h[64], magic[6], flags = 0xee;
	struct buf *b = NULL, *data = buf_new(0), *keyblob = buf_new(0);
	struct buf *t = NULL;
	const uint8_t *pk = NULL, *sig = NULL, *p;
	struct sshkey_sk *k2 = NULL;
	struct sk_sig s;
	size_t rawlen, pklen = 0, siglen = 0, len;
	uint32_t version = 0, counter = 0xeeeeeeee;
	unsigned hlen = 0;
	int ok;

	memset(&s, 0, sizeof(s));
	rawlen = unarmour(fx->sshsig, raw, sizeof(raw));
	b = buf_from(raw, rawlen);
	ok = buf_get(b, magic, 6) == 0 && memcmp(magic, "SSHSIG", 6) == 0 &&
	    buf_get_u32(b, &version) == 0 && version == 1 &&
	    buf_get_string_direct(b, &pk, &pklen) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 4 &&
	    memcmp(p, "test", 4) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 6 &&
	    memcmp(p, "sha512", 6) == 0 &&
	    buf_get_string_direct(b, &sig, &siglen) == 0 && buf_end(b) == 0;
	T_CHECK(tn(fx->name, "SSHSIG armour parses"), ok);
	if (!ok)
		goto out;
	sshkey_sk_to_blob(k, keyblob);
	T_CHECK(tn(fx->name, "SSHSIG public key equals fixture"),
	    pklen == buf_len(keyblob) &&
	        memcmp(pk, buf_ptr(keyblob), pklen) == 0);
	EVP_Digest(
	    sshsig_msg, strlen(sshsig_msg), h, &hlen, EVP_sha512(), NULL);
	buf_put(data, "SSHSIG", 6);
	buf_put_cstring(data, "test");
	buf_put_cstring(data, "");
	buf_put_cstring(data, "sha512");
	buf_put_string(data, h, hlen);

	T_CHECK(tn(fx->name, "ssh-keygen signature verifies"),
	    sshkey_sk_verify(k, sig, siglen, buf_ptr(data), buf_len(data),
	        &flags, &counter) == 0);
	T_CHECK(tn(fx->name, "flags extracted"), flags == fx->flags);
	T_CHECK(tn(fx->name, "counter extracted"), counter == fx->counter);
	T_CHECK(tn(fx->name, "verifies with NULL flag/counter pointers"),
	    sshkey_sk_verify(
	        k, sig, siglen, buf_ptr(data), buf_len(data), NULL, NULL) == 0);
	T_CHECK(tn(fx->name, "signature splits"),
	    sig_split(sig, siglen, &s) == 0 &&
	        strcmp(s.type, fx->type_name) == 0);

	/* Tampering: every signed or framing field matters. */
	buf_mutable_ptr(data)[buf_len(data) - 1] ^= 0x01;
	flags = 0xee;
	counter = 0xeeeeeeee;
	T_CHECK(tn(fx->name, "other data fails"),
	    sshkey_sk_verify(k, sig, siglen, buf_ptr(data), buf_len(data),
	        &flags, &counter) == ERR_SIGNATURE);
	T_CHECK(tn(fx->name, "failure reports no flags or counter"),
	    flags == 0 && counter == 0);
	buf_mutable_ptr(data)[buf_len(data) - 1] ^= 0x01;

	s.flags ^= SSHKEY_SK_USER_VERIFIED;
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "flipped UV flag fails"),
	    verify_buf(k, t, data, NULL, NULL) == ERR_SIGNATURE);
	buf_free(t);
	s.flags ^= SSHKEY_SK_USER_VERIFIED;

	s.flags ^= SSHKEY_SK_USER_PRESENT;
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "flipped UP flag fails"),
	    verify_buf(k, t, data, NULL, NULL) == ERR_SIGNATURE);
	buf_free(t);
	s.flags ^= SSHKEY_SK_USER_PRESENT;

	s.counter++;
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "changed counter fails"),
	    verify_buf(k, t, data, NULL, NULL) == ERR_SIGNATURE);
	buf_free(t);
	s.counter--;

	s.inner[s.inner_len - 1] ^= 0x01;
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "changed signature bytes fail"),
	    verify_buf(k, t, data, NULL, NULL) != 0);
	buf_free(t);
	s.inner[s.inner_len - 1] ^= 0x01;

	t = sig_join(&s, 1);
	T_CHECK(tn(fx->name, "trailing byte refused"),
	    verify_buf(k, t, data, NULL, NULL) == ERR_TRAILING);
	buf_free(t);

	T_CHECK(tn(fx->name, "truncated signature refused"),
	    sshkey_sk_verify(k, sig, siglen - 1, buf_ptr(data), buf_len(data),
	        NULL, NULL) == ERR_SHORT);
	T_CHECK(tn(fx->name, "oversized signature refused"),
	    sshkey_sk_verify(k, sig, 16385, buf_ptr(data), buf_len(data), NULL,
	        NULL) == ERR_TOO_BIG);

	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "re-joined signature still verifies"),
	    verify_buf(k, t, data, NULL, NULL) == 0);
	buf_free(t);

	free(s.type);
	s.type = strdup(strcmp(fx->type_name, SSHKEY_SK_ECDSA_NAME) == 0
	        ? "ecdsa-sha2-nistp256"
	        : "ssh-ed25519");
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "plain signature type refused"),
	    verify_buf(k, t, data, NULL, NULL) == ERR_SIGNATURE);
	buf_free(t);

	free(s.type);
	s.type = strdup("webauthn-sk-ecdsa-sha2-nistp256@openssh.com");
	t = sig_join(&s, 0);
	T_CHECK(tn(fx->name, "webauthn type without its fields refused"),
	    verify_buf(k, t, data, NULL, NULL) != 0);
	buf_free(t);

	T_CHECK(tn(fx->name, "another key refuses it"),
	    sshkey_sk_verify(other, sig, siglen, buf_ptr(data), buf_len(data),
	        NULL, NULL) != 0);
	k2 = with_application(k, "ssh:other");
	T_CHECK(tn(fx->name, "same key, other application refuses it"),
	    k2 != NULL && !sshkey_sk_equal_public(k, k2) &&
	        sshkey_sk_verify(k2, sig, siglen, buf_ptr(data), buf_len(data),
	            NULL, NULL) == ERR_SIGNATURE);
out:
	sig_clear(&s);
	sshkey_sk_free(k2);
	buf_free(b);
	buf_free(data);
	buf_free(keyblob);
}

/* Blob of an sk key from its parts; NULL curve for ed25519. */
static struct buf *
blob_build(const char *type, const char *curve, const uint8_t *pk, size_t pklen,
    const void *app, size_t applen)
{
	struct buf *b = buf_new(0);

	buf_put_cstring(b, type);
	if (curve != NULL)
		buf_put_cstring(b, curve);
	buf_put_string(b, pk, pklen);
	buf_put_string(b, app, applen);
	return b;
}

static int
from_buf(const struct buf *b)
{
	struct sshkey_sk *k = NULL;
	int r;

	r = sshkey_sk_from_blob(buf_ptr(b), buf_len(b), &k);
	sshkey_sk_free(k);
	return r;
}

static void
test_bad_blobs(void)
{
	/* A valid P-256 point (the fixture's) and one off the curve. */
	static const char ec_q_hex[] =
	    "04a9c6de7e00efd7082eb3edab1cacec2b4c0b6f1b5fd915a772e99aaa2d63bc"
	    "c70391080a93013f24b3ec5f88d5d3cad9939b5df1015f70912242aa26a5f428"
	    "89";
	uint8_t q[65], pk[32] = {0};
	struct buf *b;
	struct sshkey_sk *k = NULL;

	pk[0] = 1;
	T_CHECK("blob: fixture point decodes",
	    t_hex(ec_q_hex, q, sizeof(q)) == sizeof(q));
	b = blob_build(
	    SSHKEY_SK_ECDSA_NAME, "nistp256", q, sizeof(q), "ssh:", 4);
	T_CHECK("blob: ecdsa from parts", from_buf(b) == 0);
	buf_put_u8(b, 0);
	T_CHECK("blob: trailing byte", from_buf(b) == ERR_TRAILING);
	buf_free(b);
	b = blob_build(
	    SSHKEY_SK_ECDSA_NAME, "nistp384", q, sizeof(q), "ssh:", 4);
	T_CHECK("blob: wrong curve name", from_buf(b) == ERR_BAD_KEY);
	buf_free(b);
	q[64] ^= 1;
	b = blob_build(
	    SSHKEY_SK_ECDSA_NAME, "nistp256", q, sizeof(q), "ssh:", 4);
	T_CHECK("blob: point off the curve", from_buf(b) != 0);
	buf_free(b);
	q[64] ^= 1;
	b = blob_build(SSHKEY_SK_ECDSA_NAME, "nistp256", q, 33, "ssh:", 4);
	T_CHECK("blob: compressed-length point", from_buf(b) != 0);
	buf_free(b);
	b = blob_build(SSHKEY_SK_ED25519_NAME, NULL, pk, 31, "ssh:", 4);
	T_CHECK("blob: short ed25519 key", from_buf(b) == ERR_BAD_KEY);
	buf_free(b);
	b = blob_build(SSHKEY_SK_ED25519_NAME, NULL, pk, 32, "ssh:\0x", 6);
	T_CHECK("blob: NUL in application", from_buf(b) == ERR_STRING_NUL);
	buf_free(b);
	b = blob_build(SSHKEY_SK_ED25519_NAME, NULL, pk, 32, "", 0);
	T_CHECK("blob: empty application parses", from_buf(b) == 0);
	buf_free(b);
	b = blob_build(SSHKEY_SK_ED25519_NAME, NULL, pk, 32, "ssh:", 4);
	T_CHECK("blob: ed25519 from parts", from_buf(b) == 0);
	T_CHECK("blob: truncated",
	    sshkey_sk_from_blob(buf_ptr(b), buf_len(b) - 1, &k) == ERR_SHORT &&
	        k == NULL);
	buf_free(b);
	b = buf_new(0);
	buf_put_cstring(b, "ssh-ed25519");
	buf_put_string(b, pk, 32);
	T_CHECK("blob: plain ed25519 is not an sk key",
	    from_buf(b) == ERR_KEY_TYPE);
	buf_free(b);
	b = buf_new(0);
	buf_put_cstring(b, SSHKEY_SK_ED25519_NAME);
	buf_put_string(b, pk, 32);
	T_CHECK("blob: missing application", from_buf(b) == ERR_SHORT);
	buf_free(b);
	T_CHECK("blob: oversized",
	    sshkey_sk_from_blob(q, 16385, &k) == ERR_TOO_BIG && k == NULL);
	T_CHECK("parse_fields: unknown type",
	    sshkey_sk_parse_fields(NULL, "ssh-ed25519", &k) == ERR_KEY_TYPE);
}

static void
test_text(void)
{
	struct sshkey_sk *k = NULL;
	char line[512];
	const char *blob64 = strchr(ed_pub, ' ') + 1;

	T_CHECK("text: type names",
	    sshkey_sk_is_type_name(SSHKEY_SK_ED25519_NAME) &&
	        sshkey_sk_is_type_name(SSHKEY_SK_ECDSA_NAME) &&
	        !sshkey_sk_is_type_name("ssh-ed25519") &&
	        !sshkey_sk_is_type_name(
	            "webauthn-sk-ecdsa-sha2-nistp256@openssh.com") &&
	        !sshkey_sk_is_type_name(NULL));
	snprintf(line, sizeof(line), "%s %s", SSHKEY_SK_ECDSA_NAME, blob64);
	T_CHECK("text: name disagrees with blob",
	    sshkey_sk_parse_public_text(line, &k, NULL) == ERR_KEY_TYPE &&
	        k == NULL);
	snprintf(line, sizeof(line), "ssh-ed25519 %s", blob64);
	T_CHECK("text: plain type refused",
	    sshkey_sk_parse_public_text(line, &k, NULL) == ERR_KEY_TYPE);
	T_CHECK("text: type only",
	    sshkey_sk_parse_public_text(SSHKEY_SK_ED25519_NAME, &k, NULL) ==
	        ERR_FORMAT);
	snprintf(line, sizeof(line), "%s AAAA*AAA", SSHKEY_SK_ED25519_NAME);
	T_CHECK("text: bad base64",
	    sshkey_sk_parse_public_text(line, &k, NULL) == ERR_FORMAT);
	snprintf(
	    line, sizeof(line), "  %s\t%s", SSHKEY_SK_ED25519_NAME, blob64);
	T_CHECK("text: leading blanks and tab, no comment",
	    sshkey_sk_parse_public_text(line, &k, NULL) == 0 && k != NULL);
	sshkey_sk_free(k);
}

/* Sign an sk message with a raw Ed25519 key: choose flags and counter. */
static struct buf *
make_ed25519_sig(EVP_PKEY *pkey, const char *app, uint8_t flags,
    uint32_t counter, const uint8_t *data, size_t len)
{
	struct buf *msg = buf_new(0), *sig = buf_new(0);
	uint8_t h[32], raw[64];
	size_t rawlen = sizeof(raw);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_Digest(app, strlen(app), h, NULL, EVP_sha256(), NULL);
	buf_put(msg, h, sizeof(h));
	buf_put_u8(msg, flags);
	buf_put_u32(msg, counter);
	EVP_Digest(data, len, h, NULL, EVP_sha256(), NULL);
	buf_put(msg, h, sizeof(h));
	EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey);
	EVP_DigestSign(ctx, raw, &rawlen, buf_ptr(msg), buf_len(msg));
	EVP_MD_CTX_free(ctx);
	buf_put_cstring(sig, SSHKEY_SK_ED25519_NAME);
	buf_put_string(sig, raw, rawlen);
	buf_put_u8(sig, flags);
	buf_put_u32(sig, counter);
	buf_free(msg);
	return sig;
}

static void
test_made_here(void)
{
	static const uint8_t data[] = "userauth request";
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct sshkey_sk *k = NULL;
	struct buf *blob, *sig;
	uint8_t pk[32], flags = 0;
	size_t pklen = sizeof(pk);
	uint32_t counter = 0;
	const char *why = "unset";

	EVP_PKEY_get_raw_public_key(pkey, pk, &pklen);
	blob = blob_build(SSHKEY_SK_ED25519_NAME, NULL, pk, pklen, "ssh:", 4);
	T_CHECK("made here: key parses",
	    sshkey_sk_from_blob(buf_ptr(blob), buf_len(blob), &k) == 0);

	sig = make_ed25519_sig(pkey, "ssh:", 0x05, 0xffffffff, data, 16);
	T_CHECK("made here: UP+UV, counter 2^32-1",
	    sshkey_sk_verify(k, buf_ptr(sig), buf_len(sig), data, 16, &flags,
	        &counter) == 0 &&
	        flags == 0x05 && counter == 0xffffffff);
	T_CHECK("made here: policy satisfied",
	    sshkey_sk_check_flags(flags, 1, 1, &why) == 0 && why == NULL);
	buf_free(sig);

	sig = make_ed25519_sig(pkey, "ssh:", 0x00, 0, data, 16);
	T_CHECK("made here: no flags still verifies",
	    sshkey_sk_verify(k, buf_ptr(sig), buf_len(sig), data, 16, &flags,
	        &counter) == 0 &&
	        flags == 0 && counter == 0);
	T_CHECK("made here: touch required refuses it",
	    sshkey_sk_check_flags(flags, 1, 0, &why) == ERR_PERM &&
	        why != NULL && strcmp(why, touch_reason) == 0);
	T_CHECK("made here: no-touch-required accepts it",
	    sshkey_sk_check_flags(flags, 0, 0, &why) == 0);
	buf_free(sig);

	/* Signed for another application: the relying party differs. */
	sig = make_ed25519_sig(pkey, "ssh:x", 0x01, 1, data, 16);
	T_CHECK("made here: other application fails",
	    sshkey_sk_verify(k, buf_ptr(sig), buf_len(sig), data, 16, NULL,
	        NULL) == ERR_SIGNATURE);
	buf_free(sig);
	buf_free(blob);
	sshkey_sk_free(k);
	EVP_PKEY_free(pkey);
}

static void
test_flags(void)
{
	static const struct {
		uint8_t flags;
		int touch, verify;
		const char *reason;
	} cases[] = {
	    {0x00, 0, 0, NULL},
	    {0x00, 1, 0, touch_reason},
	    {0x01, 1, 0, NULL},
	    {0x01, 1, 1, verify_reason},
	    {0x01, 0, 1, verify_reason},
	    {0x04, 0, 1, NULL},
	    {0x04, 1, 1, touch_reason}, /* presence is checked first */
	    {0x05, 1, 1, NULL},
	    {0xfa, 1, 0, touch_reason}, /* other bits are not presence */
	    {0xfb, 1, 1, verify_reason},
	};
	const char *why;
	char line[512], what[64];
	size_t i;
	int r, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = "unset";
		r = sshkey_sk_check_flags(
		    cases[i].flags, cases[i].touch, cases[i].verify, &why);
		if (cases[i].reason == NULL)
			ok = r == 0 && why == NULL;
		else
			ok = r == ERR_PERM && why != NULL &&
			    strcmp(why, cases[i].reason) == 0;
		snprintf(what, sizeof(what), "flags 0x%02x touch %d verify %d",
		    cases[i].flags, cases[i].touch, cases[i].verify);
		T_CHECK(tn("check_flags", what), ok);
	}
	T_CHECK("check_flags: NULL reason allowed",
	    sshkey_sk_check_flags(0, 1, 0, NULL) == ERR_PERM);

	/* The line exactly as OpenSSH 9.2's sshd logged it for this case. */
	sshkey_sk_check_flags(0, 1, 0, &why);
	snprintf(line, sizeof(line), SSHKEY_SK_REJECT_FMT, "ED25519-SK", ed_fp,
	    "", "root", "127.0.0.1", 38976, why);
	T_CHECK("log line matches sshd's",
	    strcmp(line,
	        "public key ED25519-SK "
	        "SHA256:NUt1Y7sqq69twIg32qSVwJKF2EBr3wbav/dzVtmlrm0 signature "
	        "for root from 127.0.0.1 port 38976 rejected: user presence "
	        "(authenticator touch) requirement not met ") == 0);
}

int
main(void)
{
	struct sshkey_sk *keys[N_FIXTURES];
	size_t i;

	for (i = 0; i < N_FIXTURES; i++)
		test_public(&fixtures[i], &keys[i]);
	for (i = 0; i < N_FIXTURES; i++) {
		if (keys[i] == NULL || keys[(i + 1) % N_FIXTURES] == NULL)
			continue;
		test_sshsig(&fixtures[i], keys[i], keys[(i + 1) % N_FIXTURES]);
	}
	/* The real fixtures against the policy: as sshd would judge them. */
	T_CHECK("policy: ed25519 fixture passes touch-required",
	    sshkey_sk_check_flags(fixtures[0].flags, 1, 0, NULL) == 0);
	T_CHECK("policy: ed25519 fixture fails verify-required",
	    sshkey_sk_check_flags(fixtures[0].flags, 1, 1, NULL) == ERR_PERM);
	T_CHECK("policy: ecdsa fixture (UV) passes verify-required",
	    sshkey_sk_check_flags(fixtures[1].flags, 1, 1, NULL) == 0);
	T_CHECK("policy: no-touch fixture fails touch-required",
	    sshkey_sk_check_flags(fixtures[2].flags, 1, 0, NULL) == ERR_PERM);
	T_CHECK("policy: no-touch fixture passes no-touch-required",
	    sshkey_sk_check_flags(fixtures[2].flags, 0, 0, NULL) == 0);
	for (i = 0; i < N_FIXTURES; i++)
		sshkey_sk_free(keys[i]);
	sshkey_sk_free(NULL);
	test_bad_blobs();
	test_text();
	test_made_here();
	test_flags();
	return T_DONE();
}
