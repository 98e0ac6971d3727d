/*
 * mac.c: SSH packet MACs: HMAC-SHA2/SHA1 through OpenSSL's EVP_MAC (keyed
 * once, re-initialised per packet), UMAC-64/128 through umac.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "buf.h"
#include "err.h"
#include "mac.h"
#include "umac.h"

enum mac_kind { MAC_HMAC, MAC_UMAC };

struct mac_impl {
	struct mac_alg alg;
	enum mac_kind kind;
	const char *digest; /* HMAC: OpenSSL digest name */
};

struct mac_ctx {
	const struct mac_impl *impl;
	EVP_MAC_CTX *hmac;
	struct umac_ctx *umac;
};

/* OpenSSH's order (ssh -Q mac), restricted to what postern supports. */
static const struct mac_impl macs[] = {
    {{"hmac-sha1", 20, 20, 0}, MAC_HMAC, "SHA1"},
    {{"hmac-sha2-256", 32, 32, 0}, MAC_HMAC, "SHA256"},
    {{"hmac-sha2-512", 64, 64, 0}, MAC_HMAC, "SHA512"},
    {{"umac-64@openssh.com", 16, 8, 0}, MAC_UMAC, NULL},
    {{"umac-128@openssh.com", 16, 16, 0}, MAC_UMAC, NULL},
    {{"hmac-sha1-etm@openssh.com", 20, 20, 1}, MAC_HMAC, "SHA1"},
    {{"hmac-sha2-256-etm@openssh.com", 32, 32, 1}, MAC_HMAC, "SHA256"},
    {{"hmac-sha2-512-etm@openssh.com", 64, 64, 1}, MAC_HMAC, "SHA512"},
    {{"umac-64-etm@openssh.com", 16, 8, 1}, MAC_UMAC, NULL},
    {{"umac-128-etm@openssh.com", 16, 16, 1}, MAC_UMAC, NULL},
};

#define NMACS (sizeof(macs) / sizeof(macs[0]))

const struct mac_alg *
mac_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NMACS; i++)
		if (strcmp(macs[i].alg.name, name) == 0)
			return &macs[i].alg;
	return NULL;
}

const char *
mac_supported_list(void)
{
	return "hmac-sha1,hmac-sha2-256,hmac-sha2-512,umac-64@openssh.com,"
	       "umac-128@openssh.com,hmac-sha1-etm@openssh.com,"
	       "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	       "umac-64-etm@openssh.com,umac-128-etm@openssh.com";
}

static const struct mac_impl *
impl_of(const struct mac_alg *alg)
{
	size_t i;

	for (i = 0; i < NMACS; i++)
		if (&macs[i].alg == alg)
			return &macs[i];
	return NULL;
}

int
mac_init(struct mac_ctx **ctxp, const struct mac_alg *alg, const uint8_t *key)
{
	const struct mac_impl *impl;
	struct mac_ctx *ctx;
	EVP_MAC *mac = NULL;
	OSSL_PARAM params[2];
	int r = ERR_CRYPTO;

	*ctxp = NULL;
	if ((impl = impl_of(alg)) == NULL || key == NULL)
		return ERR_INTERNAL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return ERR_ALLOC;
	ctx->impl = impl;
	if (impl->kind == MAC_UMAC) {
		if ((r = umac_new(&ctx->umac, key, alg->tag_len)) != 0)
			goto out;
	} else {
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)impl->digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
		    (ctx->hmac = EVP_MAC_CTX_new(mac)) == NULL ||
		    EVP_MAC_init(ctx->hmac, key, alg->key_len, params) != 1)
			goto out;
	}
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
out:
	EVP_MAC_free(mac);
	mac_free(ctx);
	return r;
}

void
mac_free(struct mac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MAC_CTX_free(ctx->hmac); /* OpenSSL cleanses the HMAC key */
	umac_free(ctx->umac);
	freezero(ctx, sizeof(*ctx));
}

int
mac_compute(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, uint8_t *tag)
{
	uint8_t seq[8];
	size_t outl;
	int i;

	if (ctx == NULL || tag == NULL || (data == NULL && len > 0))
		return ERR_INTERNAL;
	if (ctx->umac != NULL) {
		/* The nonce is the sequence number as a uint64. */
		memset(seq, 0, 4);
		for (i = 0; i < 4; i++)
			seq[4 + i] = (uint8_t)(seqnr >> (24 - 8 * i));
		return umac_compute(ctx->umac, data, len, seq, tag);
	}
	for (i = 0; i < 4; i++)
		seq[i] = (uint8_t)(seqnr >> (24 - 8 * i));
	/* A NULL key re-initialises with the key given to mac_init. */
	if (EVP_MAC_init(ctx->hmac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(ctx->hmac, seq, 4) != 1 ||
	    EVP_MAC_update(ctx->hmac, data, len) != 1 ||
	    EVP_MAC_final(ctx->hmac, tag, &outl, ctx->impl->alg.tag_len) != 1 ||
	    outl != ctx->impl->alg.tag_len)
		return ERR_CRYPTO;
	return 0;
}

int
mac_verify(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data, size_t len,
    const uint8_t *tag)
{
	uint8_t want[MAC_MAX_TAG];
	int r;

	if ((r = mac_compute(ctx, seqnr, data, len, want)) != 0)
		return r;
	r = ct_eq(want, tag, ctx->impl->alg.tag_len) ? 0 : ERR_MAC;
	wipe(want, sizeof(want));
	return r;
}
