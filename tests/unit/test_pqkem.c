/*
 * test_pqkem.c: known-answer, round-trip and implicit-rejection tests for
 * lib/sntrup761.c and lib/mlkem768.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "mlkem768.h"
#include "sntrup761.h"
#include "t.h"

#define ROUND_TRIPS 100

static int
sha256_is(const uint8_t *data, size_t len, const char *hex)
{
	uint8_t got[DIGEST_MAX_LEN], want[32];

	if (t_hex(hex, want, sizeof(want)) != sizeof(want) ||
	    digest_memory(DIGEST_SHA256, data, len, got) != 0)
		return 0;
	return memcmp(got, want, sizeof(want)) == 0;
}

static int
hex_is(const uint8_t *data, size_t len, const char *hex)
{
	uint8_t want[64];

	return len <= sizeof(want) && t_hex(hex, want, sizeof(want)) == len &&
	    memcmp(data, want, len) == 0;
}

/* xof: outlen bytes of SHAKE128/256(a || b) in one squeeze. */
static int
xof(const EVP_MD *md, uint8_t *out, size_t outlen, const void *a, size_t alen,
    const void *b, size_t blen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinalXOF(ctx, out, outlen) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * ---- the NIST PQC KAT generator's DRBG ----
 * AES-256 CTR_DRBG without a derivation function (SP 800-90A s10.2.1),
 * as in the rng.c shipped with every NIST PQC submission: randombytes()
 * draws blocks from V+1, V+2, ... and then runs Update with no input.
 */
static uint8_t drbg_key[32], drbg_v[16];

static void
aes256_block(const uint8_t key[32], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n, in, 16) != 1 || n != 16) {
		fprintf(stderr, "aes256_block failed\n");
		abort();
	}
	EVP_CIPHER_CTX_free(ctx);
}

static void
drbg_next_block(uint8_t out[16])
{
	int i;

	for (i = 15; i >= 0; i--) {
		drbg_v[i] = (uint8_t)(drbg_v[i] + 1);
		if (drbg_v[i] != 0)
			break;
	}
	aes256_block(drbg_key, drbg_v, out);
}

static void
drbg_update(const uint8_t *provided)
{
	uint8_t t[48];
	int i;

	for (i = 0; i < 3; i++)
		drbg_next_block(t + 16 * i);
	if (provided != NULL) {
		for (i = 0; i < 48; i++)
			t[i] ^= provided[i];
	}
	memcpy(drbg_key, t, 32);
	memcpy(drbg_v, t + 32, 16);
}

static void
drbg_init(const uint8_t seed[48])
{
	memset(drbg_key, 0, sizeof(drbg_key));
	memset(drbg_v, 0, sizeof(drbg_v));
	drbg_update(seed);
}

static void
drbg_random(void *out, size_t len)
{
	uint8_t *p = out, block[16];
	size_t n;

	while (len > 0) {
		drbg_next_block(block);
		n = len < 16 ? len : 16;
		memcpy(p, block, n);
		p += n;
		len -= n;
	}
	drbg_update(NULL);
}

/* ---- sntrup761 ---- */

/*
 * count = 0 of kat_kem.rsp from the NTRU Prime round-3 submission
 * (kem/sntrup761), as reproduced in github.com/dyne/Zenroom
 * test/vectors/sntrup761.rsp ("imported from the official round 3
 * submission"). pk, sk and ct are given by SHA-256; ss in full.
 */
static const char *KAT_SEED =
    "061550234D158C5EC95595FE04EF7A25767F2E24CC2BC479D09D86DC9ABCFDE7"
    "056A8C266F9EF97ED08541DBD2E1FFA1";
static const char *KAT_PK_SHA256 =
    "d1736cf321592955c718fa191ef5b1137dd7593ff3b18d5ed733ac96e7d65ce9";
static const char *KAT_SK_SHA256 =
    "8f8f45cef184cc93e387edc54720102e7f95247ec052ad8440d65c932d4f973d";
static const char *KAT_CT_SHA256 =
    "beec3df6e2d1d64eb7fa4c95605ff32aff38ab0e23ff79ff61bbc9832c31e885";
static const char *KAT_SS =
    "344CA5E25F6DA5EA95E4A695B1C5446ECA9859334532E4A9537669F012C743A2";

