/*
 * crypto.c: hashes, the OS random source, X25519 and base64, as thin
 * wrappers over OpenSSL libcrypto and getrandom(2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "log.h"

/* ---- hashes ---- */

struct digest_ctx {
	EVP_MD_CTX *md;
	int alg;
};

static const EVP_MD *
digest_md(int alg)
{
	switch (alg) {
	case DIGEST_SHA1:
		return EVP_sha1();
	case DIGEST_SHA256:
		return EVP_sha256();
	case DIGEST_SHA384:
		return EVP_sha384();
	case DIGEST_SHA512:
		return EVP_sha512();
	case DIGEST_MD5:
		return EVP_md5();
	}
	return NULL;
}

static const struct {
	int alg;
	const char *name;
} digest_names[] = {
    {DIGEST_MD5, "MD5"},
    {DIGEST_SHA1, "SHA1"},
    {DIGEST_SHA256, "SHA256"},
    {DIGEST_SHA384, "SHA384"},
    {DIGEST_SHA512, "SHA512"},
};

const char *
digest_name(int alg)
{
	size_t i;

	for (i = 0; i < sizeof(digest_names) / sizeof(digest_names[0]); i++) {
		if (digest_names[i].alg == alg)
			return digest_names[i].name;
	}
	return "UNKNOWN";
}

int
digest_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(digest_names) / sizeof(digest_names[0]); i++) {
		if (strcasecmp(digest_names[i].name, name) == 0)
			return digest_names[i].alg;
	}
	return -1;
}

size_t
digest_len(int alg)
{
	switch (alg) {
	case DIGEST_SHA1:
		return 20;
	case DIGEST_SHA256:
		return 32;
	case DIGEST_SHA384:
		return 48;
	case DIGEST_SHA512:
		return 64;
	case DIGEST_MD5:
		return 16;
	}
	return 0;
}

int
digest_memory(int alg, const void *data, size_t len, uint8_t *out)
{
	const EVP_MD *md;
	unsigned int outl = 0;

	if ((md = digest_md(alg)) == NULL || out == NULL)
		return ERR_INTERNAL;
	if (EVP_Digest(data, len, out, &outl, md, NULL) != 1 ||
	    outl != digest_len(alg))
		return ERR_CRYPTO;
	return 0;
}

struct digest_ctx *
digest_start(int alg)
{
	struct digest_ctx *ctx;
	const EVP_MD *md;

	if ((md = digest_md(alg)) == NULL)
		return NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->alg = alg;
	if ((ctx->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx->md, md, NULL) != 1) {
		digest_free(ctx);
		return NULL;
	}
	return ctx;
}

int
digest_update(struct digest_ctx *ctx, const void *data, size_t len)
{
	if (ctx == NULL)
		return ERR_INTERNAL;
	if (EVP_DigestUpdate(ctx->md, data, len) != 1)
		return ERR_CRYPTO;
	return 0;
}

int
digest_final(struct digest_ctx *ctx, uint8_t *out)
{
	unsigned int outl = 0;
	int r = 0;

	if (ctx == NULL || out == NULL) {
		digest_free(ctx);
		return ERR_INTERNAL;
	}
	if (EVP_DigestFinal_ex(ctx->md, out, &outl) != 1 ||
	    outl != digest_len(ctx->alg))
		r = ERR_CRYPTO;
	digest_free(ctx);
	return r;
}

void
digest_free(struct digest_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md); /* cleanses the hash state */
	freezero(ctx, sizeof(*ctx));
}

/* ---- randomness ---- */

void
random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = getrandom(p, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			fatal_f("getrandom: %s", strerror(errno));
		}
		if (n == 0)
			fatal_f("getrandom returned no bytes");
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Packet padding needs unpredictable bytes, not secret ones, and a handful
 * per packet: one getrandom(2) per packet would cost a syscall per packet
 * on bulk transfers. Draw them from a pool refilled 4 KiB at a time. Each
 * process that sends packets is exec'd fresh, so no two share a pool.
 */
#define PAD_POOL_SIZE 4096

void
random_padding(void *buf, size_t len)
{
	static uint8_t pool[PAD_POOL_SIZE];
	static size_t left;
	uint8_t *p = buf;
	size_t n;

	while (len > 0) {
		if (left == 0) {
			random_bytes(pool, sizeof(pool));
			left = sizeof(pool);
		}
		n = len < left ? len : left;
		/* Wiped once handed out: never the same bytes twice. */
		memcpy(p, pool + sizeof(pool) - left, n);
		wipe(pool + sizeof(pool) - left, n);
		left -= n;
		p += n;
		len -= n;
	}
}

