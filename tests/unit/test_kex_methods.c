/*
 * test_kex_methods.c: the classic exchanges (ecdh-sha2-nistp*, RFC 5656;
 * diffie-hellman-group14/16/18, RFC 4253 s8 + RFC 8268) checked by
 * playing the client with OpenSSL: generate the client's key, hand its
 * public value to kex_server_compute, derive K from the server's value on
 * the client side and compare the encodings. Also bad client values.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "t.h"
#include "transport_int.h"

struct method {
	const char *name;
	const char *type;  /* "EC" or "DH" */
	const char *group; /* OpenSSL group name */
	int hash_alg;
	size_t len; /* EC: point length; DH: bytes of p */
};

static const struct method methods[] = {
    {"ecdh-sha2-nistp256", "EC", "P-256", DIGEST_SHA256, 65},
    {"ecdh-sha2-nistp384", "EC", "P-384", DIGEST_SHA384, 97},
    {"ecdh-sha2-nistp521", "EC", "P-521", DIGEST_SHA512, 133},
    {"diffie-hellman-group14-sha256", "DH", "modp_2048", DIGEST_SHA256, 256},
    {"diffie-hellman-group16-sha512", "DH", "modp_4096", DIGEST_SHA512, 512},
    {"diffie-hellman-group18-sha512", "DH", "modp_8192", DIGEST_SHA512, 1024},
};

static EVP_PKEY *
client_key(const struct method *m)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, m->type, NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)m->group, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
	    EVP_PKEY_generate(ctx, &pkey) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* The client's public value as kex_server_compute takes it. */
static size_t
client_value(const struct method *m, EVP_PKEY *k, uint8_t *out, size_t max)
{
	BIGNUM *bn = NULL;
	size_t len = 0;

	if (strcmp(m->type, "EC") == 0) {
		if (EVP_PKEY_get_octet_string_param(k,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, max,
		        &len) != 1)
			return 0;
		return len;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &bn) != 1)
		return 0;
	len = (size_t)BN_num_bytes(bn);
	if (len <= max)
		BN_bn2bin(bn, out);
	BN_free(bn);
	return len <= max ? len : 0;
}

static EVP_PKEY *
server_public(const struct method *m, const uint8_t *v, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL;

	OSSL_PARAM_BLD_push_utf8_string(
	    bld, OSSL_PKEY_PARAM_GROUP_NAME, m->group, 0);
	if (strcmp(m->type, "EC") == 0) {
		OSSL_PARAM_BLD_push_octet_string(
		    bld, OSSL_PKEY_PARAM_PUB_KEY, v, len);
	} else {
		bn = BN_bin2bn(v, (int)len, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, m->type, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	return pkey;
}

static int
check_method(const struct method *m)
{
	uint8_t qc[2048], shared[2048];
	struct buf *qs = buf_new(4096), *kbuf = buf_new(4096), *want;
	EVP_PKEY *mine = client_key(m), *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t qclen, slen = sizeof(shared);
	int alg = 0, ok = 0;

	want = buf_new(4096);
	if (mine == NULL || qs == NULL || kbuf == NULL || want == NULL ||
	    (qclen = client_value(m, mine, qc, sizeof(qc))) == 0)
		goto out;
	if (kex_server_compute(m->name, qc, qclen, qs, kbuf, &alg) != 0 ||
	    alg != m->hash_alg)
		goto out;
	/* Q_S is a whole uncompressed point; f is below p. */
	if (strcmp(m->type, "EC") == 0
	        ? buf_len(qs) != m->len || buf_ptr(qs)[0] != 0x04
	        : buf_len(qs) > m->len)
		goto out;
	if ((theirs = server_public(m, buf_ptr(qs), buf_len(qs))) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, theirs) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &slen) != 1)
		goto out;
	if (buf_put_mpint_bytes(want, shared, slen) != 0)
		goto out;
	ok = buf_len(want) == buf_len(kbuf) &&
	    memcmp(buf_ptr(want), buf_ptr(kbuf), buf_len(kbuf)) == 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	buf_free(want);
	buf_free(qs);
	buf_free(kbuf);
	return ok;
}

/*
 * The uncompressed P-256 point (65 bytes into out) whose x is the first
 * on the curve from x0 on (x0 in 32 big-endian bytes); 0 if none soon.
 */
