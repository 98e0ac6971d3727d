/*
 * sshkey.c: SSH public keys and signatures (ssh-ed25519, ecdsa-sha2-nistp*,
 * ssh-rsa with rsa-sha2-*) over OpenSSL EVP_PKEY, and openssh-key-v1 files.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "sshkey.h"
#include "sshkey_int.h"

#define ED25519_PK_LEN 32
#define ED25519_SEED_LEN 32
#define ED25519_SK_LEN 64 /* seed || public key, as OpenSSH stores it */
#define ED25519_SIG_LEN 64
#define RSA_MIN_BITS 1024  /* OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE */
#define RSA_MAX_BITS 16384 /* OpenSSH's SSHBUF_MAX_BIGNUM * 8 */
#define KEY_BLOB_MAX 16384 /* OpenSSH's SSH_MAX_PUBKEY_BYTES */
#define SIG_BLOB_MAX 16384
#define KEY_NAME_MAX 64
#define PRIVKEY_FILE_MAX (1024 * 1024)
#define PRIVKEY_BLOCK 8 /* block size of cipher "none" */

#define MARK_BEGIN SSHKEY_V1_BEGIN
#define MARK_END SSHKEY_V1_END
#define KEY_MAGIC "openssh-key-v1" /* followed by its NUL */
#define KEY_MAGIC_LEN (sizeof(KEY_MAGIC))
/* sshd's box around its warning: 59 '@', the width of the line inside. */
#define UNPROTECTED_RULE                                                       \
	"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"

struct ec_curve {
	const char *key_name; /* blob and signature type name */
	const char *ssh_name; /* curve identifier inside the blob */
	const char *group;    /* OpenSSL group name */
	int nid;
	unsigned bits;
	size_t coord_len; /* bytes per field element */
	const EVP_MD *(*md)(void);
};

static const struct ec_curve ec_curves[] = {
    {"ecdsa-sha2-nistp256", "nistp256", "prime256v1", NID_X9_62_prime256v1, 256,
        32, EVP_sha256},
    {"ecdsa-sha2-nistp384", "nistp384", "secp384r1", NID_secp384r1, 384, 48,
        EVP_sha384},
    {"ecdsa-sha2-nistp521", "nistp521", "secp521r1", NID_secp521r1, 521, 66,
        EVP_sha512},
};
#define N_CURVES (sizeof(ec_curves) / sizeof(ec_curves[0]))

struct rsa_alg {
	const char *name;
	const EVP_MD *(*md)(void);
	int sha1;
};

static const struct rsa_alg rsa_algs[] = {
    {"rsa-sha2-256", EVP_sha256, 0},
    {"rsa-sha2-512", EVP_sha512, 0},
    {"ssh-rsa", EVP_sha1, 1},
};
#define N_RSA_ALGS (sizeof(rsa_algs) / sizeof(rsa_algs[0]))

struct sshkey {
	enum sshkey_type type;
	int ecdsa_nid;
	const struct ec_curve *curve; /* KEY_ECDSA only */
	unsigned bits;
	int is_private;
	EVP_PKEY *pkey;
	struct buf *blob; /* canonical public key blob */
};

/* Big-endian byte strings of an RSA key, as read from the wire. */
struct rsa_parts {
	const uint8_t *n, *e, *d, *iqmp, *p, *q;
	size_t n_len, e_len, d_len, iqmp_len, p_len, q_len;
};

static const struct ec_curve *
curve_by_key_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_CURVES; i++)
		if (strcmp(name, ec_curves[i].key_name) == 0)
			return &ec_curves[i];
	return NULL;
}

static const struct rsa_alg *
rsa_alg_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_RSA_ALGS; i++)
		if (strcmp(name, rsa_algs[i].name) == 0)
			return &rsa_algs[i];
	return NULL;
}

/* Map a key type name to a type (and curve); KEY_UNSPEC if unknown. */
static enum sshkey_type
type_from_name(const char *name, const struct ec_curve **curvep)
{
	*curvep = NULL;
	if (strcmp(name, "ssh-ed25519") == 0)
		return KEY_ED25519;
	if (strcmp(name, "ssh-rsa") == 0)
		return KEY_RSA;
	if ((*curvep = curve_by_key_name(name)) != NULL)
		return KEY_ECDSA;
	return KEY_UNSPEC;
}

/* A private copy of bytes that will hold secrets. */
static struct buf *
secret_from(const void *data, size_t len)
{
	struct buf *b;

	if ((b = buf_new_secret(len == 0 ? 1 : len)) == NULL)
		return NULL;
	if (buf_put(b, data, len) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

static struct sshkey *
key_new(enum sshkey_type type)
{
	struct sshkey *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->blob = buf_new(KEY_BLOB_MAX)) == NULL) {
		free(k);
		return NULL;
	}
	k->type = type;
	return k;
}

void
sshkey_free(struct sshkey *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	buf_free(key->blob);
	freezero(key, sizeof(*key));
}

/* Build an EVP_PKEY of the named type from an OSSL_PARAM builder. */
static int
pkey_fromdata(
    const char *type, OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **pkeyp)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	int r = ERR_CRYPTO;

	*pkeyp = NULL;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pkeyp, selection, params) != 1) {
		r = ERR_BAD_KEY;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* secure part is cleansed on free */
	return r;
}

/* Run OpenSSL's public (or full, when private) key validation. */
static int
pkey_check(EVP_PKEY *pkey, int full)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return ERR_CRYPTO;
	ok = full ? EVP_PKEY_check(ctx) : EVP_PKEY_public_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	return ok == 1 ? 0 : ERR_BAD_KEY;
}

