/*
 * soft_sk.c: a software FIDO authenticator for tests, loaded by the OpenSSH
 * client as a SecurityKeyProvider. Test-only: the private key travels in
 * the clear inside the key handle.
 *
 * Environment:
 *   SOFT_SK_UV=1          report user verification (flag 0x04)
 *   SOFT_SK_NO_TOUCH=1    do not report user presence even when asked
 *   SOFT_SK_COUNTER=path  file holding the last counter; each signature
 *                         increments it (a fixed counter of 1 when unset)
 *   SOFT_SK_DEBUG=1       say why a call failed on stderr
 */
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "tests/sk/sk_api.h"

#define EXPORT __attribute__((visibility("default")))

/* Key handle: magic, algorithm, SHA-256(application), DER private key. */
#define KH_MAGIC "PSK1"
#define KH_MAGIC_LEN 4
#define KH_HDR_LEN (KH_MAGIC_LEN + 1 + SHA256_DIGEST_LENGTH)
#define KH_MAX 4096
#define P256_POINT_LEN 65
#define ED25519_LEN 32
#define FIXED_COUNTER 1
#define COUNTER_TEXT_MAX 32

__attribute__((format(printf, 1, 2))) static void
debug(const char *fmt, ...)
{
	const char *e = getenv("SOFT_SK_DEBUG");
	va_list ap;

	if (e == NULL || strcmp(e, "1") != 0)
		return;
	fputs("soft_sk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
env_on(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcmp(v, "1") == 0;
}

/* Refuse an option marked required that this device does not know. */
static int
check_options(struct sk_option **options)
{
	size_t i;

	if (options == NULL)
		return 0;
	for (i = 0; options[i] != NULL; i++) {
		if (options[i]->name == NULL)
			return SK_ERR_GENERAL;
		if (strcmp(options[i]->name, "device") == 0 ||
		    strcmp(options[i]->name, "user") == 0)
			continue;
		if (options[i]->required) {
			debug(
			    "unsupported required option %s", options[i]->name);
			return SK_ERR_UNSUPPORTED;
		}
	}
	return 0;
}

static void
free_enroll_response(struct sk_enroll_response *r)
{
	if (r == NULL)
		return;
	free(r->public_key);
	if (r->key_handle != NULL)
		OPENSSL_cleanse(r->key_handle, r->key_handle_len);
	free(r->key_handle);
	free(r->signature);
	free(r->attestation_cert);
	free(r->authdata);
	free(r);
}

static void
free_sign_response(struct sk_sign_response *r)
{
	if (r == NULL)
		return;
	free(r->sig_r);
	free(r->sig_s);
	free(r);
}

static EVP_PKEY *
keygen(uint32_t alg)
{
	switch (alg) {
	case SK_ALG_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	case SK_ALG_ECDSA:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	default:
		return NULL;
	}
}

/* The public key as the client expects it from sk_enroll. */
static int
public_key(EVP_PKEY *pkey, uint32_t alg, uint8_t **outp, size_t *lenp)
{
	size_t len = alg == SK_ALG_ED25519 ? ED25519_LEN : P256_POINT_LEN;
	uint8_t *p;
	int ok;

	if ((p = malloc(len)) == NULL)
		return -1;
	if (alg == SK_ALG_ED25519)
		ok = EVP_PKEY_get_raw_public_key(pkey, p, &len) == 1 &&
		    len == ED25519_LEN;
	else
		ok = EVP_PKEY_get_octet_string_param(pkey,
		         OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, p, len,
		         &len) == 1 &&
		    len == P256_POINT_LEN && p[0] == 0x04;
	if (!ok) {
		free(p);
		return -1;
	}
	*outp = p;
	*lenp = len;
	return 0;
}

static int
make_key_handle(EVP_PKEY *pkey, uint32_t alg, const char *application,
    uint8_t **outp, size_t *lenp)
{
	unsigned char *der = NULL;
	uint8_t *kh;
	int derlen;

	if ((derlen = i2d_PrivateKey(pkey, &der)) <= 0)
		return -1;
	if ((size_t)derlen > KH_MAX - KH_HDR_LEN ||
	    (kh = malloc(KH_HDR_LEN + (size_t)derlen)) == NULL) {
		OPENSSL_clear_free(der, (size_t)derlen);
		return -1;
	}
	memcpy(kh, KH_MAGIC, KH_MAGIC_LEN);
	kh[KH_MAGIC_LEN] = (uint8_t)alg;
	SHA256((const unsigned char *)application, strlen(application),
	    kh + KH_MAGIC_LEN + 1);
	memcpy(kh + KH_HDR_LEN, der, (size_t)derlen);
	OPENSSL_clear_free(der, (size_t)derlen);
	*outp = kh;
	*lenp = KH_HDR_LEN + (size_t)derlen;
	return 0;
}

/* Recover the key, refusing a handle made for another alg or application. */
static EVP_PKEY *
open_key_handle(
    uint32_t alg, const char *application, const uint8_t *kh, size_t len)
{
	uint8_t apphash[SHA256_DIGEST_LENGTH];
	const unsigned char *p;
	EVP_PKEY *pkey;

	if (len <= KH_HDR_LEN || len > KH_MAX ||
	    memcmp(kh, KH_MAGIC, KH_MAGIC_LEN) != 0 || kh[KH_MAGIC_LEN] != alg)
		return NULL;
	SHA256(
	    (const unsigned char *)application, strlen(application), apphash);
	if (CRYPTO_memcmp(apphash, kh + KH_MAGIC_LEN + 1, sizeof(apphash)) != 0)
		return NULL;
	p = kh + KH_HDR_LEN;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)(len - KH_HDR_LEN))) ==
	    NULL)
		return NULL;
	if (p != kh + len ||
	    !EVP_PKEY_is_a(pkey, alg == SK_ALG_ED25519 ? "ED25519" : "EC")) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