static int
p256_point_from(const uint8_t x0[32], uint8_t out[65])
{
	uint8_t comp[33];
	BIGNUM *x = BN_bin2bn(x0, 32, NULL), *bx = NULL, *by = NULL;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey;
	int i, ok = 0;

	for (i = 0; x != NULL && i < 100 && !ok; i++, BN_add_word(x, 1)) {
		comp[0] = 0x02;
		BN_bn2binpad(x, comp + 1, 32);
		bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM_BLD_push_utf8_string(
		    bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
		OSSL_PARAM_BLD_push_octet_string(
		    bld, OSSL_PKEY_PARAM_PUB_KEY, comp, sizeof(comp));
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		pkey = NULL;
		if (params != NULL && ctx != NULL &&
		    EVP_PKEY_fromdata_init(ctx) == 1 &&
		    EVP_PKEY_fromdata(
		        ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
		    EVP_PKEY_get_bn_param(
		        pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
		    EVP_PKEY_get_bn_param(
		        pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1) {
			out[0] = 0x04;
			ok = BN_bn2binpad(bx, out + 1, 32) == 32 &&
			    BN_bn2binpad(by, out + 33, 32) == 32;
		}
		BN_free(bx);
		BN_free(by);
		bx = by = NULL;
		EVP_PKEY_free(pkey);
		EVP_PKEY_CTX_free(ctx);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
	}
	BN_free(x);
	return ok;
}

/* kex_server_compute refuses the client value (and writes no K). */
static int
refused(const char *name, const uint8_t *qc, size_t qclen)
{
	struct buf *qs = buf_new(4096), *kbuf = buf_new(4096);
	int alg, r = kex_server_compute(name, qc, qclen, qs, kbuf, &alg);
	int ok = r != 0 && buf_len(kbuf) == 0;

	buf_free(qs);
	buf_free(kbuf);
	return ok;
}

static void
bad_values(void)
{
	const struct method *p256 = &methods[0], *g14 = &methods[3];
	uint8_t v[2048];
	EVP_PKEY *k;
	size_t len;
	BIGNUM *p = NULL, *e;

	/* ECDH: not on the curve, compressed, wrong length, infinity. */
	k = client_key(p256);
	len = client_value(p256, k, v, sizeof(v));
	EVP_PKEY_free(k);
	v[len - 1] ^= 1;
	T_CHECK("nistp256: point off the curve refused",
	    refused(p256->name, v, len));
	v[len - 1] ^= 1;
	v[0] = 0x02;
	T_CHECK(
	    "nistp256: compressed point refused", refused(p256->name, v, 33));
	v[0] = 0x04;
	T_CHECK("nistp256: truncated point refused",
	    refused(p256->name, v, len - 1));
	T_CHECK(
	    "nistp256: P-384-sized point refused", refused(p256->name, v, 97));
	memset(v, 0, sizeof(v));
	T_CHECK(
	    "nistp256: point at infinity refused", refused(p256->name, v, 1));
	v[0] = 0x04;
	T_CHECK("nistp256: all-zero point refused", refused(p256->name, v, 65));

	/*
	 * As sshd: a point on the curve whose x is no longer than half the
	 * order (128 bits), or not below order - 1.
	 */
	memset(v, 0, 32);
	v[31] = 5;
	T_CHECK(
	    "nistp256: point with a 3-bit x found", p256_point_from(v, v + 64));
	T_CHECK("nistp256: point with a short x refused",
	    refused(p256->name, v + 64, 65));
	/* n - 1 for P-256 */
	t_hex(
	    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550",
	    v, 32);
	T_CHECK("nistp256: point with x >= n - 1 found",
	    p256_point_from(v, v + 64));
	T_CHECK("nistp256: point with x >= n - 1 refused",
	    refused(p256->name, v + 64, 65));
	memset(v, 0, 32);
	v[15] = 1; /* 2^128 + i: 129 bits, just long enough */
	T_CHECK("nistp256: point with a 129-bit x found",
	    p256_point_from(v, v + 64));
	T_CHECK("nistp256: point with a 129-bit x accepted",
	    !refused(p256->name, v + 64, 65));

	/* DH: e must lie in [2, p-2]. */
	T_CHECK("group14: e = 0 refused", refused(g14->name, v, 0));
	v[0] = 1;
	T_CHECK("group14: e = 1 refused", refused(g14->name, v, 1));
	k = client_key(g14);
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_FFC_P, &p) == 1) {
		BN_sub_word(p, 1);
		BN_bn2bin(p, v);
		T_CHECK("group14: e = p-1 refused", refused(g14->name, v, 256));
		BN_add_word(p, 1);
		BN_bn2bin(p, v);
		T_CHECK("group14: e = p refused", refused(g14->name, v, 256));
		memset(v, 0xff, 257);
		T_CHECK("group14: e > p refused", refused(g14->name, v, 257));
		/*
		 * As sshd, fewer than 4 bits set is refused. Squares, so
		 * that OpenSSL's own subgroup check would take them.
		 */
		v[0] = 4;
		T_CHECK(
		    "group14: e = 4 (1 bit) refused", refused(g14->name, v, 1));
		v[0] = 49;
		T_CHECK("group14: e = 49 (3 bits) refused",
		    refused(g14->name, v, 1));
		v[0] = 225;
		T_CHECK("group14: e = 225 (4 bits) accepted",
		    !refused(g14->name, v, 1));
		e = BN_new();
		T_CHECK("dh check (GEX): 2^2047 (1 bit) refused",
		    e != NULL && BN_set_bit(e, 2047) == 1 &&
		        kex_dh_pub_check(e, p) == ERR_FORMAT);
		T_CHECK("dh check (GEX): 2^2047 + 7 (4 bits) accepted",
		    e != NULL && BN_add_word(e, 7) == 1 &&
		        kex_dh_pub_check(e, p) == 0);
		BN_free(e);
	} else
		T_CHECK("group14: read p", 0);
	BN_free(p);
	EVP_PKEY_free(k);
}

int
main(void)
{
	char name[128];
	size_t i;
	int n;

	crypto_init();
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		for (n = 0; n < 3; n++) {
			snprintf(name, sizeof(name),
			    "%s: client and server agree on K (run %d)",
			    methods[i].name, n + 1);
			T_CHECK(name, check_method(&methods[i]));
		}
	}
	bad_values();
	return T_DONE();
}
