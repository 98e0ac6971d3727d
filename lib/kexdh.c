/*
 * kexdh.c: the server's half of the classic exchanges through OpenSSL:
 * ECDH over the NIST curves (RFC 5656 s4) and finite-field Diffie-Hellman
 * over the RFC 3526 MODP groups (RFC 4253 s8, RFC 8268).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport_int.h"

/* Largest MODP group we use: 8192 bits. */
#define DH_MAX_BYTES (8192 / 8)
/* Largest NIST field: P-521, 66 bytes per coordinate. */
#define EC_MAX_FIELD 66

/* A fresh key pair on a named group ("P-256", "modp_2048", ...). */
static EVP_PKEY *
keygen_named(const char *type, const char *group)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[2];

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
	    EVP_PKEY_generate(ctx, &pkey) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* A public key on a named group from its encoded value. */
static EVP_PKEY *
import_public(const char *type, const char *group, const uint8_t *pub,
    size_t publen, const BIGNUM *pubbn)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1)
		goto out;
	if (pubbn != NULL ? OSSL_PARAM_BLD_push_BN(
	                        bld, OSSL_PKEY_PARAM_PUB_KEY, pubbn) != 1
	                  : OSSL_PARAM_BLD_push_octet_string(
	                        bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) != 1)
		goto out;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/*
 * Shared secret of priv and peer into out (at most *outlen bytes);
 * validate: OpenSSL checks the peer again (an EC point on the curve).
 */
int
kex_evp_derive(
    EVP_PKEY *priv, EVP_PKEY *peer, int validate, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx;
	size_t need = 0;
	int r = ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL)
		return ERR_CRYPTO;
	if (EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, validate) != 1 ||
	    EVP_PKEY_derive(ctx, NULL, &need) != 1 || need > *outlen ||
	    EVP_PKEY_derive(ctx, out, outlen) != 1)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
kex_dh_pub_check(const BIGNUM *e, const BIGNUM *p)
{
	BIGNUM *pm1 = NULL;
	int i, bits = 0, r = ERR_FORMAT;

	/* RFC 4253 s8: 1 < e < p-1. */
	if (BN_cmp(e, BN_value_one()) <= 0) {
		error("invalid public DH value: <= 1");
		return ERR_FORMAT;
	}
	if ((pm1 = BN_dup(p)) == NULL || BN_sub_word(pm1, 1) != 1) {
		r = ERR_CRYPTO;
		goto out;
	}
	if (BN_cmp(e, pm1) >= 0) {
		error("invalid public DH value: >= p-1");
		goto out;
	}
	/* As sshd: with g = 2, a value of few bits has an easy logarithm. */
	for (i = 0; i < BN_num_bits(e); i++)
		bits += BN_is_bit_set(e, i);
	if (bits < 4) {
		error("invalid public DH value (%d/%d)", bits, BN_num_bits(p));
		goto out;
	}
	r = 0;
out:
	BN_free(pm1);
	return r;
}

/*
 * As sshd (RFC 5656 s3.2.2.1 and then some): each coordinate of the
 * peer's point, already known to be on the curve, is longer than half
 * the group order and below order - 1.
 */
