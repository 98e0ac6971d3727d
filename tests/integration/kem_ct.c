/*
 * kem_ct.c: one KEM operation run under valgrind with its secret inputs
 * marked undefined, so that memcheck reports any branch or memory index
 * that depends on them (test_kem_ct.py builds it with gcc and clang).
 * Prints "kem errors: N" (reports during the operation) and whether the
 * shared secret came out undefined (the marking really took effect).
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "buf.h"
#include "crypto.h"
#include "mlkem768.h"
#include "sntrup761.h"

/* Offsets of the secrets in the two secret-key formats. */
#define MLKEM_DK_PKE_LEN 1152
#define MLKEM_DK_Z 2368
#define SNTRUP_SMALL 191
#define SNTRUP_SK_RHO (2 * SNTRUP_SMALL + SNTRUP761_PUBLICKEY_SIZE)

static void
secret_random(void *p, size_t len)
{
	random_bytes(p, len);
	VALGRIND_MAKE_MEM_UNDEFINED(p, len);
}

int
main(int argc, char **argv)
{
	static uint8_t ek[MLKEM768_EK_SIZE], dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	static uint8_t pk[SNTRUP761_PUBLICKEY_SIZE];
	static uint8_t sk[SNTRUP761_SECRETKEY_SIZE];
	static uint8_t sct[SNTRUP761_CIPHERTEXT_SIZE];
	uint8_t m[32], ss[32];
	unsigned before, errors;
	const char *what = argc > 1 ? argv[1] : "";

	if (!RUNNING_ON_VALGRIND) {
		fprintf(stderr, "kem_ct: run me under valgrind\n");
		return 2;
	}
	crypto_init();
	if (mlkem768_keypair(ek, dk) != 0 || sntrup761_keypair(pk, sk) != 0 ||
	    mlkem768_encaps(ct, ss, ek) != 0 || sntrup761_enc(sct, ss, pk) != 0)
		return 3;
	before = VALGRIND_COUNT_ERRORS;
	if (strcmp(what, "mlkem-encaps") == 0) {
		/* The server's side: the message m is the secret. */
		random_bytes(m, sizeof(m));
		VALGRIND_MAKE_MEM_UNDEFINED(m, sizeof(m));
		mlkem768_encaps_derand(ct, ss, ek, m);
	} else if (strcmp(what, "mlkem-decaps") == 0) {
		/* The client's: s and z; a good and a rejected ciphertext. */
		VALGRIND_MAKE_MEM_UNDEFINED(dk, MLKEM_DK_PKE_LEN);
		VALGRIND_MAKE_MEM_UNDEFINED(dk + MLKEM_DK_Z, 32);
		mlkem768_decaps(ss, ct, dk);
		ct[7] ^= 1;
		mlkem768_decaps(ss, ct, dk);
	} else if (strcmp(what, "sntrup-enc") == 0) {
		/* The server's side: the short random r is the secret. */
		sntrup761_set_random_for_test(secret_random);
		sntrup761_enc(sct, ss, pk);
		sntrup761_set_random_for_test(NULL);
	} else if (strcmp(what, "sntrup-dec") == 0) {
		/* The client's: f, 1/g and rho; a good and a rejected ct. */
		VALGRIND_MAKE_MEM_UNDEFINED(sk, 2 * SNTRUP_SMALL);
		VALGRIND_MAKE_MEM_UNDEFINED(sk + SNTRUP_SK_RHO, SNTRUP_SMALL);
		sntrup761_dec(ss, sct, sk);
		sct[7] ^= 1;
		sntrup761_dec(ss, sct, sk);
	} else {
		fprintf(stderr, "kem_ct: unknown operation %s\n", what);
		return 2;
	}
	errors = VALGRIND_COUNT_ERRORS - before;
	printf("kem errors: %u\n", errors);
	printf("shared secret %s\n",
	    VALGRIND_CHECK_MEM_IS_DEFINED(ss, sizeof(ss)) != 0 ? "undefined"
	                                                       : "defined");
	return 0;
}