uint32_t
random_uniform(uint32_t upper_bound)
{
	uint32_t r, min;

	if (upper_bound < 2)
		return 0;
	/*
	 * min = 2^32 mod upper_bound. Rejecting values below it leaves a
	 * range whose size is a multiple of upper_bound, so r % upper_bound
	 * is uniform. Fewer than half of all values are ever rejected.
	 */
	min = (uint32_t)(0U - upper_bound) % upper_bound;
	for (;;) {
		random_bytes(&r, sizeof(r));
		if (r >= min)
			return r % upper_bound;
	}
}

/* ---- X25519 ---- */

int
x25519_keypair(uint8_t pub[X25519_KEY_LEN], uint8_t priv[X25519_KEY_LEN])
{
	EVP_PKEY *pkey = NULL;
	size_t len = X25519_KEY_LEN;
	int r = ERR_CRYPTO;

	/* Our own randomness: OpenSSL clamps the scalar when it uses it. */
	random_bytes(priv, X25519_KEY_LEN);
	if ((pkey = EVP_PKEY_new_raw_private_key(
	         EVP_PKEY_X25519, NULL, priv, X25519_KEY_LEN)) == NULL)
		goto out;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
	    len != X25519_KEY_LEN)
		goto out;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	if (r != 0) {
		wipe(priv, X25519_KEY_LEN);
		ERR_clear_error();
	}
	return r;
}

int
x25519_shared(uint8_t out[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN],
    const uint8_t peer[X25519_KEY_LEN])
{
	static const uint8_t zero[X25519_KEY_LEN];
	EVP_PKEY *sk = NULL, *pk = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = X25519_KEY_LEN;
	int r = ERR_CRYPTO;

	if ((sk = EVP_PKEY_new_raw_private_key(
	         EVP_PKEY_X25519, NULL, priv, X25519_KEY_LEN)) == NULL ||
	    (pk = EVP_PKEY_new_raw_public_key(
	         EVP_PKEY_X25519, NULL, peer, X25519_KEY_LEN)) == NULL)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new(sk, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1 ||
	    EVP_PKEY_derive_set_peer(pctx, pk) != 1 ||
	    EVP_PKEY_derive(pctx, out, &len) != 1 || len != X25519_KEY_LEN)
		goto out;
	/* A small-order peer point gives zero (RFC 7748 s6.1). */
	if (ct_eq(out, zero, X25519_KEY_LEN))
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(pk);
	if (r != 0) {
		wipe(out, X25519_KEY_LEN);
		ERR_clear_error();
	}
	return r;
}

/* ---- base64 ---- */

/*
 * Characters are mapped with arithmetic rather than table lookups, so that
 * decoding a private key does not index memory by secret values.
 */

/* All ones if a > b, else zero; a and b below 2^31. */
static unsigned
ct_gt(unsigned a, unsigned b)
{
	return 0U - ((b - a) >> 31);
}

/* All ones if lo <= c <= hi, else zero. */
static unsigned
ct_in(unsigned c, unsigned lo, unsigned hi)
{
	return ~ct_gt(lo, c) & ~ct_gt(c, hi);
}

static char
b64_enc_char(unsigned v)
{
	unsigned c = 'A' + v;

	c += ct_gt(v, 25) & ('a' - 'A' - 26); /* 26..51 -> a..z */
	c -= ct_gt(v, 51) & 75;               /* 52..61 -> 0..9 */
	c -= ct_gt(v, 61) & 15;               /* 62 -> '+' */
	c += ct_gt(v, 62) & 3;                /* 63 -> '/' */
	return (char)c;
}

/* Returns the 6-bit value of c; sets all bits of *bad if c is invalid. */
static unsigned
b64_dec_char(unsigned char ch, unsigned *bad)
{
	unsigned c = ch, v = 0, ok = 0, m;

	m = ct_in(c, 'A', 'Z');
	v |= m & (c - 'A');
	ok |= m;
	m = ct_in(c, 'a', 'z');
	v |= m & (c - 'a' + 26);
	ok |= m;
	m = ct_in(c, '0', '9');
	v |= m & (c - '0' + 52);
	ok |= m;
	m = ct_in(c, '+', '+');
	v |= m & 62;
	ok |= m;
	m = ct_in(c, '/', '/');
	v |= m & 63;
	ok |= m;
	*bad |= ~ok;
	return v & 63;
}

