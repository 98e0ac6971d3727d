/*
 * mlkem768.h: ML-KEM-768 (FIPS 203, August 2024), as used by
 * mlkem768x25519-sha256.
 */
#ifndef POSTERN_MLKEM768_H
#define POSTERN_MLKEM768_H

#include <stddef.h>
#include <stdint.h>

#define MLKEM768_EK_SIZE 1184
#define MLKEM768_DK_SIZE 2400
#define MLKEM768_CT_SIZE 1088
#define MLKEM768_SS_SIZE 32
#define MLKEM768_SEED_SIZE 32

/* All return 0 or an ERR_* code; outputs are wiped on failure. */
int mlkem768_keypair(
    uint8_t ek[MLKEM768_EK_SIZE], uint8_t dk[MLKEM768_DK_SIZE]);
/* ML-KEM.KeyGen_internal: deterministic from the seeds d and z. */
int mlkem768_keypair_derand(uint8_t ek[MLKEM768_EK_SIZE],
    uint8_t dk[MLKEM768_DK_SIZE], const uint8_t d[MLKEM768_SEED_SIZE],
    const uint8_t z[MLKEM768_SEED_SIZE]);

/* ERR_BAD_KEY when ek fails the modulus check (FIPS 203 s7.2). */
int mlkem768_encaps(uint8_t ct[MLKEM768_CT_SIZE], uint8_t ss[MLKEM768_SS_SIZE],
    const uint8_t ek[MLKEM768_EK_SIZE]);
/* ML-KEM.Encaps_internal: deterministic from the message m. */
int mlkem768_encaps_derand(uint8_t ct[MLKEM768_CT_SIZE],
    uint8_t ss[MLKEM768_SS_SIZE], const uint8_t ek[MLKEM768_EK_SIZE],
    const uint8_t m[MLKEM768_SEED_SIZE]);

/*
 * ERR_BAD_KEY when dk fails the hash check (FIPS 203 s7.3). A ciphertext
 * that fails re-encryption yields the implicit-rejection key, not an error.
 */
int mlkem768_decaps(uint8_t ss[MLKEM768_SS_SIZE],
    const uint8_t ct[MLKEM768_CT_SIZE], const uint8_t dk[MLKEM768_DK_SIZE]);

#endif
