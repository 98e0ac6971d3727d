/* crypto.h: thin wrappers over OpenSSL libcrypto: hashes, X25519, randomness. */
#ifndef POSTERN_CRYPTO_H
#define POSTERN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA1 1
#define DIGEST_SHA256 2
#define DIGEST_SHA384 3
#define DIGEST_SHA512 4
#define DIGEST_MD5 5 /* key fingerprints only (FingerprintHash md5) */
#define DIGEST_MAX_LEN 64

/* digest_len: bytes of output for a DIGEST_* id, 0 if unknown. */
size_t digest_len(int alg);
/* digest_name: "MD5", "SHA1", ... "SHA512", as OpenSSH spells them. */
const char *digest_name(int alg);
/* digest_from_name: the id of a digest name, any case; -1 if none. */
int digest_from_name(const char *name);
/* digest_memory: out must hold digest_len(alg) bytes. */
int digest_memory(int alg, const void *data, size_t len, uint8_t *out);

/* Incremental hashing (used for the exchange hash). */
struct digest_ctx;
struct digest_ctx *digest_start(int alg);
int digest_update(struct digest_ctx *ctx, const void *data, size_t len);
int digest_final(struct digest_ctx *ctx, uint8_t *out); /* also frees */
void digest_free(struct digest_ctx *ctx);

/* random_bytes: fill from the OS CSPRNG (getrandom); fatal on failure. */
void random_bytes(void *buf, size_t len);
/*
 * random_padding: unpredictable (not secret) bytes for packet padding,
 * from a buffered pool: no syscall per call.
 */
void random_padding(void *buf, size_t len);
uint32_t random_uniform(uint32_t upper_bound);

/* X25519 (RFC 7748). */
#define X25519_KEY_LEN 32
int x25519_keypair(uint8_t pub[X25519_KEY_LEN], uint8_t priv[X25519_KEY_LEN]);
/* x25519_shared: ERR_CRYPTO on the all-zero result (RFC 7748 s6.1). */
int x25519_shared(uint8_t out[X25519_KEY_LEN],
    const uint8_t priv[X25519_KEY_LEN], const uint8_t peer[X25519_KEY_LEN]);

/* base64 (RFC 4648, standard alphabet). */
/* base64_encode: writes NUL-terminated text; dstlen >= 4*ceil(n/3)+1. */
int base64_encode(const uint8_t *src, size_t srclen, char *dst, size_t dstlen);
/* base64_decode: skips no whitespace; *outlen set; ERR_FORMAT on bad input. */
int base64_decode(const char *src, size_t srclen, uint8_t *dst, size_t dstlen,
    size_t *outlen);

/* crypto_init: load OpenSSL error strings/algorithms before any sandbox. */
void crypto_init(void);
/*
 * crypto_init_config: only OpenSSL's configuration; algorithms are fetched
 * on first use. For processes that are not sandboxed: the listener and a
 * connection's monitor, which never run the transport's ciphers (OpenSSL
 * builds its table of every cipher on the first cipher fetch, some 170 KB
 * of heap a monitor would keep for the whole connection), and the
 * session, which fetches its cipher at once and the key exchange's
 * algorithms only when it rekeys.
 */
void crypto_init_config(void);

#endif
