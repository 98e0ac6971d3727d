/*
 * kexgex.c: Diffie-Hellman group exchange, diffie-hellman-group-exchange-
 * sha256 and -sha1 (RFC 4419). The monitor picks the group from the
 * moduli(5) file (ModuliFile) or the RFC 3526 groups; the transport asks
 * for it through a callback, so the sandboxed preauth process opens no
 * file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "kexgex.h"
#include "log.h"
#include "transport_int.h"

/* moduli(5): type 2 is a safe prime; test bit 0x01 means "composite". */
#define MODULI_TYPE_SAFE 2
#define MODULI_TESTS_COMPOSITE 0x01
#define MODULI_LINE_MAX 8192
#define GEX_MAX_BYTES (KEXGEX_MAX_BITS / 8)
/* Our exponent: at least 512 bits, twice the 256 OpenSSH takes as floor. */
#define GEX_PRIV_MIN_BITS 512

/* SSH_MSG_KEX_DH_GEX_* (RFC 4419 s5). */
#define MSG_GEX_GROUP 31
#define MSG_GEX_INIT 32
#define MSG_GEX_REPLY 33
#define MSG_GEX_REQUEST 34

/* -------- choosing a group (the monitor) -------- */

/* The next blank-separated field of *s; NULL at the end of the line. */
static const char *
field(const char **s, size_t *len)
{
	const char *p = *s + strspn(*s, " \t");

	if (*p == '\0' || *p == '\n' || *p == '\r')
		return NULL;
	*len = strcspn(p, " \t\r\n\v\f");
	*s = p + *len;
	return p;
}

/* A decimal field within [0, max]; -1 if it is none. */
static long
number(const char *p, size_t len, long max)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 14)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= max ? v : -1;
}

static int
all_hex(const char *p, size_t len)
{
	return len > 0 && strspn(p, "0123456789abcdefABCDEF") >= len;
}

int
kexgex_moduli_line(const char *line, struct moduli_entry *e)
{
	const char *s = line, *f[7];
	size_t len[7];
	long type, tests, tries, size;
	int i;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '#')
		return 0;
	for (i = 0; i < 7; i++)
		if ((f[i] = field(&s, &len[i])) == NULL)
			return 0;
	if (field(&s, &len[0]) != NULL)
		return 0; /* an eighth field */
	type = number(f[1], len[1], 255);
	tests = number(f[2], len[2], 255);
	tries = number(f[3], len[3], 1L << 30);
	size = number(f[4], len[4], 65535);
	if (number(f[0], len[0], 99999999999999L) < 0 ||
	    type != MODULI_TYPE_SAFE || tests < 0 ||
	    (tests & MODULI_TESTS_COMPOSITE) ||
	    (tests & ~MODULI_TESTS_COMPOSITE) == 0 || tries <= 0 || size <= 0 ||
	    !all_hex(f[5], len[5]) || !all_hex(f[6], len[6]))
		return 0;
	/* The size field is one less than the prime's bits. */
	e->bits = (unsigned)size + 1;
	/* The modulus must be that long: no leading zero digits. */
	if (len[6] != (e->bits + 3) / 4 || f[6][0] == '0')
		return 0;
	e->g_hex = f[5];
	e->g_len = len[5];
	e->p_hex = f[6];
	e->p_len = len[6];
	return 1;
}

int
kexgex_check_request(uint32_t min, uint32_t n, uint32_t max, uint32_t *omin,
    uint32_t *on, uint32_t *omax)
{
	/*
	 * As sshd: refused ("DH GEX group out of range") unless the range
	 * meets [KEXGEX_MIN_BITS, KEXGEX_MAX_BITS]; clamping it into them
	 * would hand the client a group outside what it asked for.
	 */
	if (max < min || n < min || max < n || max < KEXGEX_MIN_BITS ||
	    min > KEXGEX_MAX_BITS)
		return ERR_PROTOCOL;
	*omin = min < KEXGEX_MIN_BITS ? KEXGEX_MIN_BITS : min;
	*omax = max > KEXGEX_MAX_BITS ? KEXGEX_MAX_BITS : max;
	*on = n < KEXGEX_MIN_BITS ? KEXGEX_MIN_BITS
	    : n > KEXGEX_MAX_BITS ? KEXGEX_MAX_BITS
	                          : n;
	return 0;
}