static int
ec_coords_check(const char *curve, const uint8_t *qc, size_t field_len)
{
	EC_GROUP *group = NULL;
	const BIGNUM *order;
	BIGNUM *x = NULL, *y = NULL, *om1 = NULL;
	int nid, half, r = ERR_CRYPTO;

	if ((nid = EC_curve_nist2nid(curve)) == NID_undef ||
	    (group = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (order = EC_GROUP_get0_order(group)) == NULL ||
	    (x = BN_bin2bn(qc + 1, (int)field_len, NULL)) == NULL ||
	    (y = BN_bin2bn(qc + 1 + field_len, (int)field_len, NULL)) == NULL ||
	    (om1 = BN_dup(order)) == NULL || BN_sub_word(om1, 1) != 1)
		goto out;
	half = BN_num_bits(order) / 2;
	r = ERR_FORMAT;
	if (BN_num_bits(x) <= half || BN_num_bits(y) <= half ||
	    BN_cmp(x, om1) >= 0 || BN_cmp(y, om1) >= 0)
		goto out;
	r = 0;
out:
	BN_free(x);
	BN_free(y);
	BN_free(om1);
	EC_GROUP_free(group);
	return r;
}

int
kex_ecdh_nist_server(const char *curve, size_t field_len, const uint8_t *qc,
    size_t qclen, struct buf *qs, struct buf *kbuf)
{
	EVP_PKEY *mine = NULL, *peer = NULL;
	EVP_PKEY_CTX *check = NULL;
	uint8_t pub[1 + 2 * EC_MAX_FIELD], shared[EC_MAX_FIELD];
	size_t publen = 0, slen = sizeof(shared);
	int r = ERR_FORMAT;

	/* RFC 5656 s4: Q_C is an uncompressed point (SEC1 2.3.3). */
	if (field_len > EC_MAX_FIELD || qclen != 1 + 2 * field_len ||
	    qc[0] != 0x04)
		return ERR_FORMAT;
	if ((peer = import_public("EC", curve, qc, qclen, NULL)) == NULL ||
	    (check = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL)) == NULL ||
	    EVP_PKEY_public_check(check) != 1 ||
	    (r = ec_coords_check(curve, qc, field_len)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((mine = keygen_named("EC", curve)) == NULL ||
	    EVP_PKEY_get_octet_string_param(mine,
	        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub),
	        &publen) != 1 ||
	    publen != qclen || pub[0] != 0x04)
		goto out;
	if ((r = kex_evp_derive(mine, peer, 1, shared, &slen)) != 0)
		goto out;
	if (slen != field_len) {
		r = ERR_CRYPTO;
		goto out;
	}
	/* K is the x-coordinate of the shared point, as an mpint. */
	if ((r = buf_put(qs, pub, publen)) != 0 ||
	    (r = buf_put_mpint_bytes(kbuf, shared, slen)) != 0)
		goto out;
out:
	if (r != 0)
		ERR_clear_error();
	wipe(shared, sizeof(shared));
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return r;
}

int
kex_dh_modp_server(const char *group, const uint8_t *e, size_t elen,
    struct buf *qs, struct buf *kbuf)
{
	EVP_PKEY *mine = NULL, *peer = NULL;
	BIGNUM *p = NULL, *ebn = NULL, *f = NULL;
	uint8_t *shared = NULL, *fp;
	size_t slen = DH_MAX_BYTES;
	int r = ERR_CRYPTO;

	if ((shared = malloc(DH_MAX_BYTES)) == NULL)
		return ERR_ALLOC;
	if ((mine = keygen_named("DH", group)) == NULL ||
	    EVP_PKEY_get_bn_param(mine, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    EVP_PKEY_get_bn_param(mine, OSSL_PKEY_PARAM_PUB_KEY, &f) != 1 ||
	    (ebn = BN_bin2bn(e, (int)elen, NULL)) == NULL)
		goto out;
	if (elen > DH_MAX_BYTES) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = kex_dh_pub_check(ebn, p)) != 0)
		goto out;
	if ((peer = import_public("DH", group, NULL, 0, ebn)) == NULL) {
		r = ERR_FORMAT;
		goto out;
	}
	/*
	 * e was checked as sshd checks it (kex_dh_pub_check); OpenSSL's own
	 * check of a named group's value adds e^q mod p, a second full
	 * exponentiation that costs more than the exchange itself (81 ms
	 * against 5 for modp_8192), paid by the server alone for a value a
	 * client can send again and again before authentication. Outside the
	 * subgroup, e reveals at most the parity of our one-use exponent.
	 */
	if ((r = kex_evp_derive(mine, peer, 0, shared, &slen)) != 0)
		goto out;
	/* f and K as big-endian magnitudes; the caller writes f as mpint. */
	if ((r = buf_reserve(qs, (size_t)BN_num_bytes(f), &fp)) != 0)
		goto out;
	BN_bn2bin(f, fp);
	if ((r = buf_put_mpint_bytes(kbuf, shared, slen)) != 0)
		goto out;
out:
	if (r != 0)
		ERR_clear_error();
	wipe(shared, DH_MAX_BYTES);
	free(shared);
	BN_free(p);
	BN_clear_free(ebn);
	BN_free(f);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return r;
}
