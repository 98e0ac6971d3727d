/*
 * sshkey_sk.h: FIDO security-key user keys, sk-ssh-ed25519@openssh.com and
 * sk-ecdsa-sha2-nistp256@openssh.com (OpenSSH PROTOCOL.u2f): public key
 * blobs, signature verification with flags and counter, and flag policy.
 */
#ifndef POSTERN_SSHKEY_SK_H
#define POSTERN_SSHKEY_SK_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define SSHKEY_SK_ED25519_NAME "sk-ssh-ed25519@openssh.com"
#define SSHKEY_SK_ECDSA_NAME "sk-ecdsa-sha2-nistp256@openssh.com"

/* Signature flags (as the authenticator reports them). */
#define SSHKEY_SK_USER_PRESENT 0x01
#define SSHKEY_SK_USER_VERIFIED 0x04

/*
 * The line the monitor logs when sshkey_sk_check_flags refuses, in
 * OpenSSH's wording: key short type, fingerprint, "" or "invalid user ",
 * user (cut at 255 bytes), address, port, reason. The reason carries
 * OpenSSH's trailing space.
 */
#define SSHKEY_SK_REJECT_FMT                                                   \
	"public key %s %s signature for %s%.255s from "                        \
	"%.128s port %d rejected: %s"

struct sshkey_sk; /* opaque */

/* 1 if name is one of the two security-key key type names. */
int sshkey_sk_is_type_name(const char *name);

/* sshkey_sk_from_blob: parse a public key blob; consumed exactly. */
int sshkey_sk_from_blob(
    const uint8_t *blob, size_t len, struct sshkey_sk **keyp);
/*
 * sshkey_sk_parse_fields: the fields that follow the type name (key, then
 * application), read from b without an end check: for the certificate
 * parser, which finds them after its nonce. type_name is the plain name.
 */
int sshkey_sk_parse_fields(
    struct buf *b, const char *type_name, struct sshkey_sk **keyp);
/* sshkey_sk_to_blob: append the public key blob to out. */
int sshkey_sk_to_blob(const struct sshkey_sk *key, struct buf *out);
void sshkey_sk_free(struct sshkey_sk *key);

/* The blob's type name, e.g. "sk-ssh-ed25519@openssh.com". */
const char *sshkey_sk_type_name(const struct sshkey_sk *key);
/* "ED25519-SK" or "ECDSA-SK": OpenSSH's short name for log lines. */
const char *sshkey_sk_type_short(const struct sshkey_sk *key);
unsigned sshkey_sk_bits(const struct sshkey_sk *key); /* 256 */
/* The FIDO application (usually "ssh:"); peer-chosen. */
const char *sshkey_sk_application(const struct sshkey_sk *key);
/* 1 if the public parts are equal (constant-time over the blobs). */
int sshkey_sk_equal_public(
    const struct sshkey_sk *a, const struct sshkey_sk *b);
/*
 * 1 if alg names a publickey request algorithm for this key: exactly its
 * type name (webauthn-sk-ecdsa-sha2-nistp256@openssh.com is a signature
 * type only, which sshkey_sk_verify takes).
 */
int sshkey_sk_sig_alg_ok(const struct sshkey_sk *key, const char *alg);

/*
 * sshkey_sk_verify: verify a signature blob (string type, string sig,
 * byte flags, uint32 counter) over data. The type must be the key's own
 * type name, or for an sk-ecdsa key webauthn-sk-ecdsa-sha2-nistp256@
 * openssh.com (PROTOCOL.u2f: then string origin, string clientDataJSON,
 * string extensions follow, and clientDataJSON must begin with sshd's
 * {"type":"webauthn.get","challenge":"B64URL(data)","origin":"ORIGIN"
 * prefix). On success only, *flagsp and *counterp (either may be NULL)
 * receive what the authenticator reported; the caller then applies
 * sshkey_sk_check_flags. Returns 0 only for a good signature.
 */
int sshkey_sk_verify(const struct sshkey_sk *key, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen, uint8_t *flagsp,
    uint32_t *counterp);

/*
 * sshkey_sk_check_flags: apply the touch and verification requirements to
 * a verified signature's flags. require_touch is PubkeyAuthOptions
 * touch-required, or no no-touch-required key option (OpenSSH's default);
 * require_verify is PubkeyAuthOptions verify-required or the key option.
 * Returns 0, or ERR_PERM with *reason (if non-NULL) set to the first unmet
 * requirement. OpenSSH logs one line per unmet requirement: to match it,
 * call once with (1, 0) and once with (0, 1) as each applies.
 */
int sshkey_sk_check_flags(
    uint8_t flags, int require_touch, int require_verify, const char **reason);

/* sshkey_sk_fingerprint: as sshkey_fingerprint (FingerprintHash). */
int sshkey_sk_fingerprint(
    const struct sshkey_sk *key, char *out, size_t outlen);
/* sshkey_sk_fingerprint_sha256: as sshkey_fingerprint_sha256. */
int sshkey_sk_fingerprint_sha256(
    const struct sshkey_sk *key, char *out, size_t outlen);

/*
 * sshkey_sk_parse_public_text: parse "TYPE BASE64 [comment]" (no options
 * prefix); *endp, if non-NULL, points just after the base64 field. TYPE
 * must match the blob's type.
 */
int sshkey_sk_parse_public_text(
    const char *s, struct sshkey_sk **keyp, const char **endp);
/* sshkey_sk_format_public_text: "TYPE BASE64" malloc'd string. */
int sshkey_sk_format_public_text(const struct sshkey_sk *key, char **outp);

#endif
