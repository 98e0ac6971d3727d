/*
 * umac.h: UMAC (RFC 4418) over OpenSSL's AES-128, as SSH uses it
 * (umac-64@openssh.com, umac-128@openssh.com): a 16-byte key, an 8-byte
 * nonce (the packet sequence number as a 64-bit big-endian value).
 */
#ifndef POSTERN_UMAC_H
#define POSTERN_UMAC_H

#include <stddef.h>
#include <stdint.h>

#define UMAC_KEY_LEN 16
#define UMAC_NONCE_LEN 8
#define UMAC_MAX_TAG 16

struct umac_ctx;

/*
 * umac_new: taglen is 4, 8, 12 or 16 bytes (UMAC-32/64/96/128). Derives
 * every subkey from key once; the caller wipes its copy of key.
 */
int umac_new(
    struct umac_ctx **ctxp, const uint8_t key[UMAC_KEY_LEN], size_t taglen);
/* umac_free wipes all key material. */
void umac_free(struct umac_ctx *ctx);
/* umac_compute: the tag (taglen bytes) of msg under nonce. */
int umac_compute(struct umac_ctx *ctx, const uint8_t *msg, size_t len,
    const uint8_t nonce[UMAC_NONCE_LEN], uint8_t *tag);
/* The reductions POLY and L3-HASH use, in constant time (for the unit
 * test): t mod 2^64 - 59, v mod 2^36 - 5. */
uint64_t umac_mod_p64(unsigned __int128 t);
uint64_t umac_mod_p36(uint64_t v);

#endif
