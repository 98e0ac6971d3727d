/*
 * sntrup761.h: the Streamlined NTRU Prime KEM sntrup761 (round-3
 * specification), as used by sntrup761x25519-sha512@openssh.com.
 */
#ifndef POSTERN_SNTRUP761_H
#define POSTERN_SNTRUP761_H

#include <stddef.h>
#include <stdint.h>

#define SNTRUP761_PUBLICKEY_SIZE 1158
#define SNTRUP761_SECRETKEY_SIZE 1763
#define SNTRUP761_CIPHERTEXT_SIZE 1039
#define SNTRUP761_SHARED_SIZE 32

/* All return 0 or an ERR_* code; outputs are wiped on failure. */
int sntrup761_keypair(
    uint8_t pk[SNTRUP761_PUBLICKEY_SIZE], uint8_t sk[SNTRUP761_SECRETKEY_SIZE]);
int sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE],
    uint8_t ss[SNTRUP761_SHARED_SIZE],
    const uint8_t pk[SNTRUP761_PUBLICKEY_SIZE]);
/* A ciphertext that fails re-encryption yields the implicit-rejection key. */
int sntrup761_dec(uint8_t ss[SNTRUP761_SHARED_SIZE],
    const uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE],
    const uint8_t sk[SNTRUP761_SECRETKEY_SIZE]);

/*
 * Tests only: replace random_bytes() (NULL restores it). While set, random
 * words are drawn 4 bytes per call, as the NIST KAT generator did.
 */
void sntrup761_set_random_for_test(void (*fn)(void *, size_t));

#endif
