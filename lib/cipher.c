/*
 * cipher.c: SSH packet ciphers over OpenSSL EVP: chacha20-poly1305@openssh.com
 * (PROTOCOL.chacha20poly1305), AES-GCM (RFC 5647) and AES-CTR (RFC 4344),
 * in place, one packet per call, with EVP contexts allocated once per key.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cipher.h"
#include "err.h"

#define CHACHA_KEY_LEN 32
#define CHACHA_IV_LEN 16 /* OpenSSL: ChaCha20 state words 12..15 */
#define POLY1305_KEY_LEN 32
#define POLY1305_TAG_LEN 16
#define GCM_IV_LEN 12
#define GCM_FIXED_LEN 4
#define GCM_TAG_LEN 16
#define LEN_FIELD 4

struct cipher_ops {
	int (*init)(
	    struct cipher_ctx *ctx, const uint8_t *key, const uint8_t *iv);
	int (*crypt)(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
	    const uint8_t *src, size_t len, size_t aadlen);
	int (*get_length)(struct cipher_ctx *ctx, uint32_t seqnr,
	    const uint8_t *src, uint32_t *plenp);
};

/*
 * One row per algorithm. A non-AEAD cipher (aes-ctr, aead = 0) has
 * tag_len 0; its MAC lives in mac.c.
 */
struct cipher_impl {
	struct cipher_alg alg;
	const struct cipher_ops *ops;
	const EVP_CIPHER *(*evp)(void);
};

struct cipher_ctx {
	const struct cipher_impl *impl;
	int encrypt;
	EVP_CIPHER_CTX *evp;     /* chacha: K_2 (body, Poly1305 key); gcm */
	EVP_CIPHER_CTX *evp_len; /* chacha: K_1 (length field) */
	EVP_MAC_CTX *mac;        /* chacha: Poly1305 */
	uint8_t iv[GCM_IV_LEN];  /* gcm: fixed field || invocation counter */
};

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- chacha20-poly1305@openssh.com ---- */

/*
 * OpenSSL's EVP_chacha20 takes a 16-byte IV that is loaded little-endian into
 * state words 12..15. In the original ChaCha layout used by OpenSSH, words
 * 12..13 are a 64-bit block counter and 14..15 the 64-bit nonce, so the IV is
 * the counter as 8 little-endian bytes followed by the nonce, which is the
 * sequence number as a 64-bit big-endian value.
 */
static void
chacha_iv(uint8_t iv[CHACHA_IV_LEN], uint64_t counter, uint32_t seqnr)
{
	int i;

	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(counter >> (8 * i));
	iv[8] = iv[9] = iv[10] = iv[11] = 0;
	iv[12] = (uint8_t)(seqnr >> 24);
	iv[13] = (uint8_t)(seqnr >> 16);
	iv[14] = (uint8_t)(seqnr >> 8);
	iv[15] = (uint8_t)seqnr;
}

/* XOR len bytes of src with the keystream starting at iv; dst may be src. */
static int
chacha_xor(EVP_CIPHER_CTX *evp, const uint8_t iv[CHACHA_IV_LEN], uint8_t *dst,
    const uint8_t *src, size_t len)
{
	int outl;

	if (EVP_CipherInit_ex(evp, NULL, NULL, NULL, iv, -1) != 1)
		return ERR_CRYPTO;
	if (len == 0)
		return 0;
	if (EVP_CipherUpdate(evp, dst, &outl, src, (int)len) != 1 ||
	    (size_t)outl != len)
		return ERR_CRYPTO;
	return 0;
}

static int
poly1305(EVP_MAC_CTX *mac, const uint8_t key[POLY1305_KEY_LEN],
    const uint8_t *data, size_t len, uint8_t tag[POLY1305_TAG_LEN])
{
	size_t outl;

	if (EVP_MAC_init(mac, key, POLY1305_KEY_LEN, NULL) != 1 ||
	    EVP_MAC_update(mac, data, len) != 1 ||
	    EVP_MAC_final(mac, tag, &outl, POLY1305_TAG_LEN) != 1 ||
	    outl != POLY1305_TAG_LEN)
		return ERR_CRYPTO;
	return 0;
}