EXPORT uint32_t
sk_api_version(void)
{
	return SK_API_VERSION;
}

EXPORT int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response)
{
	struct sk_enroll_response *resp = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if (enroll_response == NULL)
		return SK_ERR_GENERAL;
	*enroll_response = NULL;
	if ((r = check_options(options)) != 0)
		return r;
	if (application == NULL || *application == '\0' ||
	    (alg != SK_ALG_ECDSA && alg != SK_ALG_ED25519))
		return SK_ERR_UNSUPPORTED;
	/* Nothing is stored on the device, so it cannot hold resident keys. */
	if ((flags & SK_FLAG_RESIDENT_KEY) != 0) {
		debug("resident keys are not supported");
		return SK_ERR_UNSUPPORTED;
	}
	r = SK_ERR_GENERAL;
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	if ((pkey = keygen(alg)) == NULL) {
		debug("key generation failed");
		goto out;
	}
	if (public_key(pkey, alg, &resp->public_key, &resp->public_key_len) !=
	        0 ||
	    make_key_handle(pkey, alg, application, &resp->key_handle,
	        &resp->key_handle_len) != 0) {
		debug("cannot encode the new key");
		goto out;
	}
	resp->flags = flags;
	*enroll_response = resp;
	resp = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	free_enroll_response(resp);
	return r;
}

