/*
 * fuzz_krl.c: libFuzzer target for RevokedKeys parsing (binary KRLs and
 * text lists) and for checking keys and certificates against the result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "krl.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "tests/unit/cert_fixtures.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sshkey *keys[FX_NKEYS];
static struct sshcert *certs[FX_NCERTS];
static int ready;

static void
init(void)
{
	size_t i;

	crypto_init();
	log_set_handler(fuzz_quiet, NULL);
	for (i = 0; i < FX_NKEYS; i++)
		if (sshkey_parse_public_text(fx_keys[i].text, &keys[i], NULL) !=
		    0)
			abort();
	for (i = 0; i < FX_NCERTS; i++)
		if (sshcert_parse_text(fx_certs[i].text, &certs[i], NULL) != 0)
			abort();
	ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct krl *krl = NULL;
	size_t i;
	int r;

	if (!ready)
		init();
	if (krl_from_bytes(data, size, &krl) != 0) {
		if (krl != NULL)
			abort();
		return 0;
	}
	for (i = 0; i < FX_NKEYS; i++) {
		r = krl_check_key(krl, keys[i], NULL);
		if (r != 0 && r != ERR_PERM)
			abort();
	}
	for (i = 0; i < FX_NCERTS; i++) {
		r = krl_check_key(krl, NULL, certs[i]);
		if (r != 0 && r != ERR_PERM)
			abort();
	}
	krl_free(krl);
	return 0;
}