/* Whether size beats best for a wish of n bits (OpenSSH's choose_dh). */
static int
better(unsigned size, unsigned best, uint32_t n)
{
	return best == 0 || (size >= n && size < best) ||
	    (size > best && best < n);
}

/* A uniform random number below n (n > 0). */
static uint32_t
uniform(uint32_t n)
{
	uint32_t v, limit = UINT32_MAX - UINT32_MAX % n;

	do
		random_bytes(&v, sizeof(v));
	while (v >= limit);
	return v % n;
}

/* Hex digits as a big-endian magnitude into out; ERR_FORMAT if bad. */
static int
put_hex(struct buf *out, const char *hex, size_t len)
{
	BIGNUM *bn = NULL;
	char *s;
	uint8_t *dst;
	size_t n;
	int r = ERR_FORMAT;

	if ((s = strndup(hex, len)) == NULL)
		return ERR_ALLOC;
	if (BN_hex2bn(&bn, s) != (int)len || BN_is_zero(bn))
		goto out;
	n = (size_t)BN_num_bytes(bn);
	if ((r = buf_reserve(out, n, &dst)) != 0)
		goto out;
	BN_bn2bin(bn, dst);
	r = 0;
out:
	BN_free(bn);
	free(s);
	return r;
}

int
kexgex_choose(FILE *f, uint32_t min, uint32_t n, uint32_t max, struct buf *p,
    struct buf *g)
{
	struct moduli_entry e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned best = 0, count = 0, which;
	int r = ERR_NOT_FOUND;

	/* First pass: the best size and how many groups have it. */
	while ((len = getline(&line, &cap, f)) > 0) {
		if (len > MODULI_LINE_MAX ||
		    kexgex_moduli_line(line, &e) != 1 || e.bits < min ||
		    e.bits > max)
			continue;
		if (better(e.bits, best, n)) {
			best = e.bits;
			count = 0;
		}
		if (e.bits == best)
			count++;
	}
	if (count == 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* Second pass: one of them at random. */
	which = uniform(count);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (len > MODULI_LINE_MAX ||
		    kexgex_moduli_line(line, &e) != 1 || e.bits != best)
			continue;
		if (which-- > 0)
			continue;
		buf_reset(p);
		buf_reset(g);
		if ((r = put_hex(p, e.p_hex, e.p_len)) != 0 ||
		    (r = put_hex(g, e.g_hex, e.g_len)) != 0)
			goto out;
		break;
	}
out:
	free(line);
	return r;
}

int
kexgex_fallback(
    uint32_t min, uint32_t n, uint32_t max, struct buf *p, struct buf *g)
{
	static BIGNUM *(*const primes[])(BIGNUM *) = {
	    BN_get_rfc3526_prime_2048,
	    BN_get_rfc3526_prime_3072,
	    BN_get_rfc3526_prime_4096,
	    BN_get_rfc3526_prime_6144,
	    BN_get_rfc3526_prime_8192,
	};
	static const unsigned sizes[] = {2048, 3072, 4096, 6144, 8192};
	BIGNUM *bn;
	uint8_t *dst;
	unsigned best = 0;
	size_t i, pick = 0;
	int r;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] >= min && sizes[i] <= max &&
		    better(sizes[i], best, n)) {
			best = sizes[i];
			pick = i;
		}
	/*
	 * A range between two of these sizes (kexgex_check_request refuses
	 * one below 2048) gets group 14: the client may refuse it, but gets
	 * nothing weaker.
	 */
	if (best == 0)
		pick = 0;
	if ((bn = primes[pick](NULL)) == NULL)
		return ERR_CRYPTO;
	buf_reset(p);
	buf_reset(g);
	if ((r = buf_reserve(p, (size_t)BN_num_bytes(bn), &dst)) == 0) {
		BN_bn2bin(bn, dst);
		r = buf_put_u8(g, 2);
	}
	BN_free(bn);
	return r;
}

