/*
 * umac.c: UMAC (RFC 4418): UHASH (NH, POLY, inner-product layers) keyed by
 * the AES-based KDF, masked by the AES-based PDF. AES comes from OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "umac.h"

#define BLOCK 16
#define L1_KEY_LEN 1024 /* bytes: NH's key, and its chunk size */
#define L1_WORDS (L1_KEY_LEN / 4)
#define MAX_ITERS (UMAC_MAX_TAG / 4)
#define P36 ((1ULL << 36) - 5)
#define P64 (0xFFFFFFFFFFFFFFFFULL - 58)     /* 2^64 - 59 */
#define POLY64_MAXWORD 0xFFFFFFFF00000000ULL /* 2^64 - 2^32 */
#define L1_STACK_CHUNKS 264                  /* L1 outputs kept on the stack */
#define POLY64_CHUNKS 16384 /* L1 outputs hashed with POLY64: 2^17 bytes */

struct umac_ctx {
	size_t taglen, iters;
	/* NH key as 32-bit words (big-endian in the KDF output), Toeplitz
	 * shifted by 4 words per iteration. */
	uint32_t l1key[L1_WORDS + 4 * (MAX_ITERS - 1)];
	uint64_t k64[MAX_ITERS];
	uint8_t k128[MAX_ITERS][16];
	uint64_t l3k1[MAX_ITERS][8];
	uint32_t l3k2[MAX_ITERS];
	EVP_CIPHER_CTX *pdf; /* AES keyed with KDF(K, 0, 16) */
	uint8_t pad_in[BLOCK], pad_out[BLOCK];
	int pad_valid;
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int
aes_block(EVP_CIPHER_CTX *c, const uint8_t in[BLOCK], uint8_t out[BLOCK])
{
	int outl;

	if (EVP_EncryptUpdate(c, out, &outl, in, BLOCK) != 1 || outl != BLOCK)
		return ERR_CRYPTO;
	return 0;
}

static EVP_CIPHER_CTX *
aes_new(const uint8_t key[16])
{
	EVP_CIPHER_CTX *c;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* RFC 4418 s3.2.1: KDF(K, index, numbytes) with K's AES context. */
static int
kdf(EVP_CIPHER_CTX *aes, uint64_t index, uint8_t *out, size_t numbytes)
{
	uint8_t t[BLOCK], y[BLOCK];
	uint64_t i;
	size_t n;
	int r = 0;

	for (i = 1; numbytes > 0; i++) {
		put_be64(t, index);
		put_be64(t + 8, i);
		if ((r = aes_block(aes, t, y)) != 0)
			break;
		n = numbytes < BLOCK ? numbytes : BLOCK;
		memcpy(out, y, n);
		out += n;
		numbytes -= n;
	}
	wipe(y, sizeof(y));
	return r;
}

int
umac_new(struct umac_ctx **ctxp, const uint8_t key[UMAC_KEY_LEN], size_t taglen)
{
	static const uint8_t mask64[8] = {
	    0x01, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff};
	struct umac_ctx *ctx = NULL;
	EVP_CIPHER_CTX *aes = NULL;
	uint8_t *buf = NULL, pdfkey[16];
	size_t i, j, l1len, bufmax;
	int r = ERR_CRYPTO;

	*ctxp = NULL;
	if (taglen != 4 && taglen != 8 && taglen != 12 && taglen != 16)
		return ERR_INTERNAL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return ERR_ALLOC;
	ctx->taglen = taglen;
	ctx->iters = taglen / 4;
	l1len = L1_KEY_LEN + 16 * (ctx->iters - 1);
	bufmax = l1len > 64 * MAX_ITERS ? l1len : 64 * MAX_ITERS;
	if ((buf = malloc(bufmax)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((aes = aes_new(key)) == NULL)
		goto out;
	/* s3.2.2: the pad key. */
	if ((r = kdf(aes, 0, pdfkey, sizeof(pdfkey))) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((ctx->pdf = aes_new(pdfkey)) == NULL)
		goto out;
	/* s5.1: the layer keys. */
	if ((r = kdf(aes, 1, buf, l1len)) != 0)
		goto out;
	for (i = 0; i < l1len / 4; i++)
		ctx->l1key[i] = be32(buf + 4 * i);
	if ((r = kdf(aes, 2, buf, 24 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++) {
		uint8_t *k = buf + 24 * i;

		for (j = 0; j < 8; j++)
			k[j] &= mask64[j];
		ctx->k64[i] = be64(k);
		for (j = 0; j < 16; j++)
			ctx->k128[i][j] = k[8 + j] & mask64[j % 8];
	}
	if ((r = kdf(aes, 3, buf, 64 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++)
		for (j = 0; j < 8; j++)
			ctx->l3k1[i][j] =
			    umac_mod_p36(be64(buf + 64 * i + 8 * j));
	if ((r = kdf(aes, 4, buf, 4 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++)
		ctx->l3k2[i] = be32(buf + 4 * i);
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
out:
	if (buf != NULL)
		freezero(buf, bufmax);
	wipe(pdfkey, sizeof(pdfkey));
	EVP_CIPHER_CTX_free(aes);
	umac_free(ctx);
	return r;
}

void
umac_free(struct umac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_CIPHER_CTX_free(ctx->pdf);
	freezero(ctx, sizeof(*ctx));
}

/*
 * s5.2.1 NH over len bytes (a multiple of 32), for every iteration at
 * once (iteration it uses the key shifted by 4 words), so the message is
 * read once: message words are read little-endian (L1-HASH's
 * ENDIAN-SWAP), key words big-endian; y[it] accumulates.
 */
static void
nh(const uint32_t *k, const uint8_t *m, size_t len, size_t iters, uint64_t *y)
{
	uint32_t w[8];
	const uint32_t *kk;
	size_t i, j, it, t = len / 4;

	for (i = 0; i < t; i += 8) {
		for (j = 0; j < 8; j++)
			w[j] = le32(m + 4 * (i + j));
		for (it = 0; it < iters; it++) {
			kk = k + 4 * it + i;
			for (j = 0; j < 4; j++)
				y[it] += (uint64_t)(uint32_t)(w[j] + kk[j]) *
				    (uint32_t)(w[j + 4] + kk[j + 4]);
		}
	}
}

/* s5.2: L1-HASH of one chunk of at most 1024 bytes, every iteration. */
static void
l1_chunk(
    const uint32_t *k, const uint8_t *m, size_t len, size_t iters, uint64_t *y)
{
	uint8_t pad[L1_KEY_LEN];
	size_t full = len & ~(size_t)31, padded, it;

	for (it = 0; it < iters; it++)
		y[it] = 0;
	nh(k, m, full, iters, y);
	/* zeropad(M, 32) has a nonzero length: the empty chunk is 32 zeros. */
	if (full < len || len == 0) {
		padded = len == 0 ? 32 : (len - full + 31) & ~(size_t)31;
		memset(pad, 0, padded);
		memcpy(pad, m + full, len - full);
		nh(k + full / 4, pad, padded, iters, y);
		wipe(pad, padded);
	}
	for (it = 0; it < iters; it++)
		y[it] += (uint64_t)len * 8;
}

/*
 * x - p when x >= p, else x, without a branch: the borrow of x - p
 * (all ones when x < p) adds p back.
 */
static uint64_t
sub_if_ge(uint64_t x, uint64_t p)
{
	uint64_t d = x - p, borrow = (uint64_t)0 - (uint64_t)(d > x);

	return d + (p & borrow);
}

/*
 * t mod 2^64 - 59 in constant time (no division, whose time may depend
 * on its operands, here key-dependent): 2^64 = 59 (mod p), folded until
 * below 2^64, then one conditional subtraction.
 */
uint64_t
umac_mod_p64(unsigned __int128 t)
{
	t = (t >> 64) * 59 + (uint64_t)t; /* < 2^71 */
	t = (t >> 64) * 59 + (uint64_t)t; /* < 2^64 + 2^13 */
	t = (t >> 64) * 59 + (uint64_t)t; /* < 2^64 */
	return sub_if_ge((uint64_t)t, P64);
}

/* v mod 2^36 - 5 likewise: 2^36 = 5 (mod p). */
uint64_t
umac_mod_p36(uint64_t v)
{
	const uint64_t low = (1ULL << 36) - 1;

	v = (v >> 36) * 5 + (v & low); /* < 2^36 + 2^31 */
	v = (v >> 36) * 5 + (v & low); /* < 2^36 */
	return sub_if_ge(v, P36);
}

/* One step of s5.3.1 POLY with 64-bit words, p = 2^64 - 59. */
static uint64_t
poly64(uint64_t y, uint64_t k, uint64_t m)
{
	if (m >= POLY64_MAXWORD) {
		y = umac_mod_p64((unsigned __int128)k * y + (P64 - 1));
		m -= 59; /* offset = 2^64 - p */
	}
	return umac_mod_p64((unsigned __int128)k * y + m);
}

/*
 * s5.3.2 L2-HASH's second part, POLY with 128-bit words modulo
 * 2^128 - 159, over y (as 16 bytes) and then the rest of the L1 output
 * (8-byte words, "0x80" and zeros appended). Only messages over 16 MiB
 * get here, never an SSH packet, so OpenSSL's BIGNUM does the arithmetic.
 */
static int
poly128(const uint8_t k128[16], uint64_t y64, const uint64_t *rest,
    size_t nrest, uint8_t out[16])
{
	BN_CTX *bnc = NULL;
	BIGNUM *p, *k, *y, *m, *maxw, *marker, *offset;
	uint8_t w[16];
	size_t i, nwords;
	int r = ERR_CRYPTO;

	if ((bnc = BN_CTX_new()) == NULL)
		return ERR_ALLOC;
	BN_CTX_start(bnc);
	p = BN_CTX_get(bnc);
	k = BN_CTX_get(bnc);
	y = BN_CTX_get(bnc);
	m = BN_CTX_get(bnc);
	maxw = BN_CTX_get(bnc);
	marker = BN_CTX_get(bnc);
	offset = BN_CTX_get(bnc);
	if (offset == NULL || !BN_set_word(offset, 159) || !BN_one(p) ||
	    !BN_lshift(p, p, 128) || !BN_sub(p, p, offset) ||
	    !BN_sub(marker, p, BN_value_one()) || !BN_one(maxw) ||
	    !BN_lshift(maxw, maxw, 128) || !BN_one(m) || !BN_lshift(m, m, 96) ||
	    !BN_sub(maxw, maxw, m) || BN_bin2bn(k128, 16, k) == NULL ||
	    !BN_one(y))
		goto out;
	/* Words: y as 16 bytes, then pairs of L1 outputs, then the 0x80. */
	nwords = 1 + (nrest * 8 + 1 + 15) / 16;
	for (i = 0; i < nwords; i++) {
		memset(w, 0, sizeof(w));
		if (i == 0)
			put_be64(w + 8, y64);
		else {
			size_t a = 2 * (i - 1);

			if (a < nrest)
				put_be64(w, rest[a]);
			else if (a == nrest)
				w[0] = 0x80;
			if (a + 1 < nrest)
				put_be64(w + 8, rest[a + 1]);
			else if (a + 1 == nrest)
				w[8] = 0x80;
		}
		if (BN_bin2bn(w, 16, m) == NULL)
			goto out;
		if (BN_cmp(m, maxw) >= 0) {
			if (!BN_mul(y, y, k, bnc) || !BN_add(y, y, marker) ||
			    !BN_nnmod(y, y, p, bnc) || !BN_sub(m, m, offset))
				goto out;
		}
		if (!BN_mul(y, y, k, bnc) || !BN_add(y, y, m) ||
		    !BN_nnmod(y, y, p, bnc))
			goto out;
	}
	if (BN_bn2binpad(y, out, 16) != 16)
		goto out;
	r = 0;
out:
	BN_CTX_end(bnc);
	BN_CTX_free(bnc);
	return r;
}

/* s5.4 L3-HASH of the 16-byte L2 output. */
static uint32_t
l3(const uint64_t k1[8], uint32_t k2, const uint8_t b[16])
{
	uint64_t y = 0;
	int i;

	for (i = 0; i < 8; i++)
		y = umac_mod_p36(
		    y + (uint64_t)(b[2 * i] << 8 | b[2 * i + 1]) * k1[i]);
	return (uint32_t)y ^ k2;
}

/*
 * s5 UHASH: 4 bytes per iteration into out. L1 runs over each chunk once
 * for all iterations; POLY64 consumes its outputs as they come, and those
 * past its share (messages over 16 MiB) wait in l1out for POLY128.
 */
static int
uhash(struct umac_ctx *ctx, const uint8_t *msg, size_t len, uint64_t *l1out,
    uint8_t *out)
{
	uint8_t b[MAX_ITERS][16];
	uint64_t y[MAX_ITERS], v[MAX_ITERS];
	size_t nchunks, nrest, i, n, it;
	uint32_t h;
	int r;

	memset(b, 0, sizeof(b));
	nchunks = (len + L1_KEY_LEN - 1) / L1_KEY_LEN;
	nrest = nchunks > POLY64_CHUNKS ? nchunks - POLY64_CHUNKS : 0;
	if (len <= L1_KEY_LEN) {
		/* One chunk: L2 is skipped, B = zeroes(8) || L1. */
		l1_chunk(ctx->l1key, msg, len, ctx->iters, v);
		for (it = 0; it < ctx->iters; it++)
			put_be64(b[it] + 8, v[it]);
	} else {
		for (it = 0; it < ctx->iters; it++)
			y[it] = 1;
		for (i = 0; i < nchunks; i++) {
			n = len - i * L1_KEY_LEN;
			if (n > L1_KEY_LEN)
				n = L1_KEY_LEN;
			l1_chunk(
			    ctx->l1key, msg + i * L1_KEY_LEN, n, ctx->iters, v);
			for (it = 0; it < ctx->iters; it++) {
				if (i < POLY64_CHUNKS)
					y[it] =
					    poly64(y[it], ctx->k64[it], v[it]);
				else
					l1out[it * nrest + i - POLY64_CHUNKS] =
					    v[it];
			}
		}
		for (it = 0; it < ctx->iters; it++) {
			if (nrest == 0)
				put_be64(b[it] + 8, y[it]);
			else if ((r = poly128(ctx->k128[it], y[it],
			              l1out + it * nrest, nrest, b[it])) != 0)
				return r;
		}
	}
	for (it = 0; it < ctx->iters; it++) {
		h = l3(ctx->l3k1[it], ctx->l3k2[it], b[it]);
		out[4 * it] = (uint8_t)(h >> 24);
		out[4 * it + 1] = (uint8_t)(h >> 16);
		out[4 * it + 2] = (uint8_t)(h >> 8);
		out[4 * it + 3] = (uint8_t)h;
	}
	return 0;
}

/* s3.2.2 PDF: the pad for nonce; 4- and 8-byte tags share AES blocks. */
static int
pdf(struct umac_ctx *ctx, const uint8_t nonce[UMAC_NONCE_LEN], uint8_t *pad)
{
	uint8_t in[BLOCK];
	unsigned index = 0;
	int r;

	memset(in, 0, sizeof(in));
	memcpy(in, nonce, UMAC_NONCE_LEN);
	if (ctx->taglen <= 8) {
		index = in[UMAC_NONCE_LEN - 1] & (BLOCK / ctx->taglen - 1);
		in[UMAC_NONCE_LEN - 1] ^= (uint8_t)index;
	}
	if (!ctx->pad_valid || memcmp(in, ctx->pad_in, BLOCK) != 0) {
		ctx->pad_valid = 0;
		if ((r = aes_block(ctx->pdf, in, ctx->pad_out)) != 0)
			return r;
		memcpy(ctx->pad_in, in, BLOCK);
		ctx->pad_valid = 1;
	}
	memcpy(pad, ctx->pad_out + index * ctx->taglen, ctx->taglen);
	return 0;
}

int
umac_compute(struct umac_ctx *ctx, const uint8_t *msg, size_t len,
    const uint8_t nonce[UMAC_NONCE_LEN], uint8_t *tag)
{
	uint8_t pad[UMAC_MAX_TAG], hash[UMAC_MAX_TAG];
	uint64_t *l1out = NULL;
	size_t i, nchunks;
	int r = 0;

	if (ctx == NULL || (msg == NULL && len > 0) || tag == NULL)
		return ERR_INTERNAL;
	/* Only L1 outputs past POLY64's share are kept (never for SSH). */
	nchunks = (len + L1_KEY_LEN - 1) / L1_KEY_LEN;
	if (nchunks > POLY64_CHUNKS &&
	    (l1out = calloc((nchunks - POLY64_CHUNKS) * ctx->iters,
	         sizeof(*l1out))) == NULL)
		return ERR_ALLOC;
	r = uhash(ctx, msg, len, l1out, hash);
	if (r == 0 && (r = pdf(ctx, nonce, pad)) == 0)
		for (i = 0; i < ctx->taglen; i++)
			tag[i] = hash[i] ^ pad[i];
	free(l1out);
	wipe(pad, sizeof(pad));
	wipe(hash, sizeof(hash));
	return r;
}
