/*
 * sshkey.h: SSH public keys, signatures and OpenSSH private key files.
 * Blob and signature formats: RFC 4253 s6.6, RFC 5656, RFC 8332, RFC 8709;
 * private key file: OpenSSH PROTOCOL.key.
 */
#ifndef POSTERN_SSHKEY_H
#define POSTERN_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum sshkey_type {
	KEY_UNSPEC = 0,
	KEY_ED25519,
	KEY_ECDSA, /* curve in sshkey.ecdsa_nid */
	KEY_RSA,
};

struct sshkey; /* opaque; holds an EVP_PKEY */

/* sshkey_from_blob: parse a public key blob; consumed exactly. */
int sshkey_from_blob(const uint8_t *blob, size_t len, struct sshkey **keyp);
/* sshkey_to_blob: append the public key blob to out. */
int sshkey_to_blob(const struct sshkey *key, struct buf *out);
void sshkey_free(struct sshkey *key);
enum sshkey_type sshkey_type(const struct sshkey *key);
/* 1 if the public parts are equal (constant-time over the blobs). */
int sshkey_equal_public(const struct sshkey *a, const struct sshkey *b);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" (the blob's type name). */
const char *sshkey_type_name(const struct sshkey *key);
/* "ED25519", "ECDSA", "RSA": the short name OpenSSH puts in log lines. */
const char *sshkey_type_short(const struct sshkey *key);
/* Size in bits (RSA modulus, EC curve size, 256 for ed25519). */
unsigned sshkey_bits(const struct sshkey *key);
/* 1 if key has a private part (loaded from a private key file). */
int sshkey_is_private(const struct sshkey *key);

/*
 * sshkey_sig_alg_ok: 1 if signature algorithm name alg is valid for key
 * ("ssh-ed25519"; "ecdsa-sha2-nistpNNN" matching the curve;
 * "rsa-sha2-256"/"rsa-sha2-512" for RSA; "ssh-rsa" only if allow_sha1).
 */
int sshkey_sig_alg_ok(
    const struct sshkey *key, const char *alg, int allow_sha1);

/*
 * sshkey_verify: verify an SSH signature blob (string alg, string sig) over
 * data. If alg is non-NULL, the signature's own algorithm name must equal
 * it. RSA keys smaller than min_rsa_bits are refused with ERR_KEY_TYPE.
 * Returns 0 only for a good signature; ERR_SIGNATURE for a bad one.
 */
int sshkey_verify(const struct sshkey *key, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen, const char *alg,
    unsigned min_rsa_bits);

/*
 * sshkey_sig_type: the algorithm name a signature blob (string alg,
 * string sig) carries, into name (namelen bytes). Nothing is verified.
 */
int sshkey_sig_type(
    const uint8_t *sig, size_t siglen, char *name, size_t namelen);

/* sshkey_sign: append a signature blob (string alg, string sig) to out. */
int sshkey_sign(const struct sshkey *key, struct buf *out, const uint8_t *data,
    size_t datalen, const char *alg);

/*
 * sshkey_load_private: read an unencrypted "openssh-key-v1" private key file
 * (at least ssh-ed25519; ecdsa and rsa too if easy). Refuses encrypted keys
 * with ERR_BAD_KEY. The file contents are wiped after parsing.
 */
int sshkey_load_private(const char *path, struct sshkey **keyp);
/* sshkey_parse_private: same, from the file's bytes. */
int sshkey_parse_private(const uint8_t *data, size_t len, struct sshkey **keyp);
/* The armour lines of an openssh-key-v1 private key file (no newline). */
#define SSHKEY_V1_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define SSHKEY_V1_END "-----END OPENSSH PRIVATE KEY-----"

/*
 * sshkey_fingerprint: as ssh-keygen -l -E HASH prints it, for the digest
 * set with sshkey_set_fingerprint_digest (FingerprintHash; default
 * SHA-256): "SHA256:" + unpadded base64 of SHA-256(blob), or for MD5
 * "MD5:" + hex pairs joined by ':'.
 */
int sshkey_fingerprint(const struct sshkey *key, char *out, size_t outlen);
/*
 * sshkey_fingerprint_sha256: the same in SHA-256 whatever FingerprintHash
 * says, as sshd 9.2 writes the lines of its authorized_keys matching
 * (auth2-pubkeyfile.c: "Accepted key ... found at", a cert-authority
 * line's "Accepted certificate ID ... found at").
 */
int sshkey_fingerprint_sha256(
    const struct sshkey *key, char *out, size_t outlen);
/* Enough for the longest: "SHA512:" + 86 chars + NUL. */
#define SSHKEY_FP_LEN 96
/* The same for any key blob (security keys, certificates). */
int sshkey_fingerprint_blob(
    const uint8_t *blob, size_t len, char *out, size_t outlen);
int sshkey_fingerprint_blob_sha256(
    const uint8_t *blob, size_t len, char *out, size_t outlen);
/* sshkey_set_fingerprint_digest: a DIGEST_* id; ERR_NOT_FOUND if unknown. */
int sshkey_set_fingerprint_digest(int alg);

/*
 * sshkey_parse_public_text: parse "TYPE BASE64 [comment]" as found in
 * .pub files and authorized_keys (no options prefix). *endp, if non-NULL,
 * points just after the base64 field. The TYPE must match the blob's type.
 */
int sshkey_parse_public_text(
    const char *s, struct sshkey **keyp, const char **endp);
/*
 * sshkey_text_split: the fields of "TYPE BASE64 [comment]" for any key or
 * certificate parser: the type name (into name, which known() must
 * accept), the decoded blob (malloc'd, at most blobmax bytes) and, in
 * *endp, the end of the base64 field. ERR_FORMAT, ERR_KEY_TYPE for an
 * unknown name, ERR_TOO_BIG, or base64_decode's error.
 */
int sshkey_text_split(const char *s, char *name, size_t namelen,
    int (*known)(const char *name), size_t blobmax, uint8_t **blobp,
    size_t *bloblenp, const char **endp);
/* sshkey_format_public_text: "TYPE BASE64" malloc'd string. */
int sshkey_format_public_text(const struct sshkey *key, char **outp);

/*
 * sshkey_generate: a new key: KEY_ED25519; KEY_ECDSA with bits 256, 384
 * or 521; KEY_RSA with 2048..16384 bits.
 */
int sshkey_generate(enum sshkey_type type, unsigned bits, struct sshkey **keyp);
/*
 * sshkey_write_private: append the key as an unencrypted openssh-key-v1
 * private key file (PROTOCOL.key), armored as ssh-keygen writes it.
 */
int sshkey_write_private(
    const struct sshkey *key, const char *comment, struct buf *out);
/*
 * sshkey_private_fields: append the private key's fields as
 * openssh-key-v1 lists them (no check bytes, no comment): the same bytes
 * for the same key each time. out should be a secret buffer.
 */
int sshkey_private_fields(const struct sshkey *key, struct buf *out);

#endif
