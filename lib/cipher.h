/*
 * cipher.h: SSH packet ciphers over OpenSSL EVP. Packets are encrypted and
 * authenticated in place. Names are the SSH algorithm names.
 */
#ifndef POSTERN_CIPHER_H
#define POSTERN_CIPHER_H

#include <stddef.h>
#include <stdint.h>

struct cipher_alg {
	const char *name;  /* "chacha20-poly1305@openssh.com" ... */
	size_t key_len;    /* bytes of key material to derive */
	size_t iv_len;     /* bytes of IV material to derive (0 for chacha) */
	size_t block_size; /* padding multiple: 8 for chacha, 16 for AES */
	size_t tag_len;    /* AEAD tag bytes appended to each packet */
	int aead;          /* 1 when the cipher authenticates (no MAC) */
};

struct cipher_ctx;

/* cipher_by_name: NULL if unsupported. */
const struct cipher_alg *cipher_by_name(const char *name);
/* Comma-separated list of all supported cipher names, preferred first. */
const char *cipher_supported_list(void);

/*
 * cipher_init: key is key_len bytes, iv is iv_len bytes; encrypt is 1 for the
 * sending direction. Key material is copied; the caller wipes its copy.
 */
int cipher_init(struct cipher_ctx **ctxp, const struct cipher_alg *alg,
    const uint8_t *key, const uint8_t *iv, int encrypt);
/* cipher_free wipes all key material. */
void cipher_free(struct cipher_ctx *ctx);

/*
 * cipher_crypt: one whole SSH packet, in the shape of OpenSSH's
 * cipher_crypt(): src/dst hold aadlen bytes of length field (4) followed by
 * len bytes of packet body (padding_length, payload, padding); dst may equal
 * src. When encrypting, the tag (tag_len bytes) is written to
 * dst + aadlen + len. When decrypting, the tag is read from src + aadlen + len
 * and verified BEFORE anything is decrypted; a bad tag gives ERR_MAC.
 * chacha20-poly1305@openssh.com: the length field is encrypted with K_1 (see
 * PROTOCOL.chacha20poly1305); aes-gcm: the length field is AAD in clear and
 * the 12-byte IV's invocation counter is incremented after every packet
 * (RFC 5647 s7.1). seqnr is the packet sequence number.
 */
int cipher_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dst,
    const uint8_t *src, size_t len, size_t aadlen, size_t authlen);

/*
 * cipher_get_length: decode the 4-byte packet length from the first bytes
 * of a received packet without consuming anything (chacha: decrypts with
 * K_1; gcm: plain big-endian). srclen must be >= 4, else ERR_SHORT.
 */
int cipher_get_length(struct cipher_ctx *ctx, uint32_t *plenp, uint32_t seqnr,
    const uint8_t *src, size_t srclen);

#endif