int
base64_encode(const uint8_t *src, size_t srclen, char *dst, size_t dstlen)
{
	size_t i, o = 0;
	uint32_t w;

	if (srclen > (BUF_MAX_HARD / 4) * 3)
		return ERR_TOO_BIG;
	if (dst == NULL || dstlen < (srclen + 2) / 3 * 4 + 1)
		return ERR_TOO_BIG;
	for (i = 0; i + 3 <= srclen; i += 3) {
		w = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 |
		    src[i + 2];
		dst[o++] = b64_enc_char((w >> 18) & 63);
		dst[o++] = b64_enc_char((w >> 12) & 63);
		dst[o++] = b64_enc_char((w >> 6) & 63);
		dst[o++] = b64_enc_char(w & 63);
	}
	if (srclen - i == 1) {
		w = (uint32_t)src[i] << 16;
		dst[o++] = b64_enc_char((w >> 18) & 63);
		dst[o++] = b64_enc_char((w >> 12) & 63);
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (srclen - i == 2) {
		w = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		dst[o++] = b64_enc_char((w >> 18) & 63);
		dst[o++] = b64_enc_char((w >> 12) & 63);
		dst[o++] = b64_enc_char((w >> 6) & 63);
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return 0;
}

/*
 * Strict RFC 4648: padded to a multiple of 4, '=' only at the end, no
 * whitespace, and the unused bits before the padding must be zero, so that
 * every byte string has exactly one accepted encoding.
 */
int
base64_decode(
    const char *src, size_t srclen, uint8_t *dst, size_t dstlen, size_t *outlen)
{
	size_t i, k, o = 0, pad = 0, need;
	unsigned bad = 0, v[4];
	uint32_t w = 0;
	int last;

	if (outlen == NULL)
		return ERR_INTERNAL;
	*outlen = 0;
	if (srclen % 4 != 0)
		return ERR_FORMAT;
	if (srclen == 0)
		return 0;
	if (src == NULL)
		return ERR_INTERNAL;
	if (src[srclen - 1] == '=')
		pad = src[srclen - 2] == '=' ? 2 : 1;
	need = srclen / 4 * 3 - pad;
	if (dst == NULL || dstlen < need)
		return ERR_TOO_BIG;
	for (i = 0; i < srclen; i += 4) {
		last = i + 4 == srclen;
		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - pad)
				v[k] = 0; /* the '=' we counted */
			else
				v[k] = b64_dec_char(
				    (unsigned char)src[i + k], &bad);
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | v[3];
		dst[o++] = (uint8_t)(w >> 16);
		if (!last || pad < 2)
			dst[o++] = (uint8_t)(w >> 8);
		if (!last || pad < 1)
			dst[o++] = (uint8_t)w;
	}
	if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
		bad = 1;
	if (bad != 0) {
		wipe(dst, o);
		return ERR_FORMAT;
	}
	*outlen = o;
	return 0;
}

/* ---- library setup ---- */

/*
 * postern never prints OpenSSL's error strings, so they are not loaded:
 * their table is some 50 KiB of heap in every process of every connection.
 */
void
crypto_init_config(void)
{
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG |
	            OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	            OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS,
	        NULL) != 1)
		fatal_f("OPENSSL_init_crypto failed");
}

/*
 * Load the OpenSSL configuration, and fetch the algorithms postern uses, now
 * while files can still be opened; later fetches hit OpenSSL's method cache.
 * An algorithm missing here (say, ChaCha20 under a FIPS provider) is not
 * fatal: it fails where it is used.
 */
void
crypto_init(void)
{
	static const char *const mds[] = {"SHA1", "SHA256", "SHA384", "SHA512"};
	static const char *const ciphers[] = {
	    "ChaCha20", "AES-128-GCM", "AES-256-GCM"};
	EVP_PKEY_CTX *pctx;
	EVP_CIPHER *c;
	EVP_MD *md;
	EVP_MAC *mac;
	size_t i;

	crypto_init_config();
	for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		if ((md = EVP_MD_fetch(NULL, mds[i], NULL)) == NULL)
			debug_f("OpenSSL lacks %s", mds[i]);
		EVP_MD_free(md);
	}
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		if ((c = EVP_CIPHER_fetch(NULL, ciphers[i], NULL)) == NULL)
			debug_f("OpenSSL lacks %s", ciphers[i]);
		EVP_CIPHER_free(c);
	}
	if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL)
		debug_f("OpenSSL lacks POLY1305");
	EVP_MAC_free(mac);
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL)) == NULL)
		debug_f("OpenSSL lacks X25519");
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
}
