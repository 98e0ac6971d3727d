/*
 * sshkey_int.h: what the key file readers and writers (sshkey_pem.c,
 * sshkey_write.c) need of sshkey.c's internals: the OpenSSL key inside.
 */
#ifndef POSTERN_SSHKEY_INT_H
#define POSTERN_SSHKEY_INT_H

#include <openssl/evp.h>

#include "sshkey.h"

/* The EVP_PKEY a key holds (still owned by the key). */
EVP_PKEY *sshkey_evp(const struct sshkey *key);
/*
 * sshkey_from_evp: an sshkey from an OpenSSL private key (Ed25519, EC on
 * P-256/384/521, RSA), rebuilt from its numbers through the same checks
 * as a key read from an openssh-key-v1 file. ERR_KEY_TYPE for others.
 */
int sshkey_from_evp(EVP_PKEY *pkey, struct sshkey **keyp);
/* sshkey_parse_pem: a PEM or PKCS#8 private key, unencrypted. */
int sshkey_parse_pem(const uint8_t *data, size_t len, struct sshkey **keyp);

#endif
