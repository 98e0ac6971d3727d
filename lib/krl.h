/*
 * krl.h: RevokedKeys: OpenSSH's binary key revocation lists (PROTOCOL.krl)
 * and plain text lists of public keys, as sshd reads them.
 */
#ifndef POSTERN_KRL_H
#define POSTERN_KRL_H

#include <stddef.h>
#include <stdint.h>

struct sshkey;
struct sshcert;
struct krl;

#define KRL_FILE_MAX (16 * 1024 * 1024)

/*
 * krl_load: read a revocation file. A file starting with the KRL magic
 * "SSHKRL\n\0" is parsed as a binary KRL, anything else as a text list of
 * public keys (one per line, '#' comments and blank lines allowed; a
 * certificate line revokes its certified key), as OpenSSH does. Returns 0,
 * ERR_SYSTEM (errno set) if the file cannot be read, ERR_TOO_BIG, or
 * another ERR_* if it is malformed. Any error means: refuse every key.
 */
int krl_load(const char *path, struct krl **krlp);
/* krl_from_bytes: the same from a file's contents. */
int krl_from_bytes(const uint8_t *data, size_t len, struct krl **krlp);
void krl_free(struct krl *krl);
/* 1 if krl came from a binary KRL, 0 for a text list. */
int krl_is_binary(const struct krl *krl);

/*
 * krl_check_key: 0 if not revoked, ERR_PERM if revoked, another ERR_*
 * (also to be read as "refuse") on an internal failure. key is a plain key
 * or NULL; cert, if non-NULL, is checked as OpenSSH checks a certificate
 * and its CA: the certified key and the CA key by blob and SHA1/SHA256
 * hash, and the certificate by key id and serial (a zero serial is never
 * revoked by serial) under its CA's sections and any-CA sections.
 */
int krl_check_key(const struct krl *krl, const struct sshkey *key,
    const struct sshcert *cert);
/*
 * krl_check_blob: the same for a plain public key given as its blob, of
 * any type (a FIDO sk- key, which lib/sshkey does not parse): revoked by
 * SHA1 or SHA256 hash of the blob or by the blob itself.
 */
int krl_check_blob(const struct krl *krl, const uint8_t *blob, size_t len);

#endif