int
kexgex_group(const char *path, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g)
{
	FILE *f;
	int r;

	if ((f = fopen(path, "re")) == NULL) {
		logit("WARNING: could not open %s (%s), using fixed modulus",
		    path, strerror(errno));
		return kexgex_fallback(min, n, max, p, g);
	}
	r = kexgex_choose(f, min, n, max, p, g);
	fclose(f);
	if (r == ERR_NOT_FOUND) {
		logit("WARNING: no suitable primes in %s", path);
		return kexgex_fallback(min, n, max, p, g);
	}
	return r;
}

/* -------- the exchange (the transport) -------- */

struct kexgex {
	int have_group;
	uint32_t min, n, max; /* as the client sent them: they are hashed */
	struct buf *p, *g;
};

int
kexgex_hash_alg(const char *kex)
{
	if (strcmp(kex, "diffie-hellman-group-exchange-sha256") == 0)
		return DIGEST_SHA256;
	if (strcmp(kex, "diffie-hellman-group-exchange-sha1") == 0)
		return DIGEST_SHA1;
	return 0;
}

void
kexgex_free(struct transport *t)
{
	if (t->gex == NULL)
		return;
	buf_free(t->gex->p);
	buf_free(t->gex->g);
	free(t->gex);
	t->gex = NULL;
}

int
kexgex_wants(const struct transport *t, uint8_t type)
{
	int have = t->gex != NULL && t->gex->have_group;

	/* Only the message the exchange waits for: any other (30..49) is
	 * out of place as in any exchange (kex.c), as sshd's dispatch
	 * table has it: UNIMPLEMENTED, or a strict KEX violation. */
	return t->neg_kex != NULL && kexgex_hash_alg(t->neg_kex) != 0 &&
	    type == (have ? MSG_GEX_INIT : MSG_GEX_REQUEST);
}

static int
gex_error(struct transport *t, uint32_t reason, const char *what)
{
	error("kex: %s", what);
	transport_disconnect(t, reason, "%s", what);
	return ERR_PROTOCOL;
}

/* SSH_MSG_KEX_DH_GEX_REQUEST -> SSH_MSG_KEX_DH_GEX_GROUP. */
static int
gex_request(struct transport *t, struct buf *payload)
{
	struct kexgex *x;
	struct buf *b = NULL;
	uint32_t min, n, max, cmin, cn, cmax;
	int r;

	if ((r = buf_get_u32(payload, &min)) != 0 ||
	    (r = buf_get_u32(payload, &n)) != 0 ||
	    (r = buf_get_u32(payload, &max)) != 0 ||
	    (r = buf_end(payload)) != 0) {
		transport_log_fatal(t, err_sshd_words(r));
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "malformed DH_GEX_REQUEST");
		return ERR_PROTOCOL;
	}
	if (kexgex_check_request(min, n, max, &cmin, &cn, &cmax) != 0) {
		/* sshd's line (its logdie: INFO, no prefix). */
		transport_log_fatal(t, "DH GEX group out of range");
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "DH GEX group out of range");
		return ERR_PROTOCOL;
	}
	if (t->params.gex_group == NULL)
		return ERR_INTERNAL;
	kexgex_free(t);
	if ((x = t->gex = calloc(1, sizeof(*x))) == NULL ||
	    (x->p = buf_new(GEX_MAX_BYTES)) == NULL ||
	    (x->g = buf_new(GEX_MAX_BYTES)) == NULL)
		return ERR_ALLOC;
	/* The hash takes the numbers as sent; the group the clamped ones. */
	x->min = min;
	x->n = n;
	x->max = max;
	/* The monitor checks and clamps them again itself. */
	if ((r = t->params.gex_group(
	         t->params.sign_ctx, min, n, max, x->p, x->g)) != 0) {
		error("kex: no group for DH_GEX_REQUEST: %s", err_str(r));
		return r;
	}
	debug("SSH2_MSG_KEX_DH_GEX_REQUEST received: %u <= %u <= %u; sending "
	      "a %zu-bit group",
	    min, n, max, buf_len(x->p) * 8);
	if ((b = buf_new(2 * GEX_MAX_BYTES + 64)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u8(b, MSG_GEX_GROUP)) == 0 &&
	    (r = buf_put_mpint_bytes(b, buf_ptr(x->p), buf_len(x->p))) == 0 &&
	    (r = buf_put_mpint_bytes(b, buf_ptr(x->g), buf_len(x->g))) == 0)
		r = transport_send_raw_payload(t, b);
	buf_free(b);
	x->have_group = r == 0;
	return r;
}