static void
test_sntrup761_kat(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_SIZE];
	static uint8_t sk[SNTRUP761_SECRETKEY_SIZE];
	static uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE];
	uint8_t entropy[48], seed[48], want[48], ss[32], ss2[32];
	size_t i;

	/* PQCgenKAT_kem seeds its DRBG with 0..47; its first 48 bytes are
	 * the seed of count 0. This checks the DRBG on its own. */
	for (i = 0; i < sizeof(entropy); i++)
		entropy[i] = (uint8_t)i;
	drbg_init(entropy);
	drbg_random(seed, sizeof(seed));
	T_CHECK("kat drbg: seed of count 0",
	    t_hex(KAT_SEED, want, sizeof(want)) == sizeof(want) &&
	        memcmp(seed, want, sizeof(want)) == 0);

	drbg_init(seed);
	sntrup761_set_random_for_test(drbg_random);
	T_CHECK("sntrup761 kat: keypair", sntrup761_keypair(pk, sk) == 0);
	T_CHECK("sntrup761 kat: enc", sntrup761_enc(ct, ss, pk) == 0);
	sntrup761_set_random_for_test(NULL);
	T_CHECK("sntrup761 kat: pk", sha256_is(pk, sizeof(pk), KAT_PK_SHA256));
	T_CHECK("sntrup761 kat: sk", sha256_is(sk, sizeof(sk), KAT_SK_SHA256));
	T_CHECK("sntrup761 kat: ct", sha256_is(ct, sizeof(ct), KAT_CT_SHA256));
	T_CHECK("sntrup761 kat: ss", hex_is(ss, sizeof(ss), KAT_SS));
	T_CHECK("sntrup761 kat: dec",
	    sntrup761_dec(ss2, ct, sk) == 0 &&
	        hex_is(ss2, sizeof(ss2), KAT_SS));
}

/* rejection_key: Hash0(Hash3(rho) || ct), the spec's key for a bad ct. */
static int
sntrup761_rejection_key(uint8_t out[32], const uint8_t *sk, const uint8_t *ct)
{
	uint8_t buf[1 + 32 + SNTRUP761_CIPHERTEXT_SIZE], h[DIGEST_MAX_LEN];
	const size_t small = 191, rho = 2 * small + SNTRUP761_PUBLICKEY_SIZE;

	buf[0] = 3;
	memcpy(buf + 1, sk + rho, small);
	if (digest_memory(DIGEST_SHA512, buf, 1 + small, h) != 0)
		return -1;
	buf[0] = 0;
	memcpy(buf + 1, h, 32);
	memcpy(buf + 33, ct, SNTRUP761_CIPHERTEXT_SIZE);
	if (digest_memory(DIGEST_SHA512, buf, sizeof(buf), h) != 0)
		return -1;
	memcpy(out, h, 32);
	return 0;
}

static void
test_sntrup761_round_trip(void)
{
	static uint8_t pk[SNTRUP761_PUBLICKEY_SIZE], pk2[sizeof(pk)];
	static uint8_t sk[SNTRUP761_SECRETKEY_SIZE];
	static uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE];
	uint8_t ss[32], ss2[32], rej[32];
	int i, ok = 1, reject_ok = 1;

	for (i = 0; i < ROUND_TRIPS; i++) {
		if (sntrup761_keypair(pk, sk) != 0 ||
		    sntrup761_enc(ct, ss, pk) != 0 ||
		    sntrup761_dec(ss2, ct, sk) != 0 ||
		    memcmp(ss, ss2, sizeof(ss)) != 0)
			ok = 0;
		/* Corrupt one bit, in the rounded part or the confirmation. */
		ct[(size_t)i * 37 % sizeof(ct)] ^= (uint8_t)(1 << (i % 8));
		if (sntrup761_dec(ss2, ct, sk) != 0 ||
		    memcmp(ss, ss2, sizeof(ss)) == 0 ||
		    sntrup761_rejection_key(rej, sk, ct) != 0 ||
		    memcmp(ss2, rej, sizeof(rej)) != 0)
			reject_ok = 0;
	}
	T_CHECK("sntrup761: enc/dec agree", ok);
	T_CHECK("sntrup761: corrupted ct gives the implicit-rejection key",
	    reject_ok);
	T_CHECK("sntrup761: fresh keys differ",
	    sntrup761_keypair(pk2, sk) == 0 &&
	        memcmp(pk, pk2, sizeof(pk)) != 0);
}

/* ---- ML-KEM-768 ---- */

/*
 * C2SP CCTV ML-KEM "unluckysample" vector for ML-KEM-768
 * (github.com/C2SP/CCTV ML-KEM/unluckysample/ML-KEM-768.txt, FIPS 203
 * final revision): SampleNTT needs more than 575 bytes of SHAKE128 here,
 * which exercises the longer re-squeeze. ek, dk and c by SHA-256.
 */
static const char *UNLUCKY_D =
    "82c4a361586b9715c2375a45fb85c32d04be7fe6e26acd820ec5d4080093afe1";
static const char *UNLUCKY_Z =
    "8476013560151d986dc7834dcb57c75f845f8d7ee71558d0955f3f4feb723cf2";