/* Read, increment and store the counter; a fixed value with no file. */
static int
next_counter(uint32_t *counterp)
{
	const char *path = getenv("SOFT_SK_COUNTER");
	char text[COUNTER_TEXT_MAX], *end;
	unsigned long v;
	ssize_t n;
	int fd, r = -1;

	if (path == NULL || *path == '\0') {
		*counterp = FIXED_COUNTER;
		return 0;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		debug("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) == -1)
		goto out;
	if ((n = pread(fd, text, sizeof(text) - 1, 0)) < 0)
		goto out;
	text[n] = '\0';
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\n') || v >= 0xffffffffUL) {
		debug("bad counter in %s", path);
		goto out;
	}
	v++;
	n = snprintf(text, sizeof(text), "%lu\n", v);
	if (ftruncate(fd, 0) == -1 || pwrite(fd, text, (size_t)n, 0) != n)
		goto out;
	*counterp = (uint32_t)v;
	r = 0;
out:
	close(fd);
	return r;
}

/* What the authenticator signs: PROTOCOL.u2f "SSH U2F signatures". */
static void
signed_message(const char *application, uint8_t flags, uint32_t counter,
    const uint8_t *data, size_t data_len,
    uint8_t msg[SHA256_DIGEST_LENGTH * 2 + 5])
{
	SHA256((const unsigned char *)application, strlen(application), msg);
	msg[32] = flags;
	msg[33] = (uint8_t)(counter >> 24);
	msg[34] = (uint8_t)(counter >> 16);
	msg[35] = (uint8_t)(counter >> 8);
	msg[36] = (uint8_t)counter;
	SHA256(data, data_len, msg + 37);
}

static int
evp_sign(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *msg, size_t len,
    uint8_t **sigp, size_t *siglenp)
{
	EVP_MD_CTX *ctx;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1)
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

static int
bn_out(const BIGNUM *bn, uint8_t **outp, size_t *lenp)
{
	int len = BN_num_bytes(bn);

	if (len <= 0 || (*outp = malloc((size_t)len)) == NULL)
		return -1;
	*lenp = (size_t)BN_bn2bin(bn, *outp);
	return 0;
}

/* ECDSA: the client wants r and s as big-endian integers. */
static int
sign_ecdsa(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
    struct sk_sign_response *resp)
{
	const unsigned char *p;
	const BIGNUM *br, *bs;
	ECDSA_SIG *esig = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int r = -1;

	if (evp_sign(pkey, EVP_sha256(), msg, len, &der, &derlen) != 0)
		return -1;
	p = der;
	if ((esig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		goto out;
	ECDSA_SIG_get0(esig, &br, &bs);
	if (bn_out(br, &resp->sig_r, &resp->sig_r_len) != 0 ||
	    bn_out(bs, &resp->sig_s, &resp->sig_s_len) != 0)
		goto out;
	r = 0;
out:
	ECDSA_SIG_free(esig);
	free(der);
	return r;
}

EXPORT int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response)
{
	struct sk_sign_response *resp = NULL;
	uint8_t msg[SHA256_DIGEST_LENGTH * 2 + 5];
	EVP_PKEY *pkey = NULL;
	int r;

	if (sign_response == NULL)
		return SK_ERR_GENERAL;
	*sign_response = NULL;
	if ((r = check_options(options)) != 0)
		return r;
	if (application == NULL || key_handle == NULL ||
	    (data == NULL && data_len != 0))
		return SK_ERR_GENERAL;
	if ((pkey = open_key_handle(
	         alg, application, key_handle, key_handle_len)) == NULL) {
		/* A real device answers a foreign handle with "no key". */
		debug("key handle not recognised");
		return SK_ERR_DEVICE_NOT_FOUND;
	}
	r = SK_ERR_GENERAL;
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		goto out;
	/* Presence is reported when asked for: every touch succeeds. */
	if ((flags & SK_FLAG_USER_PRESENCE) != 0 && !env_on("SOFT_SK_NO_TOUCH"))
		resp->flags |= SK_FLAG_USER_PRESENCE;
	if (env_on("SOFT_SK_UV"))
		resp->flags |= SK_FLAG_USER_VERIFICATION;
	if (next_counter(&resp->counter) != 0) {
		debug("counter update failed");
		goto out;
	}
	signed_message(
	    application, resp->flags, resp->counter, data, data_len, msg);
	if (alg == SK_ALG_ED25519) {
		if (evp_sign(pkey, NULL, msg, sizeof(msg), &resp->sig_r,
		        &resp->sig_r_len) != 0)
			goto out;
	} else if (sign_ecdsa(pkey, msg, sizeof(msg), resp) != 0)
		goto out;
	*sign_response = resp;
	resp = NULL;
	r = 0;
out:
	if (r != 0)
		debug("signing failed");
	EVP_PKEY_free(pkey);
	free_sign_response(resp);
	return r;
}

EXPORT int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks)
{
	int r;

	if (rks == NULL || nrks == NULL)
		return SK_ERR_GENERAL;
	*rks = NULL;
	*nrks = 0;
	if ((r = check_options(options)) != 0)
		return r;
	return 0; /* the device holds none */
}
