/*
 * test_fail_delay.c: the secret behind the per-user minimum failure time
 * (monitor/auth_fail_delay.c) is a hash of the host private keys: the
 * same for the same keys, different for other keys, random without a
 * private key, and not a hash of any signature the monitor makes for
 * preauth (an exchange hash is any 20, 32, 48 or 64 bytes preauth
 * chooses; the first version hashed a signature over a 32-byte label).
 */
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "monitor/auth_fail_delay.c"
#include "sshkey.h"
#include "t.h"

/* The timing key of a fresh context over these host keys. */
static void
key_of(const struct hostkeys *hk, uint8_t out[32])
{
	struct authctxt a;

	memset(&a, 0, sizeof(a));
	auth_set_hostkeys(&a, hk);
	timing_key(&a);
	memcpy(out, a.timing_key, 32);
}

/* 1 if SHA-512 of key's signature over data starts with want. */
static int
signature_gives(const struct sshkey *key, const char *alg, const void *data,
    size_t len, const uint8_t want[32])
{
	struct buf *sig = buf_new(16384);
	uint8_t md[64];
	int same = 0;

	if (sig != NULL &&
	    sshkey_sign(key, sig, (const uint8_t *)data, len, alg) == 0 &&
	    digest_memory(DIGEST_SHA512, buf_ptr(sig), buf_len(sig), md) == 0)
		same = memcmp(md, want, 32) == 0;
	buf_free(sig);
	return same;
}

int
main(void)
{
	static struct hostkeys hk, other, none;
	struct sshkey *ed = NULL, *rsa = NULL, *ed2 = NULL, *pub = NULL;
	struct buf *blob = buf_new(4096);
	static const char v1[] = "postern minimum failure time v1";
	static const char v2[] = "postern minimum failure time v2";
	uint8_t k1[32], k2[32], k3[32], r1[32], r2[32];

	T_CHECK("keys generated",
	    sshkey_generate(KEY_ED25519, 0, &ed) == 0 &&
	        sshkey_generate(KEY_RSA, 2048, &rsa) == 0 &&
	        sshkey_generate(KEY_ED25519, 0, &ed2) == 0 && blob != NULL);
	hk.pub[0].key = ed;
	hk.pub[1].key = rsa;
	hk.npub = 2;
	key_of(&hk, k1);
	key_of(&hk, k2);
	T_CHECK(
	    "the same host keys give the same secret", memcmp(k1, k2, 32) == 0);

	other.pub[0].key = ed2;
	other.pub[1].key = rsa;
	other.npub = 2;
	key_of(&other, k3);
	T_CHECK(
	    "another host key gives another secret", memcmp(k1, k3, 32) != 0);

	T_CHECK("no signature over the labels gives it",
	    !signature_gives(ed, "ssh-ed25519", v1, sizeof(v1), k1) &&
	        !signature_gives(ed, "ssh-ed25519", v2, sizeof(v2), k1) &&
	        !signature_gives(rsa, "rsa-sha2-512", v1, sizeof(v1), k1) &&
	        !signature_gives(rsa, "rsa-sha2-512", v2, sizeof(v2), k1));

	/* A public key only (HostKeyAgent's): a random secret each time. */
	T_CHECK("public key parsed",
	    sshkey_to_blob(ed, blob) == 0 &&
	        sshkey_from_blob(buf_ptr(blob), buf_len(blob), &pub) == 0 &&
	        !sshkey_is_private(pub));
	none.pub[0].key = pub;
	none.npub = 1;
	key_of(&none, r1);
	key_of(&none, r2);
	T_CHECK("without a private key: random, per context",
	    memcmp(r1, r2, 32) != 0 && memcmp(r1, k1, 32) != 0);

	sshkey_free(ed);
	sshkey_free(rsa);
	sshkey_free(ed2);
	sshkey_free(pub);
	buf_free(blob);
	return T_DONE();
}