static const char *UNLUCKY_M =
    "e48f74ad416e99631003ded1478aec62a02c245d88ed7f2fae92aedf13ca03b3";
static const char *UNLUCKY_EK_SHA256 =
    "056834c9a99e2a5c4626126a79471e6e71bfc6589b136df8c2042f0f269a096c";
static const char *UNLUCKY_DK_SHA256 =
    "66bb950ec88a1fc6fa2c80573c64e65d91b5c184e9884c50da356e7a4d3d2773";
static const char *UNLUCKY_C_SHA256 =
    "b1416c2cab14394174ba9f5181d178a0229a8957ea1965c0eb5d3badae563e10";
static const char *UNLUCKY_K =
    "4f7cc64c040fc4e335a539691f4638caf8b1bf5da6455754afe699e41813801b";

static void
test_mlkem768_unlucky(void)
{
	static uint8_t ek[MLKEM768_EK_SIZE], dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	uint8_t d[32], z[32], m[32], k[32], k2[32];

	t_hex(UNLUCKY_D, d, sizeof(d));
	t_hex(UNLUCKY_Z, z, sizeof(z));
	t_hex(UNLUCKY_M, m, sizeof(m));
	T_CHECK("mlkem768 unlucky: keygen",
	    mlkem768_keypair_derand(ek, dk, d, z) == 0);
	T_CHECK("mlkem768 unlucky: ek",
	    sha256_is(ek, sizeof(ek), UNLUCKY_EK_SHA256));
	T_CHECK("mlkem768 unlucky: dk",
	    sha256_is(dk, sizeof(dk), UNLUCKY_DK_SHA256));
	T_CHECK("mlkem768 unlucky: encaps",
	    mlkem768_encaps_derand(ct, k, ek, m) == 0);
	T_CHECK(
	    "mlkem768 unlucky: c", sha256_is(ct, sizeof(ct), UNLUCKY_C_SHA256));
	T_CHECK("mlkem768 unlucky: K", hex_is(k, sizeof(k), UNLUCKY_K));
	T_CHECK("mlkem768 unlucky: decaps",
	    mlkem768_decaps(k2, ct, dk) == 0 &&
	        hex_is(k2, sizeof(k2), UNLUCKY_K));
}

/*
 * C2SP CCTV accumulated pq-crystals vectors (github.com/C2SP/CCTV
 * ML-KEM/README.md, "Accumulated pq-crystals vectors", FIPS 203 final
 * with k appended to d): d, z, m and a random ct are drawn in turn from
 * SHAKE128(""); ek, dk, ct, K and Decaps(random ct) go into a running
 * SHAKE128 whose first 32 bytes after 10 000 tests are published.
 */
#define ACCUMULATED_TESTS 10000
static const char *ACCUMULATED_10000 =
    "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1";

