/*
 * sk_api.h: OpenSSH's SecurityKeyProvider middleware interface (sk-api),
 * written from its documented layout; must match the client's major version.
 */
#ifndef POSTERN_SK_API_H
#define POSTERN_SK_API_H

#include <stddef.h>
#include <stdint.h>

/* OpenSSH 9.2 (Debian 12) accepts major version 0x000a, as tested. */
#define SK_API_VERSION 0x000a0000
#define SK_API_VERSION_MAJOR_MASK 0xffff0000

/* Flags: requested at enrolment and signing, reported in signatures. */
#define SK_FLAG_USER_PRESENCE 0x01
#define SK_FLAG_USER_VERIFICATION 0x04
#define SK_FLAG_FORCE_OPERATION 0x10
#define SK_FLAG_RESIDENT_KEY 0x20

/* Algorithms. */
#define SK_ALG_ECDSA 0x00
#define SK_ALG_ED25519 0x01

/* Errors returned to the client. */
#define SK_ERR_GENERAL -1
#define SK_ERR_UNSUPPORTED -2
#define SK_ERR_PIN_REQUIRED -3
#define SK_ERR_DEVICE_NOT_FOUND -4
#define SK_ERR_CREDENTIAL_EXISTS -5

struct sk_enroll_response {
	uint8_t flags;
	uint8_t *public_key; /* ecdsa: uncompressed point; ed25519: 32 bytes */
	size_t public_key_len;
	uint8_t *key_handle;
	size_t key_handle_len;
	uint8_t *signature; /* attestation signature */
	size_t signature_len;
	uint8_t *attestation_cert;
	size_t attestation_cert_len;
	uint8_t *authdata;
	size_t authdata_len;
};

struct sk_sign_response {
	uint8_t flags;
	uint32_t counter;
	uint8_t *sig_r; /* ed25519: the whole 64-byte signature */
	size_t sig_r_len;
	uint8_t *sig_s; /* ed25519: unused */
	size_t sig_s_len;
};

struct sk_resident_key {
	uint32_t alg;
	size_t slot;
	char *application;
	struct sk_enroll_response key;
	uint8_t flags;
	uint8_t *user_id;
	size_t user_id_len;
};

/* A NULL-terminated array of these is passed to each call. */
struct sk_option {
	char *name;
	char *value;
	uint8_t required; /* fail if the option is not understood */
};

uint32_t sk_api_version(void);
int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response);
/* data is the whole message; the authenticator hashes it (client data). */
int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response);
int sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks);

#endif
