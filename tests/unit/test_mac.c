/*
 * test_mac.c: the SSH MACs (RFC 4231 HMAC vectors through the SSH shape:
 * the first four message bytes are the sequence number), constant-time
 * verification, and AES-CTR (RFC 3686 / SP 800-38A F.5.1) as the packet
 * cipher runs it: one counter across calls, a length field left in clear.
 */
#include <stdio.h>
#include <string.h>

#include "cipher.h"
#include "err.h"
#include "mac.h"
#include "tests/unit/t.h"

static void
test_table(void)
{
	const struct mac_alg *m;

	m = mac_by_name("hmac-sha2-256-etm@openssh.com");
	T_CHECK("hmac-sha2-256-etm params",
	    m != NULL && m->key_len == 32 && m->tag_len == 32 && m->etm);
	m = mac_by_name("umac-64@openssh.com");
	T_CHECK("umac-64 params",
	    m != NULL && m->key_len == 16 && m->tag_len == 8 && !m->etm);
	m = mac_by_name("umac-128-etm@openssh.com");
	T_CHECK("umac-128-etm params",
	    m != NULL && m->key_len == 16 && m->tag_len == 16 && m->etm);
	T_CHECK("no md5", mac_by_name("hmac-md5") == NULL);
	T_CHECK("no NULL", mac_by_name(NULL) == NULL);
}

/* RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?". */
static void
test_hmac(void)
{
	static const char *want256 = "5bdcc146bf60754e6a042426089575c7"
	                             "5a003f089d2739839dec58b964ec3843";
	static const char *want512 =
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
	/* "what" is the sequence number; HMAC zero-pads a short key. */
	const uint32_t seq = 0x77686174;
	const char *rest = " do ya want for nothing?";
	uint8_t key[64], tag[64], want[64];
	struct mac_ctx *c = NULL;

	memset(key, 0, sizeof(key));
	memcpy(key, "Jefe", 4);
	T_CHECK("hmac-sha2-256 init",
	    mac_init(&c, mac_by_name("hmac-sha2-256"), key) == 0);
	t_hex(want256, want, sizeof(want));
	T_CHECK("hmac-sha2-256 RFC 4231 #2",
	    mac_compute(c, seq, (const uint8_t *)rest, strlen(rest), tag) ==
	            0 &&
	        memcmp(tag, want, 32) == 0);
	/* Computing again reuses the key (the context is re-initialised). */
	T_CHECK("hmac-sha2-256 again",
	    mac_compute(c, seq, (const uint8_t *)rest, strlen(rest), tag) ==
	            0 &&
	        memcmp(tag, want, 32) == 0);
	T_CHECK("verify good",
	    mac_verify(c, seq, (const uint8_t *)rest, strlen(rest), want) == 0);
	want[31] ^= 1;
	T_CHECK("verify bad tag",
	    mac_verify(c, seq, (const uint8_t *)rest, strlen(rest), want) ==
	        ERR_MAC);
	want[31] ^= 1;
	T_CHECK("verify other seqnr",
	    mac_verify(c, seq + 1, (const uint8_t *)rest, strlen(rest), want) ==
	        ERR_MAC);
	mac_free(c);
	T_CHECK("hmac-sha2-512-etm init",
	    mac_init(&c, mac_by_name("hmac-sha2-512-etm@openssh.com"), key) ==
	        0);
	t_hex(want512, want, sizeof(want));
	T_CHECK("hmac-sha2-512 RFC 4231 #2",
	    mac_compute(c, seq, (const uint8_t *)rest, strlen(rest), tag) ==
	            0 &&
	        memcmp(tag, want, 64) == 0);
	mac_free(c);
}

/* UMAC through mac.c: the nonce is the sequence number as a uint64. */
static void
test_umac_nonce(void)
{
	uint8_t key[16], t1[16], t2[16];
	struct mac_ctx *c = NULL;

	memset(key, 7, sizeof(key));
	T_CHECK("umac-64 init",
	    mac_init(&c, mac_by_name("umac-64@openssh.com"), key) == 0);
	T_CHECK("umac-64 seqnr matters",
	    mac_compute(c, 4, (const uint8_t *)"abc", 3, t1) == 0 &&
	        mac_compute(c, 5, (const uint8_t *)"abc", 3, t2) == 0 &&
	        memcmp(t1, t2, 8) != 0);
	T_CHECK("umac-64 verify",
	    mac_verify(c, 4, (const uint8_t *)"abc", 3, t1) == 0 &&
	        mac_verify(c, 5, (const uint8_t *)"abc", 3, t1) == ERR_MAC);
	mac_free(c);
}

/* SP 800-38A F.5.1 (AES-128-CTR), split over calls like packets. */
static void
test_ctr(void)
{
	static const char *key_hex = "2b7e151628aed2a6abf7158809cf4f3c";
	static const char *iv_hex = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	static const char *pt_hex = "6bc1bee22e409f96e93d7e117393172a"
	                            "ae2d8a571e03ac9c9eb76fac45af8e51"
	                            "30c81c46a35ce411e5fbc1191a0a52ef";
	static const char *ct_hex = "874d6191b620e3261bef6864990db6ce"
	                            "9806f66b7970fdff8617187bb9fffdff"
	                            "5ae4df3edbd5d35e5b4f09020db03eab";
	uint8_t key[16], iv[16], buf[4 + 48], ct[48];
	struct cipher_ctx *c = NULL;

	t_hex(key_hex, key, sizeof(key));
	t_hex(iv_hex, iv, sizeof(iv));
	t_hex(ct_hex, ct, sizeof(ct));
	memcpy(buf, "LEN!", 4);
	t_hex(pt_hex, buf + 4, 48);
	T_CHECK("aes128-ctr init",
	    cipher_init(&c, cipher_by_name("aes128-ctr"), key, iv, 1) == 0);
	/* One block with no AAD, then two with the 4 bytes in clear. */
	T_CHECK("aes128-ctr block 1",
	    cipher_crypt(c, 0, buf + 4, buf + 4, 16, 0, 0) == 0 &&
	        memcmp(buf + 4, ct, 16) == 0);
	memcpy(buf + 16, "LEN!", 4);
	T_CHECK("aes128-ctr blocks 2-3, length in clear",
	    cipher_crypt(c, 1, buf + 16, buf + 16, 32, 4, 0) == 0 &&
	        memcmp(buf + 16, "LEN!", 4) == 0 &&
	        memcmp(buf + 20, ct + 16, 32) == 0);
	T_CHECK("aes128-ctr refuses a partial block",
	    cipher_crypt(c, 2, buf, buf, 15, 0, 0) == ERR_INTERNAL);
	cipher_free(c);
}

int
main(void)
{
	test_table();
	test_hmac();
	test_umac_nonce();
	test_ctr();
	return T_DONE();
}