static void
test_mlkem768_accumulated(void)
{
	static uint8_t ek[MLKEM768_EK_SIZE], dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	const size_t per = 3 * 32 + MLKEM768_CT_SIZE;
	uint8_t *stream = NULL, *p, k[32], k2[32], kr[32], sum[32];
	EVP_MD_CTX *acc = NULL;
	int i, ok = 0, agree = 1;

	if ((stream = malloc(per * ACCUMULATED_TESTS)) == NULL ||
	    !xof(EVP_shake128(), stream, per * ACCUMULATED_TESTS, "", 0, NULL,
	        0) ||
	    (acc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(acc, EVP_shake128(), NULL) != 1)
		goto out;
	T_CHECK("mlkem768 accumulated: rng stream",
	    hex_is(stream, 16, "7f9c2ba4e88f827d616045507605853e"));
	for (i = 0; i < ACCUMULATED_TESTS; i++) {
		p = stream + per * (size_t)i;
		if (mlkem768_keypair_derand(ek, dk, p, p + 32) != 0 ||
		    mlkem768_encaps_derand(ct, k, ek, p + 64) != 0 ||
		    mlkem768_decaps(k2, ct, dk) != 0 ||
		    mlkem768_decaps(kr, p + 96, dk) != 0)
			goto out;
		agree &= memcmp(k, k2, sizeof(k)) == 0;
		if (EVP_DigestUpdate(acc, ek, sizeof(ek)) != 1 ||
		    EVP_DigestUpdate(acc, dk, sizeof(dk)) != 1 ||
		    EVP_DigestUpdate(acc, ct, sizeof(ct)) != 1 ||
		    EVP_DigestUpdate(acc, k, sizeof(k)) != 1 ||
		    EVP_DigestUpdate(acc, kr, sizeof(kr)) != 1)
			goto out;
	}
	if (EVP_DigestFinalXOF(acc, sum, sizeof(sum)) != 1)
		goto out;
	ok = hex_is(sum, sizeof(sum), ACCUMULATED_10000);
out:
	T_CHECK("mlkem768 accumulated: decaps agrees", agree);
	T_CHECK("mlkem768 accumulated: 10000 tests", ok);
	EVP_MD_CTX_free(acc);
	free(stream);
}

static void
test_mlkem768_round_trip(void)
{
	static uint8_t ek[MLKEM768_EK_SIZE], ek2[sizeof(ek)];
	static uint8_t dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	uint8_t ss[32], ss2[32], rej[32];
	int i, ok = 1, reject_ok = 1;

	for (i = 0; i < ROUND_TRIPS; i++) {
		if (mlkem768_keypair(ek, dk) != 0 ||
		    mlkem768_encaps(ct, ss, ek) != 0 ||
		    mlkem768_decaps(ss2, ct, dk) != 0 ||
		    memcmp(ss, ss2, sizeof(ss)) != 0)
			ok = 0;
		/* Corrupt one bit; the key must be J(z || c) (FIPS 203 alg 18). */
		ct[(size_t)i * 37 % sizeof(ct)] ^= (uint8_t)(1 << (i % 8));
		if (mlkem768_decaps(ss2, ct, dk) != 0 ||
		    memcmp(ss, ss2, sizeof(ss)) == 0 ||
		    !xof(EVP_shake256(), rej, sizeof(rej), dk + 2368, 32, ct,
		        sizeof(ct)) ||
		    memcmp(ss2, rej, sizeof(rej)) != 0)
			reject_ok = 0;
	}
	T_CHECK("mlkem768: encaps/decaps agree", ok);
	T_CHECK("mlkem768: corrupted ct gives the implicit-rejection key",
	    reject_ok);
	T_CHECK("mlkem768: fresh keys differ",
	    mlkem768_keypair(ek2, dk) == 0 && memcmp(ek, ek2, sizeof(ek)) != 0);
}

static void
test_mlkem768_input_checks(void)
{
	static uint8_t ek[MLKEM768_EK_SIZE], dk[MLKEM768_DK_SIZE];
	static uint8_t ct[MLKEM768_CT_SIZE];
	uint8_t ss[32], save[2];

	T_CHECK("mlkem768 checks: keypair", mlkem768_keypair(ek, dk) == 0);

	/* Modulus check: a coefficient of Q (3329 = 0xd01), then 4095. */
	memcpy(save, ek + 600, 2);
	ek[600] = 0x01;
	ek[601] = (uint8_t)((ek[601] & 0xf0) | 0x0d);
	T_CHECK("mlkem768 checks: ek coefficient q refused",
	    mlkem768_encaps(ct, ss, ek) == ERR_BAD_KEY);
	ek[600] = 0xff;
	ek[601] |= 0x0f;
	T_CHECK("mlkem768 checks: ek coefficient 4095 refused",
	    mlkem768_encaps(ct, ss, ek) == ERR_BAD_KEY);
	memcpy(ek + 600, save, 2);
	/* The last coefficient is ek[1150] >> 4 | ek[1151] << 4. */
	ek[1150] = (uint8_t)(ek[1150] & 0x0f);
	ek[1151] = 0xd0;
	T_CHECK("mlkem768 checks: last coefficient q-1 accepted",
	    mlkem768_encaps(ct, ss, ek) == 0);
	ek[1150] |= 0x10;
	T_CHECK("mlkem768 checks: last coefficient q refused",
	    mlkem768_encaps(ct, ss, ek) == ERR_BAD_KEY);
	memcpy(ek, dk + 1152, sizeof(ek));
	T_CHECK(
	    "mlkem768 checks: ek restored", mlkem768_encaps(ct, ss, ek) == 0);

	/* Hash check: dk's copy of ek must hash to the stored H(ek). */
	dk[1152 + 5] ^= 1;
	T_CHECK("mlkem768 checks: dk hash mismatch refused",
	    mlkem768_decaps(ss, ct, dk) == ERR_BAD_KEY);
	dk[1152 + 5] ^= 1;
	dk[2336] ^= 1;
	T_CHECK("mlkem768 checks: dk stored hash mismatch refused",
	    mlkem768_decaps(ss, ct, dk) == ERR_BAD_KEY);
	dk[2336] ^= 1;
	T_CHECK(
	    "mlkem768 checks: dk restored", mlkem768_decaps(ss, ct, dk) == 0);
}

int
main(void)
{
	crypto_init();
	test_sntrup761_kat();
	test_sntrup761_round_trip();
	test_mlkem768_unlucky();
	test_mlkem768_accumulated();
	test_mlkem768_round_trip();
	test_mlkem768_input_checks();
	return T_DONE();
}
