/*
 * sshkey_sk.c: FIDO security-key user keys (OpenSSH PROTOCOL.u2f). The
 * arithmetic is done by the plain ed25519 / nistp256 key inside each one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sshkey.h"
#include "sshkey_sk.h"

#define SK_BLOB_MAX 16384 /* OpenSSH's SSH_MAX_PUBKEY_BYTES */
#define SK_SIG_MAX 16384
#define SK_NAME_MAX 64
#define SK_HASH_LEN 32
/* SHA256(application) || flags || counter || SHA256(data) */
#define SK_MSG_LEN (SK_HASH_LEN + 1 + 4 + SK_HASH_LEN)
#define SK_CURVE_NAME "nistp256"
/* Signatures of sk-ecdsa keys made through a browser (PROTOCOL.u2f). */
#define WEBAUTHN_NAME "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
#define WEBAUTHN_CD_TYPE "{\"type\":\"webauthn.get\",\"challenge\":\""
#define WEBAUTHN_CD_ORIGIN "\",\"origin\":\""
#define WEBAUTHN_ORIGIN_MAX 2048
#define WEBAUTHN_FLAG_AT 0x40 /* attested credential data included */
#define WEBAUTHN_FLAG_ED 0x80 /* extension data included */

enum sk_kind {
	SK_ED25519 = 1,
	SK_ECDSA,
};

struct sk_type {
	const char *name;       /* key blob and signature type name */
	const char *short_name; /* in log lines */
	const char *inner_name; /* the plain key type that verifies */
	enum sk_kind kind;
};

static const struct sk_type sk_types[] = {
    {SSHKEY_SK_ED25519_NAME, "ED25519-SK", "ssh-ed25519", SK_ED25519},
    {SSHKEY_SK_ECDSA_NAME, "ECDSA-SK", "ecdsa-sha2-nistp256", SK_ECDSA},
};
#define N_SK_TYPES (sizeof(sk_types) / sizeof(sk_types[0]))

/* OpenSSH's wording, trailing space included. */
static const char reason_touch[] =
    "user presence (authenticator touch) requirement not met ";
static const char reason_verify[] = "user verification requirement not met ";

struct sshkey_sk {
	const struct sk_type *type;
	struct sshkey *inner; /* plain public key, already validated */
	char *application;
	struct buf *blob; /* canonical public key blob */
};

static const struct sk_type *
sk_type_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < N_SK_TYPES; i++)
		if (strcmp(name, sk_types[i].name) == 0)
			return &sk_types[i];
	return NULL;
}

int
sshkey_sk_is_type_name(const char *name)
{
	return sk_type_by_name(name) != NULL;
}

void
sshkey_sk_free(struct sshkey_sk *key)
{
	if (key == NULL)
		return;
	sshkey_free(key->inner);
	free(key->application);
	buf_free(key->blob);
	freezero(key, sizeof(*key));
}

int
sshkey_sk_parse_fields(
    struct buf *b, const char *type_name, struct sshkey_sk **keyp)
{
	const struct sk_type *t;
	struct sshkey_sk *k = NULL;
	struct buf *inner = NULL;
	char curve[SK_NAME_MAX];
	const uint8_t *pk;
	size_t pk_len, app_len;
	int r;