static int
chachapoly_init(struct cipher_ctx *ctx, const uint8_t *key, const uint8_t *iv)
{
	EVP_MAC *mac = NULL;
	int r = ERR_CRYPTO;

	if ((ctx->evp = EVP_CIPHER_CTX_new()) == NULL ||
	    (ctx->evp_len = EVP_CIPHER_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* A stream cipher: the direction flag makes no difference. */
	if (EVP_CipherInit_ex(ctx->evp, EVP_chacha20(), NULL, key, NULL, 1) !=
	        1 ||
	    EVP_CipherInit_ex(ctx->evp_len, EVP_chacha20(), NULL,
	        key + CHACHA_KEY_LEN, NULL, 1) != 1)
		goto out;
	if (EVP_CIPHER_CTX_get_key_length(ctx->evp) != CHACHA_KEY_LEN ||
	    EVP_CIPHER_CTX_get_iv_length(ctx->evp) != CHACHA_IV_LEN)
		goto out;
	if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL ||
	    (ctx->mac = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	r = 0;
out:
	EVP_MAC_free(mac);
	return r;
}

static int
chachapoly_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
    const uint8_t *src, size_t len, size_t aadlen)
{
	uint8_t iv[CHACHA_IV_LEN];
	uint8_t polykey[POLY1305_KEY_LEN];
	uint8_t tag[POLY1305_TAG_LEN];
	int r;

	if (aadlen != LEN_FIELD)
		return ERR_INTERNAL;
	/* Poly1305 key: the first 32 bytes of K_2's keystream block 0. */
	chacha_iv(iv, 0, seqnr);
	memset(polykey, 0, sizeof(polykey));
	if ((r = chacha_xor(ctx->evp, iv, polykey, polykey, sizeof(polykey))) !=
	    0)
		goto out;
	if (!ctx->encrypt) {
		/* Authenticate the ciphertext before decrypting any of it. */
		if ((r = poly1305(ctx->mac, polykey, src, aadlen + len, tag)) !=
		    0)
			goto out;
		if (!ct_eq(tag, src + aadlen + len, sizeof(tag))) {
			r = ERR_MAC;
			goto out;
		}
	}
	/* Length field: K_1, block counter 0. */
	if ((r = chacha_xor(ctx->evp_len, iv, dst, src, aadlen)) != 0)
		goto out;
	/* Body: K_2 from block counter 1. */
	chacha_iv(iv, 1, seqnr);
	if ((r = chacha_xor(ctx->evp, iv, dst + aadlen, src + aadlen, len)) !=
	    0)
		goto out;
	if (ctx->encrypt)
		r = poly1305(
		    ctx->mac, polykey, dst, aadlen + len, dst + aadlen + len);
out:
	wipe(polykey, sizeof(polykey));
	wipe(tag, sizeof(tag));
	return r;
}

static int
chachapoly_get_length(
    struct cipher_ctx *ctx, uint32_t seqnr, const uint8_t *src, uint32_t *plenp)
{
	uint8_t iv[CHACHA_IV_LEN], plain[LEN_FIELD];
	int r;

	chacha_iv(iv, 0, seqnr);
	if ((r = chacha_xor(ctx->evp_len, iv, plain, src, sizeof(plain))) != 0)
		return r;
	*plenp = get_be32(plain);
	return 0;
}

/*
 * evp_body: the aadlen bytes in front go to dst as they are; the len bytes
 * after them through evp (a stream mode: output as long as input).
 */
static int
evp_body(EVP_CIPHER_CTX *evp, uint8_t *dst, const uint8_t *src, size_t len,
    size_t aadlen)
{
	int outl;

	if (dst != src)
		memmove(dst, src, aadlen);
	if (len > 0 &&
	    (EVP_CipherUpdate(
	         evp, dst + aadlen, &outl, src + aadlen, (int)len) != 1 ||
	        (size_t)outl != len))
		return ERR_CRYPTO;
	return 0;
}

/* ---- aes128-gcm@openssh.com, aes256-gcm@openssh.com ---- */

static int
gcm_init(struct cipher_ctx *ctx, const uint8_t *key, const uint8_t *iv)
{
	if ((ctx->evp = EVP_CIPHER_CTX_new()) == NULL)
		return ERR_ALLOC;
	/* The IV is set per packet; the key schedule is computed once. */
	if (EVP_CipherInit_ex(
	        ctx->evp, ctx->impl->evp(), NULL, key, NULL, ctx->encrypt) != 1)
		return ERR_CRYPTO;
	if ((size_t)EVP_CIPHER_CTX_get_key_length(ctx->evp) !=
	        ctx->impl->alg.key_len ||
	    EVP_CIPHER_CTX_get_iv_length(ctx->evp) != GCM_IV_LEN)
		return ERR_CRYPTO;
	memcpy(ctx->iv, iv, GCM_IV_LEN);
	return 0;
}

/* RFC 5647 s7.1: the 64-bit invocation counter, big-endian, wraps. */
static void
gcm_next_iv(uint8_t iv[GCM_IV_LEN])
{
	int i;

	for (i = GCM_IV_LEN - 1; i >= GCM_FIXED_LEN; i--)
		if (++iv[i] != 0)
			break;
}

/*
 * GCM authenticates as it decrypts, so the tag is only known after the body
 * has been decrypted. On a bad tag the decrypted body is zeroed, so no
 * unauthenticated plaintext ever leaves this function.
 */
static int
gcm_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
    const uint8_t *src, size_t len, size_t aadlen)
{
	uint8_t tag[GCM_TAG_LEN], scratch[GCM_TAG_LEN];
	int outl, r = ERR_CRYPTO;

	if (aadlen != LEN_FIELD)
		return ERR_INTERNAL;
	if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, ctx->iv, -1) != 1)
		return ERR_CRYPTO;
	/* Each IV is used for one packet only, whatever happens next. */
	gcm_next_iv(ctx->iv);
	if (!ctx->encrypt) {
		memcpy(tag, src + aadlen + len, sizeof(tag));
		if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_SET_TAG,
		        (int)sizeof(tag), tag) != 1)
			goto out;
	}
	if (EVP_CipherUpdate(ctx->evp, NULL, &outl, src, (int)aadlen) != 1)
		goto out;
	if (evp_body(ctx->evp, dst, src, len, aadlen) != 0)
		goto out;
	if (EVP_CipherFinal_ex(ctx->evp, scratch, &outl) != 1) {
		if (!ctx->encrypt) {
			wipe(dst + aadlen, len);
			r = ERR_MAC;
		}
		goto out;
	}
	if (ctx->encrypt &&
	    EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
	        dst + aadlen + len) != 1)
		goto out;
	r = 0;
