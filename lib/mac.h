/*
 * mac.h: SSH packet MACs (RFC 4253 s6.4, RFC 6668, OpenSSH's PROTOCOL
 * s1.5 for the -etm@openssh.com forms, umac-*@openssh.com): HMAC over
 * OpenSSL, UMAC from umac.c.
 */
#ifndef POSTERN_MAC_H
#define POSTERN_MAC_H

#include <stddef.h>
#include <stdint.h>

#define MAC_MAX_KEY 64
#define MAC_MAX_TAG 64

struct mac_alg {
	const char *name; /* "hmac-sha2-256-etm@openssh.com" ... */
	size_t key_len;   /* bytes of key material to derive */
	size_t tag_len;   /* bytes appended to each packet */
	int etm;          /* 1: MAC over length || ciphertext */
};

struct mac_ctx;

/* mac_by_name: NULL if unsupported. */
const struct mac_alg *mac_by_name(const char *name);
/* Every supported MAC name, comma-separated, in OpenSSH's order. */
const char *mac_supported_list(void);

int mac_init(
    struct mac_ctx **ctxp, const struct mac_alg *alg, const uint8_t *key);
void mac_free(struct mac_ctx *ctx); /* wipes the key */

/*
 * mac_compute: the tag over the packet data under sequence number seqnr
 * (HMAC: over uint32 seqnr || data; UMAC: data, with seqnr as the nonce).
 * tag holds tag_len bytes.
 */
int mac_compute(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, uint8_t *tag);
/* mac_verify: 0 if tag is right (constant-time compare), else ERR_MAC. */
int mac_verify(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, const uint8_t *tag);

#endif
