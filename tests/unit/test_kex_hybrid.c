/*
 * test_kex_hybrid.c: the post-quantum hybrid exchanges as OpenSSH defines
 * them, checked by playing the client with our own KEM code: the client
 * sends KEM public key || X25519 public key, the server answers ciphertext
 * || X25519 public key, and both must arrive at K = string(HASH(KEM
 * secret || X25519 secret)).
 */
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "mlkem768.h"
#include "sntrup761.h"
#include "t.h"
#include "transport_int.h"

struct kem {
	const char *name;
	size_t pklen, sklen, ctlen;
	int hash_alg;
	int (*keypair)(uint8_t *pk, uint8_t *sk);
	int (*decap)(uint8_t *ss, const uint8_t *ct, const uint8_t *sk);
};

static int
check_hybrid(const struct kem *k, const char *name)
{
	uint8_t pk[2048], sk[4096], xpub[32], xpriv[32], xss[32], kss[32];
	uint8_t both[64], want[DIGEST_MAX_LEN], qc[2048];
	struct buf *qs = buf_new(8192), *kbuf = buf_new(256), *wantb;
	const uint8_t *p;
	int alg = 0, ok;

	if (k->keypair(pk, sk) != 0 || x25519_keypair(xpub, xpriv) != 0)
		return 0;
	memcpy(qc, pk, k->pklen);
	memcpy(qc + k->pklen, xpub, 32);
	if (kex_server_compute(name, qc, k->pklen + 32, qs, kbuf, &alg) != 0)
		return 0;
	if (alg != k->hash_alg || buf_len(qs) != k->ctlen + 32)
		return 0;
	p = buf_ptr(qs);
	if (k->decap(kss, p, sk) != 0 ||
	    x25519_shared(xss, xpriv, p + k->ctlen) != 0)
		return 0;
	memcpy(both, kss, 32);
	memcpy(both + 32, xss, 32);
	digest_memory(alg, both, sizeof(both), want);
	wantb = buf_new(256);
	buf_put_string(wantb, want, digest_len(alg));
	ok = buf_len(wantb) == buf_len(kbuf) &&
	    memcmp(buf_ptr(wantb), buf_ptr(kbuf), buf_len(kbuf)) == 0;
	buf_free(wantb);
	buf_free(qs);
	buf_free(kbuf);
	return ok;
}

static int
reject_bad_length(const char *name)
{
	uint8_t qc[100] = {0};
	struct buf *qs = buf_new(8192), *kbuf = buf_new(256);
	int alg, r = kex_server_compute(name, qc, sizeof(qc), qs, kbuf, &alg);

	buf_free(qs);
	buf_free(kbuf);
	return r != 0;
}

int
main(void)
{
	const struct kem mlkem = {"mlkem768x25519-sha256", MLKEM768_EK_SIZE,
	    MLKEM768_DK_SIZE, MLKEM768_CT_SIZE, DIGEST_SHA256, mlkem768_keypair,
	    mlkem768_decaps};
	const struct kem sntrup = {"sntrup761x25519-sha512",
	    SNTRUP761_PUBLICKEY_SIZE, SNTRUP761_SECRETKEY_SIZE,
	    SNTRUP761_CIPHERTEXT_SIZE, DIGEST_SHA512, sntrup761_keypair,
	    sntrup761_dec};
	int i;

	crypto_init();
	for (i = 0; i < 5; i++) {
		T_CHECK("mlkem768x25519-sha256: client and server agree on K",
		    check_hybrid(&mlkem, "mlkem768x25519-sha256"));
		T_CHECK("sntrup761x25519-sha512: client and server agree on K",
		    check_hybrid(&sntrup, "sntrup761x25519-sha512"));
		T_CHECK("sntrup761x25519-sha512@openssh.com: same method",
		    check_hybrid(
		        &sntrup, "sntrup761x25519-sha512@openssh.com"));
	}
	T_CHECK("mlkem768x25519: wrong-length client value refused",
	    reject_bad_length("mlkem768x25519-sha256"));
	T_CHECK("sntrup761x25519: wrong-length client value refused",
	    reject_bad_length("sntrup761x25519-sha512"));
	T_CHECK("curve25519: wrong-length client value refused",
	    reject_bad_length("curve25519-sha256"));
	return T_DONE();
}
