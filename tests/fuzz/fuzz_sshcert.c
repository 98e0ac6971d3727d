/*
 * fuzz_sshcert.c: libFuzzer target for the certificate parser. The first
 * byte picks a mode: a raw certificate blob, a text line, or a body that
 * the harness signs with a fixed CA key so the fuzzer reaches everything
 * after the signature check (authority, source-address, principals).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "tests/unit/cert_fixtures.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sshkey *ca;
static struct buf *ca_blob;

static void
init(void)
{
	crypto_init();
	log_set_handler(fuzz_quiet, NULL);
	if (sshkey_parse_private((const uint8_t *)fx_u_ed_priv,
	        strlen(fx_u_ed_priv), &ca) != 0 ||
	    (ca_blob = buf_new(0)) == NULL || sshkey_to_blob(ca, ca_blob) != 0)
		abort();
}

/* Use every accessor of a parsed certificate; nothing may crash. */
static void
exercise(const struct sshcert *c)
{
	const char *reason;
	size_t i;
	int r;

	char fp[SSHKEY_FP_LEN];

	if ((c->key == NULL) == (c->sk_key == NULL) ||
	    (c->ca_key == NULL) == (c->ca_sk == NULL) ||
	    c->ca_sig_alg == NULL || c->key_id == NULL || c->blob == NULL)
		abort();
	if (sshcert_ca_fingerprint(c, fp, sizeof(fp)) != 0 ||
	    sshcert_ca_type_short(c) == NULL || sshcert_ca_type_name(c) == NULL)
		abort();
	for (i = 0; i < c->nprincipals; i++)
		if (c->principals[i] == NULL)
			abort();
	(void)sshcert_check_ca_sig_alg(c, NULL);
	(void)sshcert_alg_ok(c, "rsa-sha2-512-cert-v01@openssh.com");
	(void)sshcert_alg_ok(c, c->type_name);
	r = sshcert_check_user(c, "alice", 1767225600, &reason);
	if ((r == 0) != (reason == NULL))
		abort();
	(void)sshcert_check_user(c, NULL, 0, &reason);
	(void)sshcert_check_source(c, "192.0.2.1");
	(void)sshcert_check_source(c, "2001:db8::1");
	(void)sshcert_principal_in_list(c, "alice,bob,");
	(void)sshcert_has_principal(c, "root");
}

/* Append the CA key and a signature to body, then parse. */
static void
signed_body(const uint8_t *body, size_t len)
{
	struct buf *b = buf_new(128 * 1024);
	struct sshcert *c = NULL;

	if (b == NULL)
		abort();
	if (buf_put(b, body, len) == 0 && buf_put_stringb(b, ca_blob) == 0) {
		struct buf *sig = buf_new(0);

		if (sig == NULL ||
		    sshkey_sign(ca, sig, buf_ptr(b), buf_len(b), NULL) != 0)
			abort();
		if (buf_put_stringb(b, sig) == 0 &&
		    sshcert_from_blob(buf_ptr(b), buf_len(b), &c) == 0)
			exercise(c);
		buf_free(sig);
	}
	sshcert_free(c);
	buf_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert *c = NULL;
	char *text;

	if (ca == NULL)
		init();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (sshcert_from_blob(data + 1, size - 1, &c) == 0)
			exercise(c);
		break;
	case 1:
		if ((text = malloc(size)) == NULL)
			abort();
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (sshcert_parse_text(text, &c, NULL) == 0)
			exercise(c);
		free(text);
		break;
	default:
		signed_body(data + 1, size - 1);
		break;
	}
	sshcert_free(c);
	return 0;
}
