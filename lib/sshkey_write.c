/*
 * sshkey_write.c: new keys and unencrypted openssh-key-v1 private key
 * files (OpenSSH PROTOCOL.key), as postern-keygen writes host keys.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sshkey_int.h"

#define PRIV_MAX (64 * 1024)
#define PRIV_BLOCK 8 /* cipher "none" */
#define LINE_LEN 70  /* base64 characters per line, as ssh-keygen */
#define MARK_BEGIN SSHKEY_V1_BEGIN "\n"
#define MARK_END SSHKEY_V1_END "\n"

int
sshkey_generate(enum sshkey_type type, unsigned bits, struct sshkey **keyp)
{
	EVP_PKEY *pkey = NULL;
	const char *curve;
	int r;

	*keyp = NULL;
	switch (type) {
	case KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case KEY_ECDSA:
		curve = bits == 256 ? "P-256"
		    : bits == 384   ? "P-384"
		    : bits == 521   ? "P-521"
		                    : NULL;
		if (curve == NULL)
			return ERR_KEY_TYPE;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
		break;
	case KEY_RSA:
		if (bits < 2048 || bits > 16384)
			return ERR_KEY_TYPE;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		return ERR_KEY_TYPE;
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	r = sshkey_from_evp(pkey, keyp);
	EVP_PKEY_free(pkey);
	return r;
}

/* A BIGNUM parameter of the key as an mpint. */
static int
put_bn_param(struct buf *b, EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t *tmp = NULL;
	size_t len;
	int r = ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return ERR_CRYPTO;
	len = (size_t)BN_num_bytes(bn);
	if ((tmp = malloc(len == 0 ? 1 : len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	BN_bn2bin(bn, tmp);
	r = buf_put_mpint_bytes(b, tmp, len);
out:
	if (tmp != NULL)
		freezero(tmp, len == 0 ? 1 : len);
	BN_clear_free(bn);
	return r;
}

/* The key's private fields as openssh-key-v1 lists them. */
static int
put_private_fields(struct buf *b, const struct sshkey *key)
{
	EVP_PKEY *pkey = sshkey_evp(key);
	uint8_t pk[32], sk[64], q[1 + 2 * 66];
	const char *name = sshkey_type_name(key);
	size_t len;
	int r = ERR_CRYPTO;

	switch (sshkey_type(key)) {
	case KEY_ED25519:
		/* sk is the seed followed by the public key. */
		len = 32;
		if (EVP_PKEY_get_raw_private_key(pkey, sk, &len) != 1 ||
		    len != 32)
			break;
		len = 32;
		if (EVP_PKEY_get_raw_public_key(pkey, pk, &len) != 1 ||
		    len != 32)
			break;
		memcpy(sk + 32, pk, 32);
		if ((r = buf_put_string(b, pk, 32)) == 0)
			r = buf_put_string(b, sk, 64);
		break;
	case KEY_ECDSA:
		if (EVP_PKEY_get_octet_string_param(pkey,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, sizeof(q),
		        &len) != 1)
			break;
		/* "ecdsa-sha2-nistp256" -> "nistp256" */
		if ((r = buf_put_cstring(b, name + strlen("ecdsa-sha2-"))) ==
		        0 &&
		    (r = buf_put_string(b, q, len)) == 0)
			r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_PRIV_KEY);
		break;
	case KEY_RSA:
		if ((r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_RSA_N)) != 0 ||
		    (r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_RSA_E)) != 0 ||
		    (r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_RSA_D)) != 0 ||
		    (r = put_bn_param(
		         b, pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)) != 0 ||
		    (r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_RSA_FACTOR1)) !=
		        0)
			break;
		r = put_bn_param(b, pkey, OSSL_PKEY_PARAM_RSA_FACTOR2);
		break;
	default:
		r = ERR_KEY_TYPE;
		break;
	}
	wipe(sk, sizeof(sk));
	ERR_clear_error();
	return r;
}

int
sshkey_private_fields(const struct sshkey *key, struct buf *out)
{
	if (!sshkey_is_private(key))
		return ERR_KEY_TYPE;
	return put_private_fields(out, key);
}

int
sshkey_write_private(
    const struct sshkey *key, const char *comment, struct buf *out)
{
	struct buf *priv = NULL, *bin = NULL, *pub = NULL;
	char *b64 = NULL;
	uint32_t check;
	size_t i, n, b64max;
	uint8_t pad;
	int r;

	if (!sshkey_is_private(key))
		return ERR_KEY_TYPE;
	if ((priv = buf_new_secret(PRIV_MAX)) == NULL ||
	    (bin = buf_new_secret(2 * PRIV_MAX)) == NULL ||
	    (pub = buf_new(PRIV_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	random_bytes(&check, sizeof(check));
	if ((r = buf_put_u32(priv, check)) != 0 ||
	    (r = buf_put_u32(priv, check)) != 0 ||
	    (r = buf_put_cstring(priv, sshkey_type_name(key))) != 0 ||
	    (r = put_private_fields(priv, key)) != 0 ||
	    (r = buf_put_cstring(priv, comment)) != 0)
		goto out;
	for (pad = 1; buf_len(priv) % PRIV_BLOCK != 0; pad++)
		if ((r = buf_put_u8(priv, pad)) != 0)
			goto out;
	/* PROTOCOL.key: magic, cipher, kdf, kdf options, keys. */
	if ((r = buf_put(bin, "openssh-key-v1", 15)) != 0 ||
	    (r = buf_put_cstring(bin, "none")) != 0 ||
	    (r = buf_put_cstring(bin, "none")) != 0 ||
	    (r = buf_put_string(bin, "", 0)) != 0 ||
	    (r = buf_put_u32(bin, 1)) != 0 ||
	    (r = sshkey_to_blob(key, pub)) != 0 ||
	    (r = buf_put_stringb(bin, pub)) != 0 ||
	    (r = buf_put_stringb(bin, priv)) != 0)
		goto out;
	b64max = (buf_len(bin) + 2) / 3 * 4 + 1;
	if ((b64 = malloc(b64max)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = base64_encode(buf_ptr(bin), buf_len(bin), b64, b64max)) != 0)
		goto out;
	if ((r = buf_put(out, MARK_BEGIN, strlen(MARK_BEGIN))) != 0)
		goto out;
	n = strlen(b64);
	for (i = 0; i < n; i += LINE_LEN)
		if ((r = buf_put(out, b64 + i,
		         n - i < LINE_LEN ? n - i : LINE_LEN)) != 0 ||
		    (r = buf_put_u8(out, '\n')) != 0)
			goto out;
	r = buf_put(out, MARK_END, strlen(MARK_END));
out:
	if (b64 != NULL)
		freezero(b64, b64max);
	buf_free(priv);
	buf_free(bin);
	buf_free(pub);
	return r;
}
