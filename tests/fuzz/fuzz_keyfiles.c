/*
 * fuzz_keyfiles.c: libFuzzer target for the files behind host keys:
 * private key files (openssh-key-v1, PEM, PKCS#8) and moduli(5) files
 * with the group exchange's choice of a group. The first byte picks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "kexgex.h"
#include "log.h"
#include "sshkey.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sshkey *k = NULL;
	struct buf *p, *g;
	FILE *f;

	if (!ready) {
		crypto_init();
		log_set_handler(fuzz_quiet, NULL);
		ready = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (sshkey_parse_private(data + 1, size - 1, &k) == 0)
			sshkey_free(k);
		return 0;
	}
	if ((f = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	p = buf_new(KEXGEX_MAX_BITS / 8);
	g = buf_new(KEXGEX_MAX_BITS / 8);
	if (p != NULL && g != NULL)
		(void)kexgex_choose(f, 8, data[0] * 32u, 65536, p, g);
	fclose(f);
	buf_free(p);
	buf_free(g);
	return 0;
}