static int
ed25519_new(
    const uint8_t *pk, size_t pk_len, const uint8_t *seed, struct sshkey **keyp)
{
	struct sshkey *k = NULL;
	uint8_t derived[ED25519_PK_LEN];
	size_t dlen = sizeof(derived);
	int r;

	*keyp = NULL;
	if (pk_len != ED25519_PK_LEN)
		return ERR_BAD_KEY;
	if ((k = key_new(KEY_ED25519)) == NULL)
		return ERR_ALLOC;
	k->bits = 256;
	if (seed != NULL) {
		k->pkey = EVP_PKEY_new_raw_private_key(
		    EVP_PKEY_ED25519, NULL, seed, ED25519_SEED_LEN);
		k->is_private = 1;
	} else {
		k->pkey = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, pk, ED25519_PK_LEN);
	}
	if (k->pkey == NULL) {
		r = ERR_BAD_KEY;
		goto out;
	}
	/* The stored public key must be the one the seed derives. */
	if (seed != NULL &&
	    (EVP_PKEY_get_raw_public_key(k->pkey, derived, &dlen) != 1 ||
	        dlen != ED25519_PK_LEN ||
	        memcmp(derived, pk, ED25519_PK_LEN) != 0)) {
		r = ERR_BAD_KEY;
		goto out;
	}
	if ((r = buf_put_cstring(k->blob, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(k->blob, pk, ED25519_PK_LEN)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
out:
	sshkey_free(k);
	return r;
}

static int
ecdsa_new(const struct ec_curve *c, const uint8_t *q, size_t q_len,
    const uint8_t *d, size_t d_len, struct sshkey **keyp)
{
	struct sshkey *k = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *priv = NULL;
	uint8_t form;
	struct buf *qb = NULL;
	int r;

	*keyp = NULL;
	/* Uncompressed points only: 0x04 || X || Y (RFC 5656 s3.1, SEC1). */
	if (q_len != 1 + 2 * c->coord_len)
		return ERR_BAD_KEY;
	if ((qb = buf_from(q, q_len)) == NULL)
		return ERR_ALLOC;
	r = buf_get_u8(qb, &form);
	buf_free(qb);
	if (r != 0 || form != 0x04)
		return ERR_BAD_KEY;
	if (d != NULL && (d_len == 0 || d_len > c->coord_len))
		return ERR_BAD_KEY;

	if ((k = key_new(KEY_ECDSA)) == NULL)
		return ERR_ALLOC;
	k->curve = c;
	k->ecdsa_nid = c->nid;
	k->bits = c->bits;
	r = ERR_CRYPTO;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (OSSL_PARAM_BLD_push_utf8_string(
	        bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(
	        bld, OSSL_PKEY_PARAM_PUB_KEY, q, q_len) != 1)
		goto out;
	if (d != NULL) {
		if ((priv = BN_secure_new()) == NULL ||
		    BN_bin2bn(d, (int)d_len, priv) == NULL ||
		    OSSL_PARAM_BLD_push_BN(
		        bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
			goto out;
	}
	/* Import decodes the point, which fails for one not on the curve. */
	if ((r = pkey_fromdata("EC", bld,
	         d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
	         &k->pkey)) != 0)
		goto out;
	/* Then check explicitly: on the curve, not infinity, right order. */
	if ((r = pkey_check(k->pkey, d != NULL)) != 0)
		goto out;
	k->is_private = d != NULL;
	if ((r = buf_put_cstring(k->blob, c->key_name)) != 0 ||
	    (r = buf_put_cstring(k->blob, c->ssh_name)) != 0 ||
	    (r = buf_put_string(k->blob, q, q_len)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
out:
	BN_clear_free(priv);
	OSSL_PARAM_BLD_free(bld);
	sshkey_free(k);
	return r;
}

/* bn_secret: a constant-time BIGNUM from big-endian secret bytes. */
static BIGNUM *
bn_secret(const uint8_t *p, size_t len)
{
	BIGNUM *bn;

	if ((bn = BN_secure_new()) == NULL)
		return NULL;
	if (BN_bin2bn(p, (int)len, bn) == NULL) {
		BN_clear_free(bn);
		return NULL;
	}
	BN_set_flags(bn, BN_FLG_CONSTTIME);
	return bn;
}

/* Private RSA numbers; they must outlive the builder that points at them. */
struct rsa_private {
	BIGNUM *d, *p, *q, *iqmp, *dmp1, *dmq1;
};

static void
rsa_private_clear(struct rsa_private *rk)
{
	BN_clear_free(rk->d);
	BN_clear_free(rk->p);
	BN_clear_free(rk->q);
	BN_clear_free(rk->iqmp);
	BN_clear_free(rk->dmp1);
	BN_clear_free(rk->dmq1);
	memset(rk, 0, sizeof(*rk));
}

/* Add the private RSA parameters, deriving the CRT exponents. */
static int
rsa_push_private(OSSL_PARAM_BLD *bld, const struct rsa_parts *rp,
    const BIGNUM *n, struct rsa_private *rk)
{
	BIGNUM *tmp = NULL, *pq = NULL;
	BN_CTX *ctx = NULL;
	int r = ERR_CRYPTO;

	if (rp->d_len == 0 || rp->p_len == 0 || rp->q_len == 0 ||
	    rp->iqmp_len == 0)
		return ERR_BAD_KEY;
	if ((ctx = BN_CTX_secure_new()) == NULL ||
	    (rk->d = bn_secret(rp->d, rp->d_len)) == NULL ||
	    (rk->p = bn_secret(rp->p, rp->p_len)) == NULL ||
	    (rk->q = bn_secret(rp->q, rp->q_len)) == NULL ||
	    (rk->iqmp = bn_secret(rp->iqmp, rp->iqmp_len)) == NULL ||
	    (rk->dmp1 = BN_secure_new()) == NULL ||
	    (rk->dmq1 = BN_secure_new()) == NULL ||
	    (tmp = BN_secure_new()) == NULL || (pq = BN_secure_new()) == NULL)
		goto out;
	BN_set_flags(tmp, BN_FLG_CONSTTIME);
	/* The factors must multiply to the modulus. */
	if (BN_mul(pq, rk->p, rk->q, ctx) != 1)
		goto out;
	if (BN_cmp(pq, n) != 0) {
		r = ERR_BAD_KEY;
		goto out;
	}
	if (BN_sub(tmp, rk->p, BN_value_one()) != 1 ||
	    BN_mod(rk->dmp1, rk->d, tmp, ctx) != 1 ||
	    BN_sub(tmp, rk->q, BN_value_one()) != 1 ||
	    BN_mod(rk->dmq1, rk->d, tmp, ctx) != 1)
		goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, rk->d) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, rk->p) !=
	        1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, rk->q) !=
	        1 ||
	    OSSL_PARAM_BLD_push_BN(
	        bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, rk->dmp1) != 1 ||
	    OSSL_PARAM_BLD_push_BN(
	        bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, rk->dmq1) != 1 ||
	    OSSL_PARAM_BLD_push_BN(
	        bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, rk->iqmp) != 1)
		goto out;
	r = 0;
out:
	BN_clear_free(tmp);
	BN_clear_free(pq);
	BN_CTX_free(ctx);
	return r;
}

static int
rsa_new(const struct rsa_parts *rp, int with_private, struct sshkey **keyp)
{
	struct sshkey *k = NULL;
	struct rsa_private rk;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = ERR_CRYPTO, bits;

	*keyp = NULL;
	memset(&rk, 0, sizeof(rk));
	if ((k = key_new(KEY_RSA)) == NULL)
		return ERR_ALLOC;
	if ((n = BN_bin2bn(rp->n, (int)rp->n_len, NULL)) == NULL ||
	    (e = BN_bin2bn(rp->e, (int)rp->e_len, NULL)) == NULL)
		goto out;
	bits = BN_num_bits(n);
	/* e must be odd and at least 3; the modulus within OpenSSH's range. */
	if (!BN_is_odd(e) || BN_num_bits(e) < 2 || bits < RSA_MIN_BITS ||
	    bits > RSA_MAX_BITS || BN_cmp(e, n) >= 0) {
		r = ERR_BAD_KEY;
		goto out;
	}
	k->bits = (unsigned)bits;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
		goto out;
	if (with_private && (r = rsa_push_private(bld, rp, n, &rk)) != 0)
		goto out;
	if ((r = pkey_fromdata("RSA", bld,
	         with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
	         &k->pkey)) != 0)
		goto out;
	k->is_private = with_private;
	if ((r = buf_put_cstring(k->blob, "ssh-rsa")) != 0 ||
	    (r = buf_put_mpint_bytes(k->blob, rp->e, rp->e_len)) != 0 ||
	    (r = buf_put_mpint_bytes(k->blob, rp->n, rp->n_len)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
out:
	OSSL_PARAM_BLD_free(bld);
	rsa_private_clear(&rk);
	BN_free(n);
	BN_free(e);
	sshkey_free(k);
	return r;
}

/* Parse the fields of a public key blob that follow its type name. */
static int
parse_public_fields(struct buf *b, enum sshkey_type type,
    const struct ec_curve *c, struct sshkey **keyp)
{
	struct rsa_parts rp;
	char curve[KEY_NAME_MAX];
	const uint8_t *p;
	size_t len;
	int r;

	switch (type) {
	case KEY_ED25519:
		if ((r = buf_get_string_direct(b, &p, &len)) != 0)
			return r;
		return ed25519_new(p, len, NULL, keyp);
	case KEY_ECDSA:
		if ((r = buf_get_cstring_fixed(b, curve, sizeof(curve))) != 0)
			return r;
		if (strcmp(curve, c->ssh_name) != 0)
			return ERR_BAD_KEY;
		if ((r = buf_get_string_direct(b, &p, &len)) != 0)
			return r;
		return ecdsa_new(c, p, len, NULL, 0, keyp);
	case KEY_RSA:
		memset(&rp, 0, sizeof(rp));
		if ((r = buf_get_mpint_direct(b, &rp.e, &rp.e_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &rp.n, &rp.n_len)) != 0)
			return r;
		return rsa_new(&rp, 0, keyp);
	default:
		return ERR_KEY_TYPE;
	}
}

int
sshkey_from_blob(const uint8_t *blob, size_t len, struct sshkey **keyp)
{
	struct sshkey *k = NULL;
	const struct ec_curve *c;
	enum sshkey_type type;
	char name[KEY_NAME_MAX];
	struct buf *b = NULL;
	int r;

	*keyp = NULL;
	if (len > KEY_BLOB_MAX)
		return ERR_TOO_BIG;
	if ((b = buf_from(blob, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_cstring_fixed(b, name, sizeof(name))) != 0)
		goto out;
	if ((type = type_from_name(name, &c)) == KEY_UNSPEC) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	if ((r = parse_public_fields(b, type, c, &k)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
out:
	ERR_clear_error();
	sshkey_free(k);
	buf_free(b);
	return r;
}

int
sshkey_to_blob(const struct sshkey *key, struct buf *out)
{
	return buf_put(out, buf_ptr(key->blob), buf_len(key->blob));
}

enum sshkey_type
sshkey_type(const struct sshkey *key)
{
	return key->type;
}

int
sshkey_equal_public(const struct sshkey *a, const struct sshkey *b)
{
	size_t len = buf_len(a->blob);

	if (a->type != b->type || len != buf_len(b->blob))
		return 0;
	return ct_eq(buf_ptr(a->blob), buf_ptr(b->blob), len);
}

const char *
sshkey_type_name(const struct sshkey *key)
{
	switch (key->type) {
	case KEY_ED25519:
		return "ssh-ed25519";
	case KEY_ECDSA:
		return key->curve->key_name;
	case KEY_RSA:
		return "ssh-rsa";
	default:
		return "unknown";
	}
}

const char *
sshkey_type_short(const struct sshkey *key)
{
	switch (key->type) {
	case KEY_ED25519:
		return "ED25519";
	case KEY_ECDSA:
		return "ECDSA";
	case KEY_RSA:
		return "RSA";
	default:
		return "unknown";
	}
}

unsigned
sshkey_bits(const struct sshkey *key)
{
	return key->bits;
}

int
sshkey_is_private(const struct sshkey *key)
{
	return key->is_private;
}

int
sshkey_sig_alg_ok(const struct sshkey *key, const char *alg, int allow_sha1)
{
	const struct rsa_alg *ra;

	if (alg == NULL)
		return 0;
	switch (key->type) {
	case KEY_ED25519:
		return strcmp(alg, "ssh-ed25519") == 0;
	case KEY_ECDSA:
		return strcmp(alg, key->curve->key_name) == 0;
	case KEY_RSA:
		if ((ra = rsa_alg_by_name(alg)) == NULL)
			return 0;
		return !ra->sha1 || allow_sha1;
	default:
		return 0;
	}
}

/* One-shot EVP verification; 0 for a good signature. */
static int
evp_verify(EVP_PKEY *pkey, const EVP_MD *md, int rsa_pkcs1, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int r = ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (rsa_pkcs1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, sig, siglen, data, datalen) == 1
	    ? 0
	    : ERR_SIGNATURE;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ECDSA: string(mpint r, mpint s) to DER ECDSA-Sig-Value, then verify. */
static int
verify_ecdsa(const struct sshkey *key, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen)
{
	struct buf *b = NULL;
	const uint8_t *rp, *sp;
	size_t rlen, slen;
	ECDSA_SIG *esig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;
	int derlen, r;

	if ((b = buf_from(sig, siglen)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_mpint_direct(b, &rp, &rlen)) != 0 ||
	    (r = buf_get_mpint_direct(b, &sp, &slen)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	r = ERR_SIGNATURE;
	if (rlen == 0 || slen == 0 || rlen > key->curve->coord_len ||
	    slen > key->curve->coord_len)
		goto out;
	r = ERR_CRYPTO;
	if ((esig = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rp, (int)rlen, NULL)) == NULL ||
	    (bs = BN_bin2bn(sp, (int)slen, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(esig, br, bs) != 1)
		goto out;
	br = bs = NULL; /* now owned by esig */
	if ((derlen = i2d_ECDSA_SIG(esig, &der)) <= 0)
		goto out;
	r = evp_verify(
	    key->pkey, key->curve->md(), 0, der, (size_t)derlen, data, datalen);
out:
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(esig);
	buf_free(b);
	return r;
}

/* RSA PKCS#1 v1.5; a short signature is left-padded as OpenSSH does. */
static int
verify_rsa(const struct sshkey *key, const struct rsa_alg *ra,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen)
{
	struct buf *padded = NULL;
	uint8_t *zeros;
	size_t modlen;
	int r;

	modlen = (size_t)EVP_PKEY_get_size(key->pkey);
	if (siglen == 0 || siglen > modlen)
		return ERR_SIGNATURE;
	if ((padded = buf_new(modlen)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_reserve(padded, modlen - siglen, &zeros)) != 0)
		goto out;
	if (modlen > siglen)
		memset(zeros, 0, modlen - siglen);
	if ((r = buf_put(padded, sig, siglen)) != 0)
		goto out;
	r = evp_verify(
	    key->pkey, ra->md(), 1, buf_ptr(padded), modlen, data, datalen);
out:
	buf_free(padded);
	return r;
}

int
sshkey_verify(const struct sshkey *key, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen, const char *alg, unsigned min_rsa_bits)
{
	struct buf *b = NULL;
	char sigalg[KEY_NAME_MAX];
	const uint8_t *s;
	size_t slen;
	int r;

	if (key->type == KEY_RSA && key->bits < min_rsa_bits)
		return ERR_KEY_TYPE;
	if (siglen > SIG_BLOB_MAX)
		return ERR_TOO_BIG;
	if ((b = buf_from(sig, siglen)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_cstring_fixed(b, sigalg, sizeof(sigalg))) != 0 ||
	    (r = buf_get_string_direct(b, &s, &slen)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	r = ERR_SIGNATURE;
	if (alg != NULL && strcmp(alg, sigalg) != 0)
		goto out;
	/* SHA-1 "ssh-rsa" only when the caller named it explicitly. */
	if (!sshkey_sig_alg_ok(key, sigalg, alg != NULL))
		goto out;
	switch (key->type) {
	case KEY_ED25519:
		if (slen != ED25519_SIG_LEN)
			goto out;
		r = evp_verify(key->pkey, NULL, 0, s, slen, data, datalen);
		break;
	case KEY_ECDSA:
		r = verify_ecdsa(key, s, slen, data, datalen);
		break;
	case KEY_RSA:
		r = verify_rsa(
		    key, rsa_alg_by_name(sigalg), s, slen, data, datalen);
		break;
	default:
		r = ERR_KEY_TYPE;
		break;
	}
	/* Only a definite "good" counts; anything else is a bad signature. */
	if (r == ERR_CRYPTO)
		r = ERR_SIGNATURE;
out:
	ERR_clear_error();
	buf_free(b);
	return r;
}

int
sshkey_sig_type(const uint8_t *sig, size_t siglen, char *name, size_t namelen)
{
	struct buf *b;
	int r;

	if (siglen > SIG_BLOB_MAX)
		return ERR_TOO_BIG;
	if ((b = buf_from(sig, siglen)) == NULL)
		return ERR_ALLOC;
	r = buf_get_cstring_fixed(b, name, namelen);
	buf_free(b);
	return r;
}

/* One-shot EVP signing into a malloc'd buffer. */
static int
evp_sign(EVP_PKEY *pkey, const EVP_MD *md, int rsa_pkcs1, const uint8_t *data,
    size_t datalen, uint8_t **sigp, size_t *siglenp)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r = ERR_CRYPTO;

	*sigp = NULL;
	*siglenp = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) != 1)
		goto out;
	if (rsa_pkcs1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &siglen, data, datalen) != 1)
		goto out;
	if ((sig = malloc(siglen)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSign(ctx, sig, &siglen, data, datalen) != 1)
		goto out;
	*sigp = sig;
	*siglenp = siglen;
	sig = NULL;
	r = 0;
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* DER ECDSA-Sig-Value to SSH's (mpint r, mpint s). */
static int
ecdsa_der_to_ssh(const struct ec_curve *c, const uint8_t *der, size_t derlen,
    struct buf *out)
{
	const unsigned char *p = der;
	const BIGNUM *br, *bs;
	ECDSA_SIG *esig;
	uint8_t be[66];
	int r = ERR_CRYPTO, n;

	if ((esig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		return ERR_CRYPTO;
	ECDSA_SIG_get0(esig, &br, &bs);
	if (c->coord_len > sizeof(be))
		goto out;
	if ((n = BN_bn2binpad(br, be, (int)c->coord_len)) < 0)
		goto out;
	if ((r = buf_put_mpint_bytes(out, be, (size_t)n)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((n = BN_bn2binpad(bs, be, (int)c->coord_len)) < 0)
		goto out;
	r = buf_put_mpint_bytes(out, be, (size_t)n);
out:
	ECDSA_SIG_free(esig);
	return r;
}

int
sshkey_sign(const struct sshkey *key, struct buf *out, const uint8_t *data,
    size_t datalen, const char *alg)
{
	const struct rsa_alg *ra;
	struct buf *inner = NULL, *sigblob = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	if (!key->is_private)
		return ERR_KEY_TYPE;
	if (alg == NULL)
		alg = key->type == KEY_RSA ? "rsa-sha2-512"
		                           : sshkey_type_name(key);
	if (!sshkey_sig_alg_ok(key, alg, 1))
		return ERR_KEY_TYPE;
	if ((sigblob = buf_new(SIG_BLOB_MAX)) == NULL ||
	    (inner = buf_new(SIG_BLOB_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	switch (key->type) {
	case KEY_ED25519:
		if ((r = evp_sign(key->pkey, NULL, 0, data, datalen, &sig,
		         &siglen)) != 0)
			goto out;
		if (siglen != ED25519_SIG_LEN) {
			r = ERR_CRYPTO;
			goto out;
		}
		r = buf_put(inner, sig, siglen);
		break;
	case KEY_ECDSA:
		if ((r = evp_sign(key->pkey, key->curve->md(), 0, data, datalen,
		         &sig, &siglen)) != 0)
			goto out;
		r = ecdsa_der_to_ssh(key->curve, sig, siglen, inner);
		break;
	case KEY_RSA:
		ra = rsa_alg_by_name(alg);
		if ((r = evp_sign(key->pkey, ra->md(), 1, data, datalen, &sig,
		         &siglen)) != 0)
			goto out;
		r = buf_put(inner, sig, siglen);
		break;
	default:
		r = ERR_KEY_TYPE;
		break;
	}
	if (r != 0)
		goto out;
	if ((r = buf_put_cstring(sigblob, alg)) != 0 ||
	    (r = buf_put_stringb(sigblob, inner)) != 0 ||
	    (r = buf_put(out, buf_ptr(sigblob), buf_len(sigblob))) != 0)
		goto out;
out:
	ERR_clear_error();
	free(sig);
	buf_free(inner);
	buf_free(sigblob);
	return r;
}

/* The digest of every fingerprint this process prints (FingerprintHash). */
static int fingerprint_digest = DIGEST_SHA256;

int
sshkey_set_fingerprint_digest(int alg)
{
	if (digest_len(alg) == 0)
		return ERR_NOT_FOUND;
	fingerprint_digest = alg;
	return 0;
}

static int
fingerprint_blob_with(
    int alg, const uint8_t *blob, size_t len, char *out, size_t outlen)
{
	uint8_t md[DIGEST_MAX_LEN];
	/* Room for base64 of the largest digest, or hex with colons. */
	char text[DIGEST_MAX_LEN * 3 + 4];
	size_t n, i;
	int r;

	if ((r = digest_memory(alg, blob, len, md)) != 0)
		return r;
	n = digest_len(alg);
	if (alg == DIGEST_MD5) {
		/* As ssh-keygen -E md5: lower-case hex pairs joined by ':'. */
		for (i = 0; i < n; i++)
			snprintf(text + 3 * i, 4, "%02x%s", md[i],
			    i + 1 < n ? ":" : "");
	} else {
		if ((r = base64_encode(md, n, text, sizeof(text))) != 0)
			return r;
		/* ssh-keygen prints the base64 without its '=' padding. */
		n = strlen(text);
		while (n > 0 && text[n - 1] == '=')
			text[--n] = '\0';
	}
	if ((size_t)snprintf(out, outlen, "%s:%s", digest_name(alg), text) >=
	    outlen)
		return ERR_TOO_BIG;
	return 0;
}

int
sshkey_fingerprint_blob(
    const uint8_t *blob, size_t len, char *out, size_t outlen)
{
	return fingerprint_blob_with(
	    fingerprint_digest, blob, len, out, outlen);
}

int
sshkey_fingerprint_blob_sha256(
    const uint8_t *blob, size_t len, char *out, size_t outlen)
{
	return fingerprint_blob_with(DIGEST_SHA256, blob, len, out, outlen);
}

int
sshkey_fingerprint(const struct sshkey *key, char *out, size_t outlen)
{
	return sshkey_fingerprint_blob(
	    buf_ptr(key->blob), buf_len(key->blob), out, outlen);
}

int
sshkey_fingerprint_sha256(const struct sshkey *key, char *out, size_t outlen)
{
	return sshkey_fingerprint_blob_sha256(
	    buf_ptr(key->blob), buf_len(key->blob), out, outlen);
}

int
sshkey_text_split(const char *s, char *name, size_t namelen,
    int (*known)(const char *name), size_t blobmax, uint8_t **blobp,
    size_t *bloblenp, const char **endp)
{
	uint8_t *blob;
	size_t tlen, blen, bmax;
	int r;

	*blobp = NULL;
	*bloblenp = 0;
	s += strspn(s, " \t");
	tlen = strcspn(s, " \t\r\n");
	if (tlen == 0 || tlen >= namelen)
		return ERR_FORMAT;
	memcpy(name, s, tlen);
	name[tlen] = '\0';
	if (!known(name))
		return ERR_KEY_TYPE;
	s += tlen;
	if (*s != ' ' && *s != '\t')
		return ERR_FORMAT;
	s += strspn(s, " \t");
	blen = strcspn(s, " \t\r\n");
	if (blen > (blobmax + 2) / 3 * 4)
		return ERR_TOO_BIG;
	bmax = blen / 4 * 3 + 3;
	if ((blob = malloc(bmax)) == NULL)
		return ERR_ALLOC;
	if ((r = base64_decode(s, blen, blob, bmax, bloblenp)) != 0) {
		free(blob);
		return r;
	}
	*blobp = blob;
	*endp = s + blen;
	return 0;
}

/*
 * As sshd's key reader, a key's text may name an RSA signature algorithm
 * for the key's type: "rsa-sha2-512 AAAAB3NzaC1yc2E..." is an RSA key.
 */
static int
rsa_sig_name(const char *name)
{
	return strcmp(name, "rsa-sha2-256") == 0 ||
	    strcmp(name, "rsa-sha2-512") == 0;
}

static int
known_key_type(const char *name)
{
	const struct ec_curve *c;

	return type_from_name(name, &c) != KEY_UNSPEC || rsa_sig_name(name);
}

int
sshkey_parse_public_text(const char *s, struct sshkey **keyp, const char **endp)
{
	struct sshkey *k = NULL;
	char name[KEY_NAME_MAX];
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	const char *end;
	int r;

	*keyp = NULL;
	if (endp != NULL)
		*endp = s;
	if ((r = sshkey_text_split(s, name, sizeof(name), known_key_type,
	         KEY_BLOB_MAX, &blob, &bloblen, &end)) != 0 ||
	    (r = sshkey_from_blob(blob, bloblen, &k)) != 0)
		goto out;
	if (strcmp(name, sshkey_type_name(k)) != 0 &&
	    !(rsa_sig_name(name) && sshkey_type(k) == KEY_RSA)) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	if (endp != NULL)
		*endp = end;
	*keyp = k;
	k = NULL;
out:
	sshkey_free(k);
	free(blob);
	return r;
}

int
sshkey_format_public_text(const struct sshkey *key, char **outp)
{
	const char *name = sshkey_type_name(key);
	size_t len = buf_len(key->blob), tlen = strlen(name), size;
	char *s;
	int n;

	*outp = NULL;
	size = tlen + 1 + (len + 2) / 3 * 4 + 1;
	if ((s = malloc(size)) == NULL)
		return ERR_ALLOC;
	memcpy(s, name, tlen);
	s[tlen] = ' ';
	n = EVP_EncodeBlock(
	    (unsigned char *)s + tlen + 1, buf_ptr(key->blob), (int)len);
	if (n < 0 || (size_t)n != (len + 2) / 3 * 4) {
		free(s);
		return ERR_CRYPTO;
	}
	*outp = s;
	return 0;
}

/* The private half of one key in an openssh-key-v1 private section. */
static int
parse_private_fields(struct buf *b, enum sshkey_type type,
    const struct ec_curve *c, struct sshkey **keyp)
{
	struct rsa_parts rp;
	char curve[KEY_NAME_MAX];
	const uint8_t *pk, *sk, *q, *d;
	size_t pk_len, sk_len, q_len, d_len;
	uint8_t seed[ED25519_SEED_LEN], pk2[ED25519_PK_LEN];
	struct buf *skb = NULL;
	int r;

	switch (type) {
	case KEY_ED25519:
		if ((r = buf_get_string_direct(b, &pk, &pk_len)) != 0 ||
		    (r = buf_get_string_direct(b, &sk, &sk_len)) != 0)
			return r;
		if (pk_len != ED25519_PK_LEN || sk_len != ED25519_SK_LEN)
			return ERR_BAD_KEY;
		/* sk is seed || public key; split it through a buffer. */
		if ((skb = secret_from(sk, sk_len)) == NULL)
			return ERR_ALLOC;
		if ((r = buf_get(skb, seed, sizeof(seed))) != 0 ||
		    (r = buf_get(skb, pk2, sizeof(pk2))) != 0 ||
		    (r = buf_end(skb)) != 0)
			goto out;
		if (memcmp(pk, pk2, ED25519_PK_LEN) != 0) {
			r = ERR_BAD_KEY;
			goto out;
		}
		r = ed25519_new(pk, pk_len, seed, keyp);
		break;
	case KEY_ECDSA:
		if ((r = buf_get_cstring_fixed(b, curve, sizeof(curve))) != 0 ||
		    (r = buf_get_string_direct(b, &q, &q_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &d, &d_len)) != 0)
			return r;
		if (strcmp(curve, c->ssh_name) != 0)
			return ERR_BAD_KEY;
		r = ecdsa_new(c, q, q_len, d, d_len, keyp);
		break;
	case KEY_RSA:
		memset(&rp, 0, sizeof(rp));
		if ((r = buf_get_mpint_direct(b, &rp.n, &rp.n_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &rp.e, &rp.e_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &rp.d, &rp.d_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &rp.iqmp, &rp.iqmp_len)) !=
		        0 ||
		    (r = buf_get_mpint_direct(b, &rp.p, &rp.p_len)) != 0 ||
		    (r = buf_get_mpint_direct(b, &rp.q, &rp.q_len)) != 0)
			return r;
		r = rsa_new(&rp, 1, keyp);
		break;
	default:
		r = ERR_KEY_TYPE;
		break;
	}
out:
	wipe(seed, sizeof(seed));
	buf_free(skb);
	return r;
}

/* The decrypted private section: check ints, one key, comment, padding. */
static int
parse_private_section(struct buf *b, struct sshkey **keyp)
{
	struct sshkey *k = NULL;
	const struct ec_curve *c;
	enum sshkey_type type;
	char name[KEY_NAME_MAX];
	uint32_t check1, check2;
	uint8_t pad, want = 1;
	int r;

	*keyp = NULL;
	if (buf_len(b) % PRIVKEY_BLOCK != 0)
		return ERR_BAD_KEY;
	if ((r = buf_get_u32(b, &check1)) != 0 ||
	    (r = buf_get_u32(b, &check2)) != 0)
		return r;
	if (check1 != check2)
		return ERR_BAD_KEY;
	if ((r = buf_get_cstring_fixed(b, name, sizeof(name))) != 0)
		return r;
	if ((type = type_from_name(name, &c)) == KEY_UNSPEC)
		return ERR_KEY_TYPE;
	if ((r = parse_private_fields(b, type, c, &k)) != 0)
		goto out;
	if ((r = buf_skip_string(b)) != 0) /* comment */
		goto out;
	/* Padding is 1, 2, 3, ... up to the block size. */
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &pad)) != 0)
			goto out;
		/* Any length, as sshd reads it: 1, 2, ..., 255, 0, 1 ... */
		if (pad != want++) {
			r = ERR_BAD_KEY;
			goto out;
		}
	}
	*keyp = k;
	k = NULL;
	r = 0;
out:
	sshkey_free(k);
	return r;
}

/* The binary openssh-key-v1 container (PROTOCOL.key). */
static int
parse_key_v1(struct buf *b, struct sshkey **keyp)
{
	struct sshkey *pub = NULL, *k = NULL;
	struct buf *priv = NULL;
	uint8_t magic[KEY_MAGIC_LEN];
	char cipher[KEY_NAME_MAX], kdf[KEY_NAME_MAX];
	const uint8_t *p;
	size_t len;
	uint32_t nkeys;
	int r;

	*keyp = NULL;
	if ((r = buf_get(b, magic, sizeof(magic))) != 0)
		return ERR_BAD_KEY;
	if (memcmp(magic, KEY_MAGIC, KEY_MAGIC_LEN) != 0)
		return ERR_BAD_KEY;
	if ((r = buf_get_cstring_fixed(b, cipher, sizeof(cipher))) != 0 ||
	    (r = buf_get_cstring_fixed(b, kdf, sizeof(kdf))) != 0 ||
	    (r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	/* Encrypted keys are refused, not half-supported. */
	if (strcmp(cipher, "none") != 0 || strcmp(kdf, "none") != 0)
		return ERR_ENCRYPTED;
	if (len != 0)
		return ERR_BAD_KEY;
	if ((r = buf_get_u32(b, &nkeys)) != 0)
		return r;
	if (nkeys != 1)
		return ERR_BAD_KEY;
	if ((r = buf_get_string_direct(b, &p, &len)) != 0 ||
	    (r = sshkey_from_blob(p, len, &pub)) != 0)
		goto out;
	if ((priv = buf_new_secret(buf_len(b))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_stringb(b, priv)) != 0 || (r = buf_end(b)) != 0 ||
	    (r = parse_private_section(priv, &k)) != 0)
		goto out;
	if (!sshkey_equal_public(pub, k)) {
		r = ERR_BAD_KEY;
		goto out;
	}
	*keyp = k;
	k = NULL;
out:
	sshkey_free(pub);
	sshkey_free(k);
	buf_free(priv);
	return r;
}

int
sshkey_parse_private(const uint8_t *data, size_t len, struct sshkey **keyp)
{
	const size_t blen = sizeof(MARK_BEGIN) - 1, elen = sizeof(MARK_END) - 1;
	struct buf *text = NULL, *b64 = NULL, *raw = NULL;
	uint8_t ch, *dec;
	size_t declen, decmax;
	int r, at_line_start = 0, ended = 0;

	*keyp = NULL;
	if (len > PRIVKEY_FILE_MAX)
		return ERR_TOO_BIG;
	if ((text = secret_from(data, len)) == NULL ||
	    (b64 = buf_new_secret(len == 0 ? 1 : len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* Anything but openssh-key-v1: PEM or PKCS#8, through OpenSSL. */
	if (buf_len(text) < blen ||
	    memcmp(buf_ptr(text), MARK_BEGIN, blen) != 0) {
		r = sshkey_parse_pem(data, len, keyp);
		goto out;
	}
	(void)buf_consume(text, blen);
	/* Collect the base64 body up to a line holding the end marker. */
	while (buf_len(text) > 0) {
		if (at_line_start && buf_len(text) >= elen &&
		    memcmp(buf_ptr(text), MARK_END, elen) == 0) {
			(void)buf_consume(text, elen);
			ended = 1;
			break;
		}
		if ((r = buf_get_u8(text, &ch)) != 0)
			goto out;
		at_line_start = ch == '\n';
		if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t')
			continue;
		if ((r = buf_put_u8(b64, ch)) != 0)
			goto out;
	}
	/* Whatever follows the end marker is not read, as by sshd. */
	if (!ended) {
		r = ERR_FORMAT;
		goto out;
	}
	decmax = buf_len(b64) / 4 * 3 + 3;
	if ((raw = buf_new_secret(decmax)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_reserve(raw, decmax, &dec)) != 0 ||
	    (r = base64_decode((const char *)buf_ptr(b64), buf_len(b64), dec,
	         decmax, &declen)) != 0)
		goto out;
	if ((r = buf_consume_end(raw, decmax - declen)) != 0)
		goto out;
	r = parse_key_v1(raw, keyp);
out:
	ERR_clear_error();
	buf_free(text);
	buf_free(b64);
	buf_free(raw);
	return r;
}

int
sshkey_load_private(const char *path, struct sshkey **keyp)
{
	struct buf *b = NULL;
	struct stat st;
	int fd, r, saved;

	*keyp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return ERR_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ERR_FORMAT;
		goto out;
	}
	if (st.st_size > PRIVKEY_FILE_MAX) {
		r = ERR_TOO_BIG;
		goto out;
	}
	/* As OpenSSH: a key of ours that others may read is not used. */
	if (st.st_uid == getuid() && (st.st_mode & 077) != 0) {
		error("%s", UNPROTECTED_RULE);
		error("@         WARNING: UNPROTECTED PRIVATE KEY FILE!       "
		      "   @");
		error("%s", UNPROTECTED_RULE);
		error("Permissions 0%3.3o for '%s' are too open.",
		    (unsigned)st.st_mode & 0777, path);
		error("It is required that your private key files are NOT "
		      "accessible by others.");
		error("This private key will be ignored.");
		r = ERR_PERM;
		goto out;
	}
	if ((b = buf_new_secret(PRIVKEY_FILE_MAX + 4096)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_read_fd(b, fd, PRIVKEY_FILE_MAX)) != 0)
		goto out;
	r = sshkey_parse_private(buf_ptr(b), buf_len(b), keyp);
out:
	saved = errno;
	buf_free(b);
	close(fd);
	errno = saved;
	return r;
}

EVP_PKEY *
sshkey_evp(const struct sshkey *key)
{
	return key->pkey;
}

#define EVP_NUMBERS_MAX (6 * (RSA_MAX_BITS / 8 + 1))

/* A BIGNUM parameter of pkey as big-endian bytes into a secret buffer. */
static int
evp_bn_bytes(EVP_PKEY *pkey, const char *name, struct buf *out,
    const uint8_t **p, size_t *len)
{
	BIGNUM *bn = NULL;
	uint8_t *dst;
	int r = ERR_BAD_KEY;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return ERR_BAD_KEY;
	*len = (size_t)BN_num_bytes(bn);
	if (*len == 0 || (r = buf_reserve(out, *len, &dst)) != 0)
		goto out;
	if (BN_bn2bin(bn, dst) != (int)*len) {
		r = ERR_CRYPTO;
		goto out;
	}
	*p = dst;
	r = 0;
out:
	BN_clear_free(bn);
	return r;
}

int
sshkey_from_evp(EVP_PKEY *pkey, struct sshkey **keyp)
{
	struct buf *sb = NULL;
	struct rsa_parts rp;
	const struct ec_curve *c = NULL;
	uint8_t pk[ED25519_PK_LEN], seed[ED25519_SEED_LEN];
	uint8_t q[1 + 2 * 66];
	const uint8_t *d;
	char group[64];
	size_t len, d_len, i;
	int r = ERR_KEY_TYPE;

	*keyp = NULL;
	/*
	 * Room for every number of the largest RSA key, allocated up front:
	 * the pointers into it must not move.
	 */
	if ((sb = buf_new_secret(EVP_NUMBERS_MAX)) == NULL)
		return ERR_ALLOC;
	if (buf_reserve(sb, EVP_NUMBERS_MAX, NULL) != 0 ||
	    buf_consume_end(sb, EVP_NUMBERS_MAX) != 0) {
		buf_free(sb);
		return ERR_ALLOC;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		len = sizeof(seed);
		if (EVP_PKEY_get_raw_private_key(pkey, seed, &len) != 1 ||
		    len != sizeof(seed)) {
			r = ERR_BAD_KEY;
			goto out;
		}
		len = sizeof(pk);
		if (EVP_PKEY_get_raw_public_key(pkey, pk, &len) != 1 ||
		    len != sizeof(pk)) {
			r = ERR_BAD_KEY;
			goto out;
		}
		r = ed25519_new(pk, sizeof(pk), seed, keyp);
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey,
		        OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		        NULL) != 1)
			goto out;
		for (i = 0; i < N_CURVES; i++)
			if (strcmp(ec_curves[i].group, group) == 0)
				c = &ec_curves[i];
		if (c == NULL)
			goto out;
		/* The point as the blob wants it: uncompressed. */
		if (EVP_PKEY_set_utf8_string_param(pkey,
		        OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		        "uncompressed") != 1 ||
		    EVP_PKEY_get_octet_string_param(pkey,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, sizeof(q),
		        &len) != 1) {
			r = ERR_BAD_KEY;
			goto out;
		}
		if ((r = evp_bn_bytes(
		         pkey, OSSL_PKEY_PARAM_PRIV_KEY, sb, &d, &d_len)) != 0)
			goto out;
		r = ecdsa_new(c, q, len, d, d_len, keyp);
	} else if (EVP_PKEY_is_a(pkey, "RSA")) {
		memset(&rp, 0, sizeof(rp));
		if ((r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_N, sb, &rp.n,
		         &rp.n_len)) != 0 ||
		    (r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_E, sb, &rp.e,
		         &rp.e_len)) != 0 ||
		    (r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_D, sb, &rp.d,
		         &rp.d_len)) != 0 ||
		    (r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, sb,
		         &rp.p, &rp.p_len)) != 0 ||
		    (r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, sb,
		         &rp.q, &rp.q_len)) != 0 ||
		    (r = evp_bn_bytes(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		         sb, &rp.iqmp, &rp.iqmp_len)) != 0)
			goto out;
		r = rsa_new(&rp, 1, keyp);
	}
out:
	ERR_clear_error();
	wipe(seed, sizeof(seed));
	buf_free(sb);
	return r;
}