	*keyp = NULL;
	if ((t = sk_type_by_name(type_name)) == NULL)
		return ERR_KEY_TYPE;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ERR_ALLOC;
	k->type = t;
	if ((k->blob = buf_new(SK_BLOB_MAX)) == NULL ||
	    (inner = buf_new(SK_BLOB_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(k->blob, t->name)) != 0 ||
	    (r = buf_put_cstring(inner, t->inner_name)) != 0)
		goto out;
	/* The key fields are those of the plain key, after its name. */
	if (t->kind == SK_ECDSA) {
		if ((r = buf_get_cstring_fixed(b, curve, sizeof(curve))) != 0)
			goto out;
		if (strcmp(curve, SK_CURVE_NAME) != 0) {
			r = ERR_BAD_KEY;
			goto out;
		}
		if ((r = buf_put_cstring(k->blob, curve)) != 0 ||
		    (r = buf_put_cstring(inner, curve)) != 0)
			goto out;
	}
	if ((r = buf_get_string_direct(b, &pk, &pk_len)) != 0 ||
	    (r = buf_put_string(k->blob, pk, pk_len)) != 0 ||
	    (r = buf_put_string(inner, pk, pk_len)) != 0)
		goto out;
	/* The plain key's parser checks length, curve membership, order. */
	if ((r = sshkey_from_blob(buf_ptr(inner), buf_len(inner), &k->inner)) !=
	    0)
		goto out;
	if ((r = buf_get_cstring(b, &k->application, &app_len)) != 0 ||
	    (r = buf_put_string(k->blob, k->application, app_len)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
out:
	buf_free(inner);
	sshkey_sk_free(k);
	return r;
}

int
sshkey_sk_from_blob(const uint8_t *blob, size_t len, struct sshkey_sk **keyp)
{
	struct sshkey_sk *k = NULL;
	char name[SK_NAME_MAX];
	struct buf *b = NULL;
	int r;

	*keyp = NULL;
	if (len > SK_BLOB_MAX)
		return ERR_TOO_BIG;
	if ((b = buf_from(blob, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_cstring_fixed(b, name, sizeof(name))) != 0 ||
	    (r = sshkey_sk_parse_fields(b, name, &k)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
out:
	sshkey_sk_free(k);
	buf_free(b);
	return r;
}

int
sshkey_sk_to_blob(const struct sshkey_sk *key, struct buf *out)
{
	return buf_put(out, buf_ptr(key->blob), buf_len(key->blob));
}

const char *
sshkey_sk_type_name(const struct sshkey_sk *key)
{
	return key->type->name;
}

const char *
sshkey_sk_type_short(const struct sshkey_sk *key)
{
	return key->type->short_name;
}

unsigned
sshkey_sk_bits(const struct sshkey_sk *key)
{
	return sshkey_bits(key->inner);
}

const char *
sshkey_sk_application(const struct sshkey_sk *key)
{
	return key->application;
}

int
sshkey_sk_equal_public(const struct sshkey_sk *a, const struct sshkey_sk *b)
{
	size_t len = buf_len(a->blob);

	if (a->type != b->type || len != buf_len(b->blob))
		return 0;
	return ct_eq(buf_ptr(a->blob), buf_ptr(b->blob), len);
}

int
sshkey_sk_sig_alg_ok(const struct sshkey_sk *key, const char *alg)
{
	return alg != NULL && strcmp(alg, key->type->name) == 0;
}

/*
 * What the authenticator signed (PROTOCOL.u2f "SSH U2F signatures"):
 * the hash of the application, flags, counter, extensions and the hash of
 * data. OpenSSH's plain sk signatures carry no extensions; for webauthn,
 * data is the browser's clientDataJSON and the rest its authenticatorData
 * (the relying party is the key's application).
 */
static int
signed_message(const struct sshkey_sk *key, uint8_t flags, uint32_t counter,
    const uint8_t *ext, size_t extlen, const uint8_t *data, size_t datalen,
    struct buf *msg)
{
	uint8_t hash[SK_HASH_LEN];
	int r;

	if ((r = digest_memory(DIGEST_SHA256, key->application,
	         strlen(key->application), hash)) != 0 ||
	    (r = buf_put(msg, hash, sizeof(hash))) != 0 ||
	    (r = buf_put_u8(msg, flags)) != 0 ||
	    (r = buf_put_u32(msg, counter)) != 0 ||
	    (extlen > 0 && (r = buf_put(msg, ext, extlen)) != 0) ||
	    (r = digest_memory(DIGEST_SHA256, data, datalen, hash)) != 0 ||
	    (r = buf_put(msg, hash, sizeof(hash))) != 0)
		return r;
	return 0;
}

/*
 * clientDataJSON as a browser writes it for this signature must begin
 * with the type, the challenge (the data to sign, unpadded base64url) and
 * the origin, in this order, as sshd requires; the rest is not read.
 */
static int
webauthn_client_data_ok(const uint8_t *data, size_t datalen, const char *origin,
    const uint8_t *cd, size_t cdlen)
{
	struct buf *want = NULL;
	char *b64 = NULL;
	size_t i, n, b64len;
	int ok = 0;

	/* The origin is quoted as it is: nothing that JSON would escape. */
	for (i = 0; origin[i] != '\0'; i++)
		if ((unsigned char)origin[i] < 0x20 || origin[i] == '"' ||
		    origin[i] == '\\')
			return 0;
	b64len = (datalen + 2) / 3 * 4 + 1;
	if ((b64 = malloc(b64len)) == NULL ||
	    (want = buf_new(b64len + sizeof(WEBAUTHN_CD_TYPE) +
	         sizeof(WEBAUTHN_CD_ORIGIN) + strlen(origin) + 1)) == NULL ||
	    base64_encode(data, datalen, b64, b64len) != 0)
		goto out;
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	if (buf_put(want, WEBAUTHN_CD_TYPE, strlen(WEBAUTHN_CD_TYPE)) != 0 ||
	    buf_put(want, b64, n) != 0 ||
	    buf_put(want, WEBAUTHN_CD_ORIGIN, strlen(WEBAUTHN_CD_ORIGIN)) !=
	        0 ||
	    buf_put(want, origin, strlen(origin)) != 0 ||
	    buf_put(want, "\"", 1) != 0)
		goto out;
	ok = cdlen >= buf_len(want) &&
	    memcmp(cd, buf_ptr(want), buf_len(want)) == 0;
out:
	free(b64);
	buf_free(want);
	return ok;
}

/*
 * The fields of a webauthn signature after its counter (PROTOCOL.u2f):
 * string origin, string clientDataJSON, string extensions; checked, and
 * the signed message built in msg.
 */
static int
webauthn_parse(const struct sshkey_sk *key, struct buf *b, uint8_t flags,
    uint32_t counter, const uint8_t *data, size_t datalen, struct buf *msg)
{
	char origin[WEBAUTHN_ORIGIN_MAX];
	const uint8_t *cd, *ext;
	size_t cdlen, extlen;
	int r;

	if (key->type->kind != SK_ECDSA)
		return ERR_SIGNATURE;
	if ((r = buf_get_cstring_fixed(b, origin, sizeof(origin))) != 0 ||
	    (r = buf_get_string_direct(b, &cd, &cdlen)) != 0 ||
	    (r = buf_get_string_direct(b, &ext, &extlen)) != 0 ||
	    (r = buf_end(b)) != 0)
		return r;
	/* As sshd: no attested credential data; extensions iff flagged. */
	if ((flags & WEBAUTHN_FLAG_AT) != 0 ||
	    ((flags & WEBAUTHN_FLAG_ED) != 0) != (extlen != 0))
		return ERR_SIGNATURE;
	if (!webauthn_client_data_ok(data, datalen, origin, cd, cdlen))
		return ERR_SIGNATURE;
	return signed_message(key, flags, counter, ext, extlen, cd, cdlen, msg);
}

int
sshkey_sk_verify(const struct sshkey_sk *key, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen, uint8_t *flagsp, uint32_t *counterp)
{
	struct buf *b = NULL, *msg = NULL, *inner = NULL;
	char name[SK_NAME_MAX];
	const uint8_t *s;
	size_t slen;
	uint8_t flags;
	uint32_t counter;
	int r;

	if (flagsp != NULL)
		*flagsp = 0;
	if (counterp != NULL)
		*counterp = 0;
	if (siglen > SK_SIG_MAX)
		return ERR_TOO_BIG;
	if ((b = buf_from(sig, siglen)) == NULL ||
	    (msg = buf_new(SK_SIG_MAX)) == NULL ||
	    (inner = buf_new(SK_SIG_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring_fixed(b, name, sizeof(name))) != 0 ||
	    (r = buf_get_string_direct(b, &s, &slen)) != 0 ||
	    (r = buf_get_u8(b, &flags)) != 0 ||
	    (r = buf_get_u32(b, &counter)) != 0)
		goto out;
	/* The key's own type, or for ECDSA one signed through a browser. */
	if (strcmp(name, WEBAUTHN_NAME) == 0)
		r = webauthn_parse(key, b, flags, counter, data, datalen, msg);
	else if (strcmp(name, key->type->name) != 0)
		r = ERR_SIGNATURE;
	else if ((r = buf_end(b)) == 0)
		r = signed_message(
		    key, flags, counter, NULL, 0, data, datalen, msg);
	if (r != 0)
		goto out;
	/*
	 * The inner signature is encoded as the plain key type's (raw 64
	 * bytes; or mpint r, mpint s) and covers the message, hashed with
	 * SHA-256 for ECDSA as OpenSSH's verifier does.
	 */
	if ((r = buf_put_cstring(inner, key->type->inner_name)) != 0 ||
	    (r = buf_put_string(inner, s, slen)) != 0)
		goto out;
	if ((r = sshkey_verify(key->inner, buf_ptr(inner), buf_len(inner),
	         buf_ptr(msg), buf_len(msg), key->type->inner_name, 0)) != 0)
		goto out;
	if (flagsp != NULL)
		*flagsp = flags;
	if (counterp != NULL)
		*counterp = counter;
out:
	buf_free(b);
	buf_free(msg);
	buf_free(inner);
	return r;
}

int
sshkey_sk_check_flags(
    uint8_t flags, int require_touch, int require_verify, const char **reason)
{
	const char *why = NULL;

	if (require_touch && (flags & SSHKEY_SK_USER_PRESENT) == 0)
		why = reason_touch;
	else if (require_verify && (flags & SSHKEY_SK_USER_VERIFIED) == 0)
		why = reason_verify;
	if (reason != NULL)
		*reason = why;
	return why == NULL ? 0 : ERR_PERM;
}

int
sshkey_sk_fingerprint(const struct sshkey_sk *key, char *out, size_t outlen)
{
	return sshkey_fingerprint_blob(
	    buf_ptr(key->blob), buf_len(key->blob), out, outlen);
}

int
sshkey_sk_fingerprint_sha256(
    const struct sshkey_sk *key, char *out, size_t outlen)
{
	return sshkey_fingerprint_blob_sha256(
	    buf_ptr(key->blob), buf_len(key->blob), out, outlen);
}

int
sshkey_sk_parse_public_text(
    const char *s, struct sshkey_sk **keyp, const char **endp)
{
	struct sshkey_sk *k = NULL;
	char name[SK_NAME_MAX];
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	const char *end;
	int r;

	*keyp = NULL;
	if (endp != NULL)
		*endp = s;
	if ((r = sshkey_text_split(s, name, sizeof(name),
	         sshkey_sk_is_type_name, SK_BLOB_MAX, &blob, &bloblen, &end)) !=
	        0 ||
	    (r = sshkey_sk_from_blob(blob, bloblen, &k)) != 0)
		goto out;
	if (strcmp(name, k->type->name) != 0) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	if (endp != NULL)
		*endp = end;
	*keyp = k;
	k = NULL;
out:
	sshkey_sk_free(k);
	free(blob);
	return r;
}

int
sshkey_sk_format_public_text(const struct sshkey_sk *key, char **outp)
{
	const char *name = key->type->name;
	size_t len = buf_len(key->blob), tlen = strlen(name), size;
	char *s;
	int r;

	*outp = NULL;
	size = tlen + 1 + (len + 2) / 3 * 4 + 1;
	if ((s = malloc(size)) == NULL)
		return ERR_ALLOC;
	memcpy(s, name, tlen);
	s[tlen] = ' ';
	if ((r = base64_encode(buf_ptr(key->blob), len, s + tlen + 1,
	         size - tlen - 1)) != 0) {
		free(s);
		return r;
	}
	*outp = s;
	return 0;
}
