/*
 * test_crypto.c: known-answer and tamper tests for lib/crypto.c and
 * lib/cipher.c, plus the OpenSSL calling conventions cipher.c relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cipher.h"
#include "crypto.h"
#include "err.h"
#include "t.h"

#define MAXBUF 512

static int
hex_eq(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[MAXBUF];
	size_t n = t_hex(hex, want, sizeof(want));

	return n == len && memcmp(got, want, len) == 0;
}

/* ---- hashes, randomness ---- */

static void
test_digest(void)
{
	uint8_t out[DIGEST_MAX_LEN];
	struct digest_ctx *d;
	uint8_t *big;

	T_CHECK("digest_len sha1", digest_len(DIGEST_SHA1) == 20);
	T_CHECK("digest_len sha256", digest_len(DIGEST_SHA256) == 32);
	T_CHECK("digest_len sha384", digest_len(DIGEST_SHA384) == 48);
	T_CHECK("digest_len sha512", digest_len(DIGEST_SHA512) == 64);
	T_CHECK("digest_len unknown", digest_len(99) == 0);
	T_CHECK("digest_memory unknown",
	    digest_memory(99, "abc", 3, out) == ERR_INTERNAL);
	T_CHECK("digest_start unknown", digest_start(0) == NULL);

	T_CHECK("sha256 abc",
	    digest_memory(DIGEST_SHA256, "abc", 3, out) == 0 &&
	        hex_eq(out, 32,
	            "ba7816bf8f01cfea414140de5dae2223"
	            "b00361a396177a9cb410ff61f20015ad"));
	T_CHECK("sha1 abc",
	    digest_memory(DIGEST_SHA1, "abc", 3, out) == 0 &&
	        hex_eq(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"));
	T_CHECK("sha384 abc",
	    digest_memory(DIGEST_SHA384, "abc", 3, out) == 0 &&
	        hex_eq(out, 48,
	            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
	            "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"));
	T_CHECK("sha512 abc",
	    digest_memory(DIGEST_SHA512, "abc", 3, out) == 0 &&
	        hex_eq(out, 64,
	            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea2"
	            "0a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
	            "454d4423643ce80e2a9ac94fa54ca49f"));
	T_CHECK("sha256 empty",
	    digest_memory(DIGEST_SHA256, NULL, 0, out) == 0 &&
	        hex_eq(out, 32,
	            "e3b0c44298fc1c149afbf4c8996fb924"
	            "27ae41e4649b934ca495991b7852b855"));

	d = digest_start(DIGEST_SHA256);
	T_CHECK("sha256 incremental start", d != NULL);
	T_CHECK("sha256 incremental abc",
	    d != NULL && digest_update(d, "a", 1) == 0 &&
	        digest_update(d, "", 0) == 0 &&
	        digest_update(d, "bc", 2) == 0 && digest_final(d, out) == 0 &&
	        hex_eq(out, 32,
	            "ba7816bf8f01cfea414140de5dae2223"
	            "b00361a396177a9cb410ff61f20015ad"));

	/* One million 'a' in uneven chunks. */
	big = malloc(1000000);
	T_CHECK("sha256 million a alloc", big != NULL);
	if (big != NULL) {
		size_t off = 0, step = 1;
		int ok = 1;

		memset(big, 'a', 1000000);
		d = digest_start(DIGEST_SHA256);
		while (d != NULL && off < 1000000) {
			if (step > 1000000 - off)
				step = 1000000 - off;
			ok &= digest_update(d, big + off, step) == 0;
			off += step;
			step = step * 3 + 1;
		}
		T_CHECK("sha256 million a",
		    d != NULL && ok && digest_final(d, out) == 0 &&
		        hex_eq(out, 32,
		            "cdc76e5c9914fb9281a1c7e284d73e67"
		            "f1809a48a497200e046d39ccc7112cd0"));
		free(big);
	}
	d = digest_start(DIGEST_SHA512);
	digest_free(d); /* abandoned without final: no leak */
	digest_free(NULL);
}

static void
test_random(void)
{
	uint8_t a[64], b[64], zero[64];
	unsigned seen[7];
	uint32_t v;
	int i, ok = 1;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	T_CHECK("random_bytes fills", memcmp(a, zero, sizeof(a)) != 0);
	T_CHECK("random_bytes differs", memcmp(a, b, sizeof(a)) != 0);
	random_bytes(a, 0);

	T_CHECK("random_uniform 0", random_uniform(0) == 0);
	T_CHECK("random_uniform 1", random_uniform(1) == 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 7000; i++) {
		v = random_uniform(7);
		if (v >= 7)
			ok = 0;
		else
			seen[v]++;
	}
	T_CHECK("random_uniform 7 in range", ok);
	/* Loose: each bucket expects 1000; a failure here is ~1e-30. */
	for (i = 0; i < 7; i++)
		ok &= seen[i] > 700 && seen[i] < 1300;
	T_CHECK("random_uniform 7 covers all values", ok);
	ok = 1;
	for (i = 0; i < 1000; i++)
		ok &= random_uniform(0x80000001U) <= 0x80000000U;
	T_CHECK("random_uniform 2^31+1 in range", ok);
	ok = 1;
	for (i = 0; i < 1000; i++)
		ok &= random_uniform(UINT32_MAX) < UINT32_MAX;
	T_CHECK("random_uniform UINT32_MAX in range", ok);
}

/* ---- X25519 (RFC 7748) ---- */

static void
test_x25519(void)
{
	uint8_t k[32], u[32], out[32], prev[32], base[32];
	uint8_t apriv[32], bpriv[32], apub[32], bpub[32], ka[32], kb[32];
	uint8_t low[32];
	int i, ok = 1;

	/* Section 5.2, single calls. */
	t_hex(
	    "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    k, 32);
	t_hex(
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    u, 32);
	T_CHECK("x25519 rfc7748 5.2 vector 1",
	    x25519_shared(out, k, u) == 0 &&
	        hex_eq(out, 32,
	            "c3da55379de9c6908e94ea4df28d084f"
	            "32eccf03491c71f754b4075577a28552"));
	t_hex(
	    "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    k, 32);
	t_hex(
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    u, 32);
	T_CHECK("x25519 rfc7748 5.2 vector 2 (high bit of u masked)",
	    x25519_shared(out, k, u) == 0 &&
	        hex_eq(out, 32,
	            "95cbde9476e8907d7aade45cb4b873f8"
	            "8b595a68799fa152e6f8f7647aac7957"));

	/* Section 5.2, iterated: k, u = X25519(k, u), k. */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 0; i < 1000 && ok; i++) {
		memcpy(prev, k, 32);
		ok = x25519_shared(out, k, u) == 0;
		memcpy(k, out, 32);
		memcpy(u, prev, 32);
		if (i == 0)
			T_CHECK("x25519 rfc7748 5.2 after 1 iteration",
			    ok &&
			        hex_eq(k, 32,
			            "422c8e7a6227d7bca1350b3e2bb7279f"
			            "7897b87bb6854b783c60e80311ae3079"));
	}
	T_CHECK("x25519 rfc7748 5.2 after 1000 iterations",
	    ok &&
	        hex_eq(k, 32,
	            "684cf59ba83309552800ef566f2f4d3c"
	            "1c3887c49360e3875f2eb94d99532c51"));

	/* Section 6.1: public keys from the base point, then both shares. */
	memset(base, 0, 32);
	base[0] = 9;
	t_hex(
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    apriv, 32);
	t_hex(
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    bpriv, 32);
	T_CHECK("x25519 rfc7748 6.1 alice public",
	    x25519_shared(apub, apriv, base) == 0 &&
	        hex_eq(apub, 32,
	            "8520f0098930a754748b7ddcb43ef75a"
	            "0dbf3a0d26381af4eba4a98eaa9b4e6a"));
	T_CHECK("x25519 rfc7748 6.1 bob public",
	    x25519_shared(bpub, bpriv, base) == 0 &&
	        hex_eq(bpub, 32,
	            "de9edb7d7b7dc1b4d35b61c2ece43537"
	            "3f8343c85b78674dadfc7e146f882b4f"));
	T_CHECK("x25519 rfc7748 6.1 alice shared",
	    x25519_shared(ka, apriv, bpub) == 0 &&
	        hex_eq(ka, 32,
	            "4a5d9d5ba4ce2de1728e3bf480350f25"
	            "e07e21c947d19e3376f09b3c1e161742"));
	T_CHECK("x25519 rfc7748 6.1 bob shared",
	    x25519_shared(kb, bpriv, apub) == 0 && memcmp(ka, kb, 32) == 0);

	/* Fresh key pairs agree; the public key matches priv * 9. */
	T_CHECK("x25519 keypair a", x25519_keypair(apub, apriv) == 0);
	T_CHECK("x25519 keypair b", x25519_keypair(bpub, bpriv) == 0);
	T_CHECK("x25519 keypair public is priv*base",
	    x25519_shared(out, apriv, base) == 0 && memcmp(out, apub, 32) == 0);
	T_CHECK("x25519 keypair agreement",
	    x25519_shared(ka, apriv, bpub) == 0 &&
	        x25519_shared(kb, bpriv, apub) == 0 && memcmp(ka, kb, 32) == 0);
	T_CHECK("x25519 keypairs differ", memcmp(apriv, bpriv, 32) != 0);

	/* Small-order points give the all-zero secret: refused, out wiped. */
	memset(low, 0, 32);
	memset(out, 0xaa, 32);
	T_CHECK(
	    "x25519 rejects u=0", x25519_shared(out, apriv, low) == ERR_CRYPTO);
	memset(prev, 0, 32);
	T_CHECK("x25519 rejected output wiped", memcmp(out, prev, 32) == 0);
	low[0] = 1;
	T_CHECK(
	    "x25519 rejects u=1", x25519_shared(out, apriv, low) == ERR_CRYPTO);
	/* An order-8 point (RFC 7748 implementations' usual test input). */
	t_hex(
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    low, 32);
	T_CHECK("x25519 rejects order-8 point",
	    x25519_shared(out, apriv, low) == ERR_CRYPTO);
	/* p itself reduces to 0. */
	t_hex(
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    low, 32);
	T_CHECK(
	    "x25519 rejects u=p", x25519_shared(out, apriv, low) == ERR_CRYPTO);
}

/* ---- ChaCha20 and Poly1305 through EVP as cipher.c calls them ---- */

static const char sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only "
    "one tip for the future, sunscreen would be it.";

/* OpenSSL's 16-byte IV: block counter (32-bit LE) || 96-bit nonce. */
static int
evp_chacha(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in,
    size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0, ok;

	ok = c != NULL &&
	    EVP_CipherInit_ex(c, EVP_chacha20(), NULL, key, NULL, 1) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) == 1 &&
	    EVP_CipherUpdate(c, out, &outl, in, (int)len) == 1 &&
	    (size_t)outl == len;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

static int
evp_poly1305(
    const uint8_t key[32], const uint8_t *in, size_t len, uint8_t tag[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *m = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	size_t outl = 0;
	int ok;

	ok = m != NULL && EVP_MAC_init(m, key, 32, NULL) == 1 &&
	    EVP_MAC_update(m, in, len) == 1 &&
	    EVP_MAC_final(m, tag, &outl, 16) == 1 && outl == 16;
	EVP_MAC_CTX_free(m);
	EVP_MAC_free(mac);
	return ok;
}

static void
test_rfc8439(void)
{
	uint8_t key[32], iv[16], out[MAXBUF], tag[16], otk[32], zero[32];
	uint8_t mac_data[MAXBUF], aad[12];
	size_t len = strlen(sunscreen), n, i;

	/* 2.4.2: counter 1, nonce 00:00:00:00:00:00:00:4a:00:00:00:00. */
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	t_hex("01000000"
	      "000000000000004a00000000",
	    iv, 16);
	T_CHECK("chacha20 rfc8439 2.4.2",
	    evp_chacha(key, iv, (const uint8_t *)sunscreen, len, out) &&
	        hex_eq(out, len,
	            "6e2e359a2568f98041ba0728dd0d6981"
	            "e97e7aec1d4360c20a27afccfd9fae0b"
	            "f91b65c5524733ab8f593dabcd62b357"
	            "1639d624e65152ab8f530c359f0861d8"
	            "07ca0dbf500d6a6156a38e088a22b65e"
	            "52bc514d16ccf806818ce91ab7793736"
	            "5af90bbf74a35be6b40b8eedf2785e42"
	            "874d"));

	/* 2.5.2 */
	t_hex("85d6be7857556d337f4452fe42d506a8"
	      "0103808afb0db2fd4abff6af4149f51b",
	    key, 32);
	T_CHECK("poly1305 rfc8439 2.5.2",
	    evp_poly1305(key,
	        (const uint8_t *)"Cryptographic Forum Research Group", 34,
	        tag) &&
	        hex_eq(tag, 16, "a8061dc1305136c6c22b8baf0c0127a9"));

	/*
	 * 2.8.2 composed from the two primitives the way cipher.c derives its
	 * Poly1305 key: keystream block 0 gives the one-time key, the text is
	 * encrypted from block 1.
	 */
	t_hex("808182838485868788898a8b8c8d8e8f"
	      "909192939495969798999a9b9c9d9e9f",
	    key, 32);
	t_hex("50515253c0c1c2c3c4c5c6c7", aad, 12);
	memset(zero, 0, sizeof(zero));
	t_hex("00000000"
	      "070000004041424344454647",
	    iv, 16);
	T_CHECK("chacha20 rfc8439 2.8.2 one-time key (2.6 construction)",
	    evp_chacha(key, iv, zero, 32, otk) &&
	        hex_eq(otk, 32,
	            "7bac2b252db447af09b67a55a4e95584"
	            "0ae1d6731075d9eb2a9375783ed553ff"));
	iv[0] = 1;
	T_CHECK("chacha20 rfc8439 2.8.2 ciphertext",
	    evp_chacha(key, iv, (const uint8_t *)sunscreen, len, out) &&
	        hex_eq(out, len,
	            "d31a8d34648e60db7b86afbc53ef7ec2"
	            "a4aded51296e08fea9e2b5a736ee62d6"
	            "3dbea45e8ca9671282fafb69da92728b"
	            "1a71de0a9e060b2905d6a5b67ecd3b36"
	            "92ddbd7f2d778b8c9803aee328091b58"
	            "fab324e4fad675945585808b4831d7bc"
	            "3ff4def08e4b7a9de576d26586cec64b"
	            "6116"));
	/* mac_data = aad | pad16 | ciphertext | pad16 | le64(12) | le64(114) */
	memset(mac_data, 0, sizeof(mac_data));
	memcpy(mac_data, aad, 12);
	memcpy(mac_data + 16, out, len);
	n = 16 + (len + 15) / 16 * 16;
	mac_data[n] = 12;
	mac_data[n + 8] = (uint8_t)len;
	n += 16;
	T_CHECK("poly1305 rfc8439 2.8.2 tag",
	    evp_poly1305(otk, mac_data, n, tag) &&
	        hex_eq(tag, 16, "1ae10b594f09e26a7e902ecbd0600691"));
}

/* ---- chacha20-poly1305@openssh.com ---- */

/*
 * Known answers computed independently with a pure-Python ChaCha20 (original
 * 64-bit counter/nonce layout) and Poly1305, checked against RFC 8439.
 * Key: bytes 00..3f (K_2 = 00..1f, K_1 = 20..3f).
 */
#define CP_PLAIN1                                                              \
	"000000200c706f737465726e206368616368612074657374a0a1a2a3a4a5a6a7"     \
	"a8a9aaab"
#define CP_SEALED1_SEQ7                                                        \
	"a39afc8a24367a303ae658304c0ed391b4e7b20c40d74342de429f20e4cfbd78"     \
	"28faa9ffb4ca3045c53a956721ce38b5db86fd81"
#define CP_SEALED2_SEQ_FFFFFFFE                                                \
	"69a614503179568dc63baa16d6c606a72e4e696af962e2acd9de19cc4ced84db"     \
	"49c7b56138363fae89a5447d38c8e14fefd2a51946c81494776066f634c91d3b"     \
	"004d27e3b2842ddaa6aefb3f63bece0703bd0b23431dbcede52812893bbfc4c2"     \
	"c4bfca7b686b11991d6d8292fb6900c485b9dbbc36e10a6475865b725f48da71"     \
	"9323110b6739865fe3917e0831de23e5c0bff62becebbf63000a1434aa1d386d"     \
	"ffa309847c7b60a57a93b3ca"

static void
cp_plain2(uint8_t *p)
{
	size_t i;

	/* length 152 | padlen 6 | 145 bytes (7i+3) | 6 zero bytes */
	memset(p, 0, 4 + 152);
	p[3] = 152;
	p[4] = 6;
	for (i = 0; i < 145; i++)
		p[5 + i] = (uint8_t)(i * 7 + 3);
}

static void
test_cipher_table(void)
{
	const struct cipher_alg *a;

	T_CHECK("cipher_supported_list",
	    strcmp(cipher_supported_list(),
	        "aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
	        "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com") == 0);
	a = cipher_by_name("chacha20-poly1305@openssh.com");
	T_CHECK("cipher chacha params",
	    a != NULL && a->key_len == 64 && a->iv_len == 0 &&
	        a->block_size == 8 && a->tag_len == 16 && a->aead == 1);
	a = cipher_by_name("aes128-gcm@openssh.com");
	T_CHECK("cipher aes128-gcm params",
	    a != NULL && a->key_len == 16 && a->iv_len == 12 &&
	        a->block_size == 16 && a->tag_len == 16 && a->aead == 1);
	a = cipher_by_name("aes256-gcm@openssh.com");
	T_CHECK("cipher aes256-gcm params",
	    a != NULL && a->key_len == 32 && a->iv_len == 12 &&
	        a->block_size == 16 && a->tag_len == 16 && a->aead == 1);
	a = cipher_by_name("aes192-ctr");
	T_CHECK("cipher aes192-ctr params",
	    a != NULL && a->key_len == 24 && a->iv_len == 16 &&
	        a->block_size == 16 && a->tag_len == 0 && a->aead == 0);
	T_CHECK("cipher unknown", cipher_by_name("aes128-cbc") == NULL);
	T_CHECK("cipher NULL name", cipher_by_name(NULL) == NULL);
	T_CHECK("cipher case-sensitive",
	    cipher_by_name("AES128-GCM@openssh.com") == NULL);
}

static void
test_chachapoly(void)
{
	const struct cipher_alg *alg =
	    cipher_by_name("chacha20-poly1305@openssh.com");
	struct cipher_ctx *enc = NULL, *dec = NULL, *bad = NULL;
	uint8_t key[64], plain[MAXBUF], pkt[MAXBUF], copy[MAXBUF];
	uint8_t other[MAXBUF];
	struct cipher_alg fake;
	uint32_t plen;
	size_t i, total;
	int r;

	for (i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	T_CHECK(
	    "chachapoly init enc", cipher_init(&enc, alg, key, NULL, 1) == 0);
	T_CHECK(
	    "chachapoly init dec", cipher_init(&dec, alg, key, NULL, 0) == 0);
	if (enc == NULL || dec == NULL)
		goto out;

	/* Known answer, in place. */
	t_hex(CP_PLAIN1, plain, sizeof(plain));
	memcpy(pkt, plain, 36);
	T_CHECK("chachapoly encrypt kat seq 7",
	    cipher_crypt(enc, 7, pkt, pkt, 32, 4, 16) == 0 &&
	        hex_eq(pkt, 52, CP_SEALED1_SEQ7));
	T_CHECK("chachapoly get_length kat",
	    cipher_get_length(dec, &plen, 7, pkt, 52) == 0 && plen == 32);
	T_CHECK("chachapoly get_length leaves input",
	    hex_eq(pkt, 52, CP_SEALED1_SEQ7));
	T_CHECK("chachapoly get_length short",
	    cipher_get_length(dec, &plen, 7, pkt, 3) == ERR_SHORT);
	T_CHECK("chachapoly decrypt kat",
	    cipher_crypt(dec, 7, pkt, pkt, 32, 4, 16) == 0 &&
	        memcmp(pkt, plain, 36) == 0);

	/* Multi-block packet, high sequence number, separate dst. */
	cp_plain2(plain);
	T_CHECK("chachapoly encrypt kat 2 (dst != src)",
	    cipher_crypt(enc, 0xfffffffeU, pkt, plain, 152, 4, 16) == 0 &&
	        hex_eq(pkt, 172, CP_SEALED2_SEQ_FFFFFFFE));
	memset(copy, 0, sizeof(copy));
	T_CHECK("chachapoly decrypt kat 2 (dst != src)",
	    cipher_crypt(dec, 0xfffffffeU, copy, pkt, 152, 4, 16) == 0 &&
	        memcmp(copy, plain, 156) == 0);

	/* Round trips over many sizes and sequence numbers. */
	r = 1;
	for (i = 0; i <= 256; i += 8) {
		uint32_t seq = (uint32_t)(i * 0x01010101U);

		random_bytes(plain, 4 + i);
		plain[0] = plain[1] = 0;
		plain[2] = (uint8_t)(i >> 8);
		plain[3] = (uint8_t)i;
		memcpy(pkt, plain, 4 + i);
		r &= cipher_crypt(enc, seq, pkt, pkt, i, 4, 16) == 0;
		r &= i < 8 || memcmp(pkt + 4, plain + 4, i) != 0;
		r &= cipher_get_length(dec, &plen, seq, pkt, 4) == 0 &&
		    plen == i;
		r &= cipher_crypt(dec, seq, pkt, pkt, i, 4, 16) == 0;
		r &= memcmp(pkt, plain, 4 + i) == 0;
	}
	T_CHECK("chachapoly round trips 0..256 bytes", r);

	/* Tampering: every bit of length, body and tag is covered. */
	cp_plain2(plain);
	memcpy(pkt, plain, 156);
	cipher_crypt(enc, 42, pkt, pkt, 152, 4, 16);
	total = 4 + 152 + 16;
	r = 1;
	for (i = 0; i < total * 8; i++) {
		memcpy(copy, pkt, total);
		copy[i / 8] ^= (uint8_t)(1 << (i % 8));
		memcpy(other, copy, total);
		r &= cipher_crypt(dec, 42, copy, copy, 152, 4, 16) == ERR_MAC;
		/* Verified before decrypting: nothing was touched. */
		r &= memcmp(copy, other, total) == 0;
	}
	T_CHECK("chachapoly any flipped bit gives ERR_MAC, input untouched", r);
	memcpy(copy, pkt, total);
	copy[0] ^= 0x80;
	T_CHECK("chachapoly flipped length bit",
	    cipher_crypt(dec, 42, copy, copy, 152, 4, 16) == ERR_MAC);
	memcpy(copy, pkt, total);
	copy[100] ^= 1;
	T_CHECK("chachapoly flipped body bit",
	    cipher_crypt(dec, 42, copy, copy, 152, 4, 16) == ERR_MAC);
	memcpy(copy, pkt, total);
	copy[total - 1] ^= 1;
	T_CHECK("chachapoly flipped tag bit",
	    cipher_crypt(dec, 42, copy, copy, 152, 4, 16) == ERR_MAC);
	memcpy(copy, pkt, total);
	T_CHECK("chachapoly wrong seqnr",
	    cipher_crypt(dec, 43, copy, copy, 152, 4, 16) == ERR_MAC &&
	        cipher_crypt(dec, 41, copy, copy, 152, 4, 16) == ERR_MAC);
	T_CHECK("chachapoly wrong seqnr decodes wrong length",
	    cipher_get_length(dec, &plen, 43, pkt, total) == 0 && plen != 152);
	T_CHECK("chachapoly right seqnr still works",
	    cipher_crypt(dec, 42, copy, copy, 152, 4, 16) == 0 &&
	        memcmp(copy, plain, 156) == 0);

	/*
	 * Another K_2 (first half) fails the tag; another K_1 (second half)
	 * authenticates but yields a different length field.
	 */
	key[0] ^= 1;
	memcpy(copy, pkt, total);
	T_CHECK("chachapoly other K_2 gives ERR_MAC",
	    cipher_init(&bad, alg, key, NULL, 0) == 0 &&
	        cipher_crypt(bad, 42, copy, copy, 152, 4, 16) == ERR_MAC);
	cipher_free(bad);
	bad = NULL;
	key[0] ^= 1;
	key[63] ^= 1;
	memcpy(copy, pkt, total);
	T_CHECK("chachapoly other K_1 decodes another length",
	    cipher_init(&bad, alg, key, NULL, 0) == 0 &&
	        cipher_get_length(bad, &plen, 42, copy, total) == 0 &&
	        plen != 152 &&
	        cipher_crypt(bad, 42, copy, copy, 152, 4, 16) == 0 &&
	        memcmp(copy, plain, 4) != 0 &&
	        memcmp(copy + 4, plain + 4, 152) == 0);
	cipher_free(bad);
	bad = NULL;

	/* Caller bugs. */
	T_CHECK("chachapoly len not a block multiple",
	    cipher_crypt(enc, 1, pkt, pkt, 12, 4, 16) == ERR_INTERNAL);
	T_CHECK("chachapoly wrong authlen",
	    cipher_crypt(enc, 1, pkt, pkt, 16, 4, 0) == ERR_INTERNAL);
	T_CHECK("chachapoly wrong aadlen",
	    cipher_crypt(enc, 1, pkt, pkt, 16, 0, 16) == ERR_INTERNAL);
	fake = *alg;
	T_CHECK("cipher_init alg not from table",
	    cipher_init(&bad, &fake, key, NULL, 1) == ERR_INTERNAL &&
	        bad == NULL);
	T_CHECK("cipher_init NULL alg",
	    cipher_init(&bad, NULL, key, NULL, 1) == ERR_INTERNAL);
out:
	cipher_free(enc);
	cipher_free(dec);
	cipher_free(NULL);
}

/* ---- AES-GCM ---- */

/*
 * The call sequence cipher.c uses: key once, then per message IV-only
 * re-init, AAD, body, final, tag.
 */
static int
evp_gcm(const EVP_CIPHER *type, int enc, const uint8_t *key,
    const uint8_t iv[12], const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t scratch[16];
	int outl, ok;

	ok = c != NULL &&
	    EVP_CipherInit_ex(c, type, NULL, key, NULL, enc) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) == 1 &&
	    (enc ||
	        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
	    EVP_CipherUpdate(c, NULL, &outl, aad, (int)aadlen) == 1 &&
	    EVP_CipherUpdate(c, out, &outl, in, (int)len) == 1 &&
	    (size_t)outl == len && EVP_CipherFinal_ex(c, scratch, &outl) == 1 &&
	    (!enc ||
	        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok;
}

#define GCM_TC_P                                                               \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_TC_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_TC_IV "cafebabefacedbaddecaf888"

static void
test_gcm_spec(void)
{
	uint8_t key[32], iv[12], p[64], a[20], out[64], back[64], tag[16];
	size_t plen = t_hex(GCM_TC_P, p, sizeof(p));

	t_hex(GCM_TC_A, a, sizeof(a));
	t_hex(GCM_TC_IV, iv, sizeof(iv));
	/* McGrew-Viega Test Case 4 (AES-128, 20-byte AAD, 60-byte text). */
	t_hex("feffe9928665731c6d6a8f9467308308", key, 16);
	T_CHECK("gcm spec test case 4",
	    evp_gcm(EVP_aes_128_gcm(), 1, key, iv, a, 20, p, plen, out, tag) &&
	        hex_eq(out, plen,
	            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e23"
	            "29aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
	            "3d58e091") &&
	        hex_eq(tag, 16, "5bc94fbc3221a5db94fae95ae7121a47"));
	T_CHECK("gcm spec test case 4 decrypt",
	    evp_gcm(
	        EVP_aes_128_gcm(), 0, key, iv, a, 20, out, plen, back, tag) &&
	        memcmp(back, p, plen) == 0);
	tag[5] ^= 0x10;
	T_CHECK("gcm spec test case 4 bad tag refused",
	    !evp_gcm(
	        EVP_aes_128_gcm(), 0, key, iv, a, 20, out, plen, back, tag));
	/* Test Case 16 (AES-256). */
	t_hex("feffe9928665731c6d6a8f9467308308"
	      "feffe9928665731c6d6a8f9467308308",
	    key, 32);
	T_CHECK("gcm spec test case 16",
	    evp_gcm(EVP_aes_256_gcm(), 1, key, iv, a, 20, p, plen, out, tag) &&
	        hex_eq(out, plen,
	            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
	            "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
	            "bcc9f662") &&
	        hex_eq(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b"));
	T_CHECK("gcm spec test case 16 decrypt",
	    evp_gcm(
	        EVP_aes_256_gcm(), 0, key, iv, a, 20, out, plen, back, tag) &&
	        memcmp(back, p, plen) == 0);
	a[0] ^= 1;
	T_CHECK("gcm spec test case 16 bad aad refused",
	    !evp_gcm(
	        EVP_aes_256_gcm(), 0, key, iv, a, 20, out, plen, back, tag));
}

/*
 * Known answers from Python's cryptography AESGCM (RFC 5647 packet layout:
 * 4-byte length as AAD, 32-byte body, tag). Fixed field a1a2a3a4.
 */
#define GCM_PKT_PLAIN                                                          \
	"000000200b706f737465726e206165732d67636d2074657374b0b1b2b3b4b5b6b7"   \
	"b8b9ba"
#define GCM128_CTR_FFFFFFFE                                                    \
	"0000002014374b8557f897d3cd96c420ced8ff55083e1b5626160b6c59550fdd"     \
	"5a2113a3c928a20df8187401f934e1ebba4ca86e"
#define GCM128_CTR_FFFFFFFF                                                    \
	"00000020f0c6397f73a046e471a00c8d675d99d8f9900b05d60b462ec87f952e"     \
	"c0a3eb6c0771ad74a8e79c9989a22b9a2d26d3c5"
#define GCM128_CTR_100000000                                                   \
	"0000002013b3738e065d3c59e1b1626b8569c1d504052695aef0f7d0a5999d02"     \
	"506f98c3ffaf83ba1243be96ea636bda76669dea"
#define GCM256_CTR_MAX                                                         \
	"0000002095569d3cf9fba1f034eb7c2f1b821f0b58510ca7118096d2acc5486c"     \
	"d485dd8b4eecc4ad5735a32bfc742fb424c7e6a9"
#define GCM256_CTR_0                                                           \
	"000000201ae01f6f3df819d195cb7a9bb801fcd0ef2a42a414e5b6fda306f940"     \
	"4123ab09ab1609ecc5a492bae8ffccc22db6c35e"

static void
test_gcm_packets(void)
{
	const struct cipher_alg *a128 =
	    cipher_by_name("aes128-gcm@openssh.com");
	const struct cipher_alg *a256 =
	    cipher_by_name("aes256-gcm@openssh.com");
	struct cipher_ctx *enc = NULL, *dec = NULL;
	uint8_t key[32], iv[12], plain[64], p1[64], p2[64], p3[64], copy[64];
	uint8_t zero[32];
	uint32_t plen;
	size_t i, total = 4 + 32 + 16;
	int r;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)(0x20 + i);
	t_hex("a1a2a3a4"
	      "00000000fffffffe",
	    iv, 12);
	t_hex(GCM_PKT_PLAIN, plain, sizeof(plain));
	T_CHECK("gcm128 init",
	    cipher_init(&enc, a128, key, iv, 1) == 0 &&
	        cipher_init(&dec, a128, key, iv, 0) == 0);
	if (enc == NULL || dec == NULL)
		goto out;
	memcpy(p1, plain, 36);
	memcpy(p2, plain, 36);
	memcpy(p3, plain, 36);
	T_CHECK("gcm128 packet 1 kat",
	    cipher_crypt(enc, 0, p1, p1, 32, 4, 16) == 0 &&
	        hex_eq(p1, total, GCM128_CTR_FFFFFFFE));
	T_CHECK("gcm128 packet 2 kat (counter advanced)",
	    cipher_crypt(enc, 1, p2, p2, 32, 4, 16) == 0 &&
	        hex_eq(p2, total, GCM128_CTR_FFFFFFFF));
	T_CHECK("gcm128 same plaintext encrypts differently",
	    memcmp(p1 + 4, p2 + 4, 32 + 16) != 0);
	T_CHECK("gcm128 packet 3 kat (carry into upper counter bytes)",
	    cipher_crypt(enc, 2, p3, p3, 32, 4, 16) == 0 &&
	        hex_eq(p3, total, GCM128_CTR_100000000));
	T_CHECK("gcm128 length is AAD in clear", memcmp(p1, plain, 4) == 0);
	T_CHECK("gcm128 get_length",
	    cipher_get_length(dec, &plen, 0, p1, 4) == 0 && plen == 32);
	T_CHECK("gcm128 get_length short",
	    cipher_get_length(dec, &plen, 0, p1, 0) == ERR_SHORT);

	/* Out of order: packet 2 first fails (and uses up IV 1). */
	memcpy(copy, p2, total);
	T_CHECK("gcm128 out of order fails",
	    cipher_crypt(dec, 1, copy, copy, 32, 4, 16) == ERR_MAC);
	memset(zero, 0, sizeof(zero));
	T_CHECK("gcm128 failed decrypt leaves no plaintext",
	    memcmp(copy + 4, zero, 32) == 0);
	cipher_free(dec);
	dec = NULL;
	T_CHECK("gcm128 reinit dec", cipher_init(&dec, a128, key, iv, 0) == 0);
	if (dec == NULL)
		goto out;
	memset(copy, 0, sizeof(copy));
	T_CHECK("gcm128 in order 1 (dst != src)",
	    cipher_crypt(dec, 0, copy, p1, 32, 4, 16) == 0 &&
	        memcmp(copy, plain, 36) == 0);
	T_CHECK("gcm128 in order 2",
	    cipher_crypt(dec, 1, p2, p2, 32, 4, 16) == 0 &&
	        memcmp(p2, plain, 36) == 0);
	memcpy(copy, p3, total);
	copy[0] ^= 1; /* the AAD length field is authenticated */
	T_CHECK("gcm128 flipped length bit",
	    cipher_crypt(dec, 2, copy, copy, 32, 4, 16) == ERR_MAC);

	/* Tampering of every bit, each on a fresh decryptor at IV 3. */
	cipher_free(enc);
	enc = NULL;
	T_CHECK("gcm128 reinit enc", cipher_init(&enc, a128, key, iv, 1) == 0);
	if (enc == NULL)
		goto out;
	memcpy(p1, plain, 36);
	cipher_crypt(enc, 0, p1, p1, 32, 4, 16);
	r = 1;
	for (i = 0; i < total * 8; i++) {
		struct cipher_ctx *d = NULL;

		memcpy(copy, p1, total);
		copy[i / 8] ^= (uint8_t)(1 << (i % 8));
		r &= cipher_init(&d, a128, key, iv, 0) == 0;
		r &= d != NULL &&
		    cipher_crypt(d, 0, copy, copy, 32, 4, 16) == ERR_MAC;
		cipher_free(d);
	}
	T_CHECK("gcm128 any flipped bit gives ERR_MAC", r);
	T_CHECK("gcm128 len not a block multiple",
	    cipher_crypt(enc, 0, p1, p1, 24, 4, 16) == ERR_INTERNAL);
	T_CHECK("gcm128 wrong aadlen",
	    cipher_crypt(enc, 0, p1, p1, 32, 0, 16) == ERR_INTERNAL);
	{
		struct cipher_ctx *none = NULL;

		T_CHECK("gcm128 missing iv",
		    cipher_init(&none, a128, key, NULL, 0) == ERR_INTERNAL &&
		        none == NULL);
	}
	cipher_free(enc);
	cipher_free(dec);
	enc = dec = NULL;

	/* AES-256: the counter wraps to zero without touching the fixed part. */
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	t_hex("a1a2a3a4"
	      "ffffffffffffffff",
	    iv, 12);
	T_CHECK("gcm256 init",
	    cipher_init(&enc, a256, key, iv, 1) == 0 &&
	        cipher_init(&dec, a256, key, iv, 0) == 0);
	if (enc == NULL || dec == NULL)
		goto out;
	memcpy(p1, plain, 36);
	memcpy(p2, plain, 36);
	T_CHECK("gcm256 packet 1 kat",
	    cipher_crypt(enc, 0, p1, p1, 32, 4, 16) == 0 &&
	        hex_eq(p1, total, GCM256_CTR_MAX));
	T_CHECK("gcm256 packet 2 kat (64-bit counter wrapped)",
	    cipher_crypt(enc, 1, p2, p2, 32, 4, 16) == 0 &&
	        hex_eq(p2, total, GCM256_CTR_0));
	T_CHECK("gcm256 decrypt in order",
	    cipher_crypt(dec, 0, p1, p1, 32, 4, 16) == 0 &&
	        memcmp(p1, plain, 36) == 0 &&
	        cipher_crypt(dec, 1, p2, p2, 32, 4, 16) == 0 &&
	        memcmp(p2, plain, 36) == 0);

	/* Longer round trips, including an empty body. */
	r = 1;
	for (i = 0; i <= 48; i += 16) {
		uint8_t big[4 + 48 + 16], orig[4 + 48];

		random_bytes(orig, 4 + i);
		memcpy(big, orig, 4 + i);
		r &= cipher_crypt(enc, 0, big, big, i, 4, 16) == 0;
		r &= cipher_crypt(dec, 0, big, big, i, 4, 16) == 0;
		r &= memcmp(big, orig, 4 + i) == 0;
	}
	T_CHECK("gcm256 round trips 0..48 bytes", r);
out:
	cipher_free(enc);
	cipher_free(dec);
}

/* ---- base64 ---- */

static int
b64_enc_is(const char *in, const char *want)
{
	char out[64];

	return base64_encode(
	           (const uint8_t *)in, strlen(in), out, sizeof(out)) == 0 &&
	    strcmp(out, want) == 0;
}

static int
b64_dec_is(const char *in, const char *want)
{
	uint8_t out[64];
	size_t n = 99;

	return base64_decode(in, strlen(in), out, sizeof(out), &n) == 0 &&
	    n == strlen(want) && memcmp(out, want, n) == 0;
}

static int
b64_rejects(const char *in, size_t len)
{
	uint8_t out[64];
	size_t n = 99;

	return base64_decode(in, len, out, sizeof(out), &n) == ERR_FORMAT &&
	    n == 0;
}

static void
test_base64(void)
{
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	uint8_t all[256], back[256];
	char text[4 * 86 + 1], quad[5];
	size_t i, len, n;
	int ok = 1, c;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		ok &= b64_enc_is(vec[i][0], vec[i][1]);
		ok &= b64_dec_is(vec[i][1], vec[i][0]);
	}
	T_CHECK("base64 rfc4648 s10 vectors", ok);

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	ok = 1;
	for (len = 0; len <= 256; len++) {
		ok &= base64_encode(all + 256 - len, len, text, sizeof(text)) ==
		    0;
		ok &= strlen(text) == (len + 2) / 3 * 4;
		ok &= base64_decode(
		          text, strlen(text), back, sizeof(back), &n) == 0 &&
		    n == len && memcmp(back, all + 256 - len, len) == 0;
	}
	T_CHECK("base64 round trips 0..256 bytes", ok);
	base64_encode(all, 48, text, sizeof(text));
	T_CHECK("base64 full alphabet",
	    b64_enc_is("\xfb\xff\xbf", "+/+/") &&
	        strncmp(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
	            44) == 0);

	/* Every byte value in every position of a quad. */
	ok = 1;
	for (c = 0; c < 256; c++) {
		int valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/';

		for (i = 0; i < 4; i++) {
			memcpy(quad, "AAAA", 5);
			quad[i] = (char)c;
			if (valid)
				ok &= base64_decode(quad, 4, back, sizeof(back),
				          &n) == 0 &&
				    n == 3;
			else if (!(c == '=' && i == 3))
				ok &= b64_rejects(quad, 4);
		}
	}
	T_CHECK("base64 decode accepts exactly the alphabet", ok);

	T_CHECK("base64 accepts one pad",
	    b64_dec_is("QUE=", "AA") && b64_dec_is("Zm8=", "fo"));
	T_CHECK("base64 rejects '*'", b64_rejects("Zm9*", 4));
	T_CHECK("base64 rejects embedded NUL", b64_rejects("Zm\0v", 4));
	T_CHECK("base64 rejects space", b64_rejects("Zm9v Zm9v", 9));
	T_CHECK("base64 rejects newline", b64_rejects("Zm9v\nZm8=", 9));
	T_CHECK("base64 rejects missing padding", b64_rejects("Zm8", 3));
	T_CHECK("base64 rejects one char", b64_rejects("Z", 1));
	T_CHECK("base64 rejects '=' in the middle", b64_rejects("Zg==Zm9v", 8));
	T_CHECK("base64 rejects '=' inside quad", b64_rejects("Z=9v", 4));
	T_CHECK("base64 rejects '=' then char", b64_rejects("Zm=v", 4));
	T_CHECK("base64 rejects three pads", b64_rejects("Z===", 4));
	T_CHECK("base64 rejects four pads", b64_rejects("====", 4));
	T_CHECK("base64 rejects non-canonical 1 byte", b64_rejects("Zh==", 4));
	T_CHECK("base64 rejects non-canonical 2 bytes", b64_rejects("Zm9=", 4));
	T_CHECK("base64 rejects url-safe alphabet", b64_rejects("-_-_", 4));
	n = 99;
	T_CHECK("base64 decode dst too small",
	    base64_decode("Zm9vYmFy", 8, back, 5, &n) == ERR_TOO_BIG && n == 0);
	T_CHECK("base64 decode dst exact",
	    base64_decode("Zm9vYmE=", 8, back, 5, &n) == 0 && n == 5);
	T_CHECK("base64 encode dst too small",
	    base64_encode((const uint8_t *)"foo", 3, text, 4) == ERR_TOO_BIG);
	T_CHECK("base64 encode dst exact",
	    base64_encode((const uint8_t *)"foo", 3, text, 5) == 0 &&
	        strcmp(text, "Zm9v") == 0);
	memset(back, 0x55, 8);
	T_CHECK("base64 rejected output wiped",
	    b64_rejects("Zm9vZm9*", 8) &&
	        base64_decode("Zm9vZm9*", 8, back, 8, &n) == ERR_FORMAT &&
	        back[0] == 0 && back[2] == 0);
}

int
main(void)
{
	crypto_init();
	test_digest();
	test_random();
	test_x25519();
	test_rfc8439();
	test_cipher_table();
	test_chachapoly();
	test_gcm_spec();
	test_gcm_packets();
	test_base64();
	return T_DONE();
}