out:
	wipe(tag, sizeof(tag));
	return r;
}

static int
gcm_get_length(
    struct cipher_ctx *ctx, uint32_t seqnr, const uint8_t *src, uint32_t *plenp)
{
	*plenp = get_be32(src); /* AAD: sent in clear */
	return 0;
}

/* ---- aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344) ---- */

static int
ctr_init(struct cipher_ctx *ctx, const uint8_t *key, const uint8_t *iv)
{
	if ((ctx->evp = EVP_CIPHER_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_CipherInit_ex(ctx->evp, ctx->impl->evp(), NULL, key, iv, 1) !=
	    1)
		return ERR_CRYPTO;
	if ((size_t)EVP_CIPHER_CTX_get_key_length(ctx->evp) !=
	        ctx->impl->alg.key_len ||
	    (size_t)EVP_CIPHER_CTX_get_iv_length(ctx->evp) !=
	        ctx->impl->alg.iv_len)
		return ERR_CRYPTO;
	return 0;
}

/*
 * The counter runs on across packets. aadlen bytes (an -etm MAC's length
 * field) stay in clear; the caller passes aadlen 0 and the first block to
 * decrypt a length field otherwise.
 */
static int
ctr_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
    const uint8_t *src, size_t len, size_t aadlen)
{
	return evp_body(ctx->evp, dst, src, len, aadlen);
}

/* ---- the table ---- */

static const struct cipher_ops chachapoly_ops = {
    chachapoly_init,
    chachapoly_crypt,
    chachapoly_get_length,
};

static const struct cipher_ops gcm_ops = {
    gcm_init,
    gcm_crypt,
    gcm_get_length,
};