/* An EVP "DH" key of the group p, g: a fresh key pair, or the peer's. */
static EVP_PKEY *
dh_key(const struct kexgex *x, const BIGNUM *pub, int priv_len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL, kp[2];
	EVP_PKEY_CTX *ctx = NULL, *kctx = NULL;
	EVP_PKEY *dom = NULL, *key = NULL;
	BIGNUM *p = NULL, *g = NULL;

	if ((p = BN_bin2bn(buf_ptr(x->p), (int)buf_len(x->p), NULL)) == NULL ||
	    (g = BN_bin2bn(buf_ptr(x->g), (int)buf_len(x->g), NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) != 1 ||
	    (pub != NULL &&
	        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub) !=
	            1) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (pub != NULL) {
		if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) !=
		    1)
			key = NULL;
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &dom, EVP_PKEY_KEY_PARAMETERS, params) != 1)
		goto out;
	/* A short exponent, as OpenSSH uses: the keys need no more. */
	kp[0] =
	    OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_len);
	kp[1] = OSSL_PARAM_construct_end();
	if ((kctx = EVP_PKEY_CTX_new_from_pkey(NULL, dom, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kctx) != 1 ||
	    EVP_PKEY_CTX_set_params(kctx, kp) != 1 ||
	    EVP_PKEY_generate(kctx, &key) != 1)
		key = NULL;
out:
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(dom);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	return key;
}

/*
 * The exponent's size, as OpenSSH sizes it: twice the bits of the
 * longest key or IV the exchange must produce, at least 512, below p's.
 */
static int
priv_bits(const struct transport *t, const struct kexgex *x)
{
	const struct cipher_alg *c[2] = {
	    t->pending_c2s.cipher, t->pending_s2c.cipher};
	size_t need = 0, i;
	int bits, pbits = (int)buf_len(x->p) * 8 - 1;

	for (i = 0; i < 2; i++) {
		if (c[i] != NULL && c[i]->key_len > need)
			need = c[i]->key_len;
		if (c[i] != NULL && c[i]->iv_len > need)
			need = c[i]->iv_len;
	}
	bits = (int)need * 8 * 2;
	if (bits < GEX_PRIV_MIN_BITS)
		bits = GEX_PRIV_MIN_BITS;
	return bits < pbits ? bits : pbits;
}

/* f and the encoded K for the client's e. */
static int
gex_compute(const struct kexgex *x, int priv_len, const uint8_t *e, size_t elen,
    struct buf *f, struct buf *kbuf)
{
	EVP_PKEY *mine = NULL, *peer = NULL;
	BIGNUM *ebn = NULL, *p = NULL, *fbn = NULL;
	uint8_t *shared = NULL, *dst;
	size_t slen = GEX_MAX_BYTES;
	int r = ERR_FORMAT;

