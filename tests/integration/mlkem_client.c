/*
 * mlkem_client.c: the client's half of ML-KEM-768 for
 * test_kex_hostile.py's mlkem768x25519-sha256 exchange, which computes
 * everything else (X25519, K, the exchange hash, the signature check)
 * in Python. The KEM itself is lib/mlkem768.c, checked against the
 * published vectors in tests/unit/test_pqkem.c.
 *
 *   mlkem_client keygen          prints ek and dk in hex, a line each
 *   mlkem_client decaps DK CT    prints the shared secret in hex
 */
#include <stdio.h>
#include <string.h>

#include "mlkem768.h"

static void
put_hex(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static int
get_hex(const char *s, uint8_t *out, size_t len)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t ek[MLKEM768_EK_SIZE], dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	uint8_t ss[MLKEM768_SS_SIZE];

	if (argc == 2 && strcmp(argv[1], "keygen") == 0) {
		if (mlkem768_keypair(ek, dk) != 0)
			return 1;
		put_hex(ek, sizeof(ek));
		put_hex(dk, sizeof(dk));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "decaps") == 0) {
		if (get_hex(argv[2], dk, sizeof(dk)) != 0 ||
		    get_hex(argv[3], ct, sizeof(ct)) != 0 ||
		    mlkem768_decaps(ss, ct, dk) != 0)
			return 1;
		put_hex(ss, sizeof(ss));
		return 0;
	}
	fprintf(stderr, "usage: mlkem_client keygen | decaps DK CT\n");
	return 2;
}