static const struct cipher_ops ctr_ops = {
    ctr_init, ctr_crypt, gcm_get_length, /* -etm: the length is sent in clear */
};

/* OpenSSH's order (ssh -Q cipher), restricted to what postern supports. */
static const struct cipher_impl ciphers[] = {
    {{"aes128-ctr", 16, 16, 16, 0, 0}, &ctr_ops, EVP_aes_128_ctr},
    {{"aes192-ctr", 24, 16, 16, 0, 0}, &ctr_ops, EVP_aes_192_ctr},
    {{"aes256-ctr", 32, 16, 16, 0, 0}, &ctr_ops, EVP_aes_256_ctr},
    {{"chacha20-poly1305@openssh.com", 2 * CHACHA_KEY_LEN, 0, 8,
         POLY1305_TAG_LEN, 1},
        &chachapoly_ops, NULL},
    {{"aes128-gcm@openssh.com", 16, GCM_IV_LEN, 16, GCM_TAG_LEN, 1}, &gcm_ops,
        EVP_aes_128_gcm},
    {{"aes256-gcm@openssh.com", 32, GCM_IV_LEN, 16, GCM_TAG_LEN, 1}, &gcm_ops,
        EVP_aes_256_gcm},
};

#define NCIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))

static const struct cipher_impl *
impl_of(const struct cipher_alg *alg)
{
	size_t i;

	for (i = 0; i < NCIPHERS; i++)
		if (&ciphers[i].alg == alg)
			return &ciphers[i];
	return NULL;
}

const struct cipher_alg *
cipher_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NCIPHERS; i++)
		if (strcmp(ciphers[i].alg.name, name) == 0)
			return &ciphers[i].alg;
	return NULL;
}

const char *
cipher_supported_list(void)
{
	return "aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
	       "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
}

int
cipher_init(struct cipher_ctx **ctxp, const struct cipher_alg *alg,
    const uint8_t *key, const uint8_t *iv, int encrypt)
{
	const struct cipher_impl *impl;
	struct cipher_ctx *ctx;
	int r;

	if (ctxp == NULL)
		return ERR_INTERNAL;
	*ctxp = NULL;
	if ((impl = impl_of(alg)) == NULL || key == NULL ||
	    (alg->iv_len > 0 && iv == NULL))
		return ERR_INTERNAL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return ERR_ALLOC;
	ctx->impl = impl;
	ctx->encrypt = encrypt != 0;
	if ((r = impl->ops->init(ctx, key, iv)) != 0) {
		cipher_free(ctx);
		return r;
	}
	*ctxp = ctx;
	return 0;
}

void
cipher_free(struct cipher_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* OpenSSL cleanses key schedules and Poly1305 state when freeing. */
	EVP_CIPHER_CTX_free(ctx->evp);
	EVP_CIPHER_CTX_free(ctx->evp_len);
	EVP_MAC_CTX_free(ctx->mac);
	freezero(ctx, sizeof(*ctx));
}

/*
 * The caller has already rejected a peer's packet length that is not a
 * multiple of block_size; here a wrong length or tag size is a bug.
 */
int
cipher_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
    const uint8_t *src, size_t len, size_t aadlen, size_t authlen)
{
	const struct cipher_alg *alg;

	if (ctx == NULL || dst == NULL || src == NULL)
		return ERR_INTERNAL;
	alg = &ctx->impl->alg;
	if (authlen != alg->tag_len || len % alg->block_size != 0)
		return ERR_INTERNAL;
	if (len > BUF_MAX_HARD)
		return ERR_TOO_BIG;
	return ctx->impl->ops->crypt(ctx, seqnr, dst, src, len, aadlen);
}

int
cipher_get_length(struct cipher_ctx *ctx, uint32_t *plenp, uint32_t seqnr,
    const uint8_t *src, size_t srclen)
{
	if (ctx == NULL || plenp == NULL || src == NULL)
		return ERR_INTERNAL;
	*plenp = 0;
	if (srclen < LEN_FIELD)
		return ERR_SHORT;
	return ctx->impl->ops->get_length(ctx, seqnr, src, plenp);
}