	if (elen > GEX_MAX_BYTES)
		return ERR_FORMAT;
	if ((shared = malloc(GEX_MAX_BYTES)) == NULL)
		return ERR_ALLOC;
	if ((ebn = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (p = BN_bin2bn(buf_ptr(x->p), (int)buf_len(x->p), NULL)) == NULL) {
		r = ERR_CRYPTO;
		goto out;
	}
	/* RFC 4419 s3: 1 < e < p-1; as sshd, not too few bits set. */
	if ((r = kex_dh_pub_check(ebn, p)) != 0)
		goto out;
	r = ERR_FORMAT;
	if ((peer = dh_key(x, ebn, 0)) == NULL)
		goto out;
	r = ERR_CRYPTO;
	if ((mine = dh_key(x, NULL, priv_len)) == NULL ||
	    EVP_PKEY_get_bn_param(mine, OSSL_PKEY_PARAM_PUB_KEY, &fbn) != 1)
		goto out;
	/* As for the fixed groups (kexdh.c): sshd's checks only. */
	if ((r = kex_evp_derive(mine, peer, 0, shared, &slen)) != 0)
		goto out;
	if ((r = buf_reserve(f, (size_t)BN_num_bytes(fbn), &dst)) != 0)
		goto out;
	BN_bn2bin(fbn, dst);
	r = buf_put_mpint_bytes(kbuf, shared, slen);
out:
	if (r != 0)
		ERR_clear_error();
	wipe(shared, GEX_MAX_BYTES);
	free(shared);
	BN_clear_free(ebn);
	BN_free(p);
	BN_free(fbn);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return r;
}

/* SSH_MSG_KEX_DH_GEX_INIT -> SSH_MSG_KEX_DH_GEX_REPLY, then NEWKEYS. */
static int
gex_init(struct transport *t, struct buf *payload)
{
	const struct transport_hostkey *hk;
	struct kexgex *x = t->gex;
	const uint8_t *e;
	size_t elen, hlen;
	uint8_t h[DIGEST_MAX_LEN];
	struct buf *kbuf = NULL, *hb = NULL, *sig = NULL, *reply = NULL;
	struct buf *f = NULL;
	int r;

	if ((r = buf_get_mpint_direct(payload, &e, &elen)) != 0 ||
	    (r = buf_end(payload)) != 0) {
		transport_log_fatal(t, err_sshd_words(r));
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "malformed DH_GEX_INIT");
		return ERR_PROTOCOL;
	}
	if ((hk = find_hostkey(t, t->neg_hostkey)) == NULL)
		return ERR_INTERNAL;
	t->hash_alg = kexgex_hash_alg(t->neg_kex);
	kbuf = buf_new_secret(GEX_MAX_BYTES + 8);
	hb = buf_new_secret(KEX_HASH_INPUT_MAX); /* ends with K */
	sig = buf_new(4096);
	reply = buf_new(2 * GEX_MAX_BYTES + 16384);
	f = buf_new(GEX_MAX_BYTES);
	if (kbuf == NULL || hb == NULL || sig == NULL || reply == NULL ||
	    f == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = gex_compute(x, priv_bits(t, x), e, elen, f, kbuf)) != 0) {
		r = gex_error(t, SSH2_DISCONNECT_KEY_EXCHANGE_FAILED,
		    "bad client public value for DH group exchange");
		goto out;
	}
	/*
	 * RFC 4419 s3: H over the identifications, KEXINITs, K_S, the
	 * request, the group, e, f and K.
	 */
	if ((r = kex_hash_start(t, hb, hk)) != 0 ||
	    (r = buf_put_u32(hb, x->min)) != 0 ||
	    (r = buf_put_u32(hb, x->n)) != 0 ||
	    (r = buf_put_u32(hb, x->max)) != 0 ||
	    (r = buf_put_mpint_bytes(hb, buf_ptr(x->p), buf_len(x->p))) != 0 ||
	    (r = buf_put_mpint_bytes(hb, buf_ptr(x->g), buf_len(x->g))) != 0 ||
	    (r = buf_put_mpint_bytes(hb, e, elen)) != 0 ||
	    (r = buf_put_mpint_bytes(hb, buf_ptr(f), buf_len(f))) != 0 ||
	    (r = buf_put(hb, buf_ptr(kbuf), buf_len(kbuf))) != 0 ||
	    (r = kex_hash_sign(t, hb, h, &hlen, sig)) != 0)
		goto out;
	if ((r = buf_put_u8(reply, MSG_GEX_REPLY)) != 0 ||
	    (r = buf_put_string(reply, hk->blob, hk->bloblen)) != 0 ||
	    (r = buf_put_mpint_bytes(reply, buf_ptr(f), buf_len(f))) != 0 ||
	    (r = buf_put_stringb(reply, sig)) != 0 ||
	    (r = transport_send_raw_payload(t, reply)) != 0)
		goto out;
	kexgex_free(t);
	r = kex_send_newkeys(t, kbuf, h, hlen);
out:
	wipe(h, sizeof(h));
	buf_free(kbuf);
	buf_free(hb);
	buf_free(sig);
	buf_free(reply);
	buf_free(f);
	return r;
}

int
kexgex_input(struct transport *t, uint8_t type, struct buf *payload)
{
	int have = t->gex != NULL && t->gex->have_group;

	if (type == MSG_GEX_REQUEST && !have)
		return gex_request(t, payload);
	if (type == MSG_GEX_INIT && have)
		return gex_init(t, payload);
	error("kex: unexpected message type %u during DH group exchange", type);
	transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
	    "unexpected message type %u", type);
	return ERR_PROTOCOL;
}
