/*
 * mlkem768.c: ML-KEM-768 from FIPS 203, constant time in every secret;
 * SHA3-256, SHA3-512, SHAKE128 and SHAKE256 from libcrypto.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "mlkem768.h"

#define N 256
#define Q 3329
#define K 3
#define ETA 2 /* eta1 = eta2 = 2 for ML-KEM-768 */
#define DU 10
#define DV 4
#define POLY_BYTES 384 /* ByteEncode12 of one polynomial */
#define VEC_BYTES (K * POLY_BYTES)
#define U_POLY_BYTES (N * DU / 8)
#define U_BYTES (K * U_POLY_BYTES)
#define V_BYTES (N * DV / 8)
#define PRF_BYTES (64 * ETA)
#define XOF_BLOCK 168 /* SHAKE128 rate */

/* dk = dk_PKE || ek || H(ek) || z */
#define DK_EK VEC_BYTES
#define DK_H (DK_EK + MLKEM768_EK_SIZE)
#define DK_Z (DK_H + 32)

_Static_assert(VEC_BYTES + 32 == MLKEM768_EK_SIZE, "ek");
_Static_assert(DK_Z + 32 == MLKEM768_DK_SIZE, "dk");
_Static_assert(U_BYTES + V_BYTES == MLKEM768_CT_SIZE, "ct");

/* A polynomial in R_q or T_q, coefficients in [0, Q). */
struct poly {
	uint16_t c[N];
};

/* zetas[i] = 17^BitRev7(i) mod Q (FIPS 203 s4.3). */
/* clang-format off */
static const uint16_t zetas[128] = {
	1, 1729, 2580, 3289, 2642, 630, 1897, 848,
	1062, 1919, 193, 797, 2786, 3260, 569, 1746,
	296, 2447, 1339, 1476, 3046, 56, 2240, 1333,
	1426, 2094, 535, 2882, 2393, 2879, 1974, 821,
	289, 331, 3253, 1756, 1197, 2304, 2277, 2055,
	650, 1977, 2513, 632, 2865, 33, 1320, 1915,
	2319, 1435, 807, 452, 1438, 2868, 1534, 2402,
	2647, 2617, 1481, 648, 2474, 3110, 1227, 910,
	17, 2761, 583, 2649, 1637, 723, 2288, 1100,
	1409, 2662, 3281, 233, 756, 2156, 3015, 3050,
	1703, 1651, 2789, 1789, 1847, 952, 1461, 2687,
	939, 2308, 2437, 2388, 733, 2337, 268, 641,
	1584, 2298, 2037, 3220, 375, 2549, 2090, 1645,
	1063, 319, 2773, 757, 2099, 561, 2466, 2594,
	2804, 1092, 403, 1026, 1143, 2150, 2775, 886,
	1722, 1212, 1874, 1029, 2110, 2935, 885, 2154,
};
/* clang-format on */

/* gammas[i] = 17^(2*BitRev7(i)+1) mod Q (FIPS 203 s4.3.1). */
/* clang-format off */
static const uint16_t gammas[128] = {
	17, 3312, 2761, 568, 583, 2746, 2649, 680,
	1637, 1692, 723, 2606, 2288, 1041, 1100, 2229,
	1409, 1920, 2662, 667, 3281, 48, 233, 3096,
	756, 2573, 2156, 1173, 3015, 314, 3050, 279,
	1703, 1626, 1651, 1678, 2789, 540, 1789, 1540,
	1847, 1482, 952, 2377, 1461, 1868, 2687, 642,
	939, 2390, 2308, 1021, 2437, 892, 2388, 941,
	733, 2596, 2337, 992, 268, 3061, 641, 2688,
	1584, 1745, 2298, 1031, 2037, 1292, 3220, 109,
	375, 2954, 2549, 780, 2090, 1239, 1645, 1684,
	1063, 2266, 319, 3010, 2773, 556, 757, 2572,
	2099, 1230, 561, 2768, 2466, 863, 2594, 735,
	2804, 525, 1092, 2237, 403, 2926, 1026, 2303,
	1143, 2186, 2150, 1179, 2775, 554, 886, 2443,
	1722, 1607, 1212, 2117, 1874, 1455, 1029, 2300,
	2110, 1219, 2935, 394, 885, 2444, 2154, 1175,
};
/* clang-format on */

/* ---- hashing (FIPS 203 s4.1) ---- */

/* md_run: out = md(a || b); outlen is free for a XOF, else the digest size. */
static int
md_run(const EVP_MD *md, int xof, uint8_t *out, size_t outlen, const void *a,
    size_t alen, const void *b, size_t blen)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int n = 0;
	int r = ERR_CRYPTO;

	if (md == NULL)
		return ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1))
		goto out;
	if (xof) {
		/* OpenSSL 3.0 squeezes once per context: callers ask for all. */
		if (EVP_DigestFinalXOF(ctx, out, outlen) != 1)
			goto out;
	} else if (outlen != (size_t)EVP_MD_get_size(md) ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != outlen)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (r != 0)
		ERR_clear_error();
	return r;
}

/* H */
static int
sha3_256(uint8_t out[32], const void *a, size_t alen)
{
	return md_run(EVP_sha3_256(), 0, out, 32, a, alen, NULL, 0);
}

/* G */
static int
sha3_512(uint8_t out[64], const void *a, size_t alen)
{
	return md_run(EVP_sha3_512(), 0, out, 64, a, alen, NULL, 0);
}

/* J (outlen 32) and PRF */
static int
shake256(uint8_t *out, size_t outlen, const void *a, size_t alen, const void *b,
    size_t blen)
{
	return md_run(EVP_shake256(), 1, out, outlen, a, alen, b, blen);
}

/* PRF_eta(s, nonce) = SHAKE256(s || nonce, 64*eta) */
static int
prf(uint8_t out[PRF_BYTES], const uint8_t s[32], uint8_t nonce)
{
	return shake256(out, PRF_BYTES, s, 32, &nonce, 1);
}

/* ---- arithmetic mod Q, branch-free ---- */

/* csubq: a mod Q for a in [0, 2Q). */
static uint16_t
csubq(uint32_t a)
{
	uint32_t t = a - Q;

	return (uint16_t)(t + (Q & (0 - (t >> 31))));
}

/* reduce: a mod Q for any 32-bit a, by Barrett with floor(2^36/Q). */
static uint16_t
reduce(uint32_t a)
{
	uint32_t t = (uint32_t)(((uint64_t)a * 20642678) >> 36);

	return csubq(a - t * Q);
}

/* ---- NTT (FIPS 203 algorithms 9-12) ---- */

static void
ntt(struct poly *f)
{
	size_t len, start, j, k = 1;
	uint32_t z;
	uint16_t t;

	for (len = 128; len >= 2; len >>= 1) {
		for (start = 0; start < N; start += 2 * len) {
			z = zetas[k++];
			for (j = start; j < start + len; j++) {
				t = reduce(z * f->c[j + len]);
				f->c[j + len] =
				    csubq((uint32_t)f->c[j] + Q - t);
				f->c[j] = csubq((uint32_t)f->c[j] + t);
			}
		}
	}
}

static void
inv_ntt(struct poly *f)
{
	size_t len, start, j, k = 127;
	uint32_t z;
	uint16_t t;

	for (len = 2; len <= 128; len <<= 1) {
		for (start = 0; start < N; start += 2 * len) {
			z = zetas[k--];
			for (j = start; j < start + len; j++) {
				t = f->c[j];
				f->c[j] = csubq((uint32_t)t + f->c[j + len]);
				f->c[j + len] = reduce(
				    z * ((uint32_t)f->c[j + len] + Q - t));
			}
		}
	}
	for (j = 0; j < N; j++)
		f->c[j] = reduce((uint32_t)f->c[j] * 3303); /* 1/128 */
}

/*
 * mul_acc: acc += a*b in T_q (MultiplyNTTs), unreduced. Each call adds
 * less than 2*Q^2 per coefficient, so K calls stay far below 2^32.
 */
static void
mul_acc(uint32_t acc[N], const struct poly *a, const struct poly *b)
{
	size_t i;
	uint32_t a0, a1, b0, b1;

	for (i = 0; i < N / 2; i++) {
		a0 = a->c[2 * i];
		a1 = a->c[2 * i + 1];
		b0 = b->c[2 * i];
		b1 = b->c[2 * i + 1];
		acc[2 * i] += a0 * b0 + (uint32_t)reduce(a1 * b1) * gammas[i];
		acc[2 * i + 1] += a0 * b1 + a1 * b0;
	}
}

/* ---- sampling (FIPS 203 algorithms 7-8) ---- */

/*
 * sample_ntt: SampleNTT(rho || x || y) by rejection from SHAKE128. The
 * seed is public, so the data-dependent loop is too. An unusually unlucky
 * stream needs more than the first squeeze; as OpenSSL 3.0 cannot squeeze
 * twice, squeeze a longer prefix of the same stream and start over.
 */
static int
sample_ntt(struct poly *a, const uint8_t rho[32], uint8_t x, uint8_t y)
{
	uint8_t seed[34], first[3 * XOF_BLOCK];
	uint8_t *buf = first, *big = NULL;
	size_t len = sizeof(first), pos, j;
	uint16_t d1, d2;
	int r;

	memcpy(seed, rho, 32);
	seed[32] = x;
	seed[33] = y;
	for (;;) {
		if ((r = md_run(EVP_shake128(), 1, buf, len, seed, sizeof(seed),
		         NULL, 0)) != 0)
			goto out;
		for (pos = 0, j = 0; j < N && pos + 3 <= len; pos += 3) {
			d1 = (uint16_t)(buf[pos] | (buf[pos + 1] & 15) << 8);
			d2 = (uint16_t)(buf[pos + 1] >> 4 | buf[pos + 2] << 4);
			if (d1 < Q)
				a->c[j++] = d1;
			if (d2 < Q && j < N)
				a->c[j++] = d2;
		}
		if (j == N)
			break;
		/* 64 blocks failing has probability far below 2^-1000. */
		if (len >= 64 * XOF_BLOCK) {
			r = ERR_CRYPTO;
			goto out;
		}
		len *= 2;
		free(big);
		if ((big = malloc(len)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		buf = big;
	}
	r = 0;
out:
	free(big);
	return r;
}

/* cbd2: SamplePolyCBD_2; each coefficient is (b0 + b1) - (b2 + b3). */
static void
cbd2(struct poly *f, const uint8_t b[PRF_BYTES])
{
	size_t i;
	uint32_t nib, x, y;

	for (i = 0; i < N; i++) {
		nib = (uint32_t)(b[i / 2] >> (4 * (i & 1))) & 15;
		x = (nib & 1) + ((nib >> 1) & 1);
		y = ((nib >> 2) & 1) + ((nib >> 3) & 1);
		f->c[i] = csubq(x + Q - y);
	}
}

/* ---- encodings (FIPS 203 s4.2.1) ---- */

static void
encode12(uint8_t out[POLY_BYTES], const struct poly *a)
{
	size_t i;
	uint16_t x, y;

	for (i = 0; i < N / 2; i++) {
		x = a->c[2 * i];
		y = a->c[2 * i + 1];
		out[3 * i] = (uint8_t)x;
		out[3 * i + 1] = (uint8_t)(x >> 8 | y << 4);
		out[3 * i + 2] = (uint8_t)(y >> 4);
	}
}

/* decode12: ByteDecode12 mod Q; returns 1 if any value was >= Q, else 0. */
static int
decode12(struct poly *a, const uint8_t in[POLY_BYTES])
{
	size_t i;
	uint32_t x, y, high = 0;

	for (i = 0; i < N / 2; i++) {
		x = in[3 * i] | (uint32_t)(in[3 * i + 1] & 15) << 8;
		y = (uint32_t)in[3 * i + 1] >> 4 | (uint32_t)in[3 * i + 2] << 4;
		high |= ((Q - 1) - x) | ((Q - 1) - y);
		a->c[2 * i] = csubq(x);
		a->c[2 * i + 1] = csubq(y);
	}
	return (int)(high >> 31);
}

/* pack_bits: ByteEncode_d of N values below 2^d. */
static void
pack_bits(uint8_t *out, const uint16_t a[N], unsigned d)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < N; i++) {
		acc |= (uint32_t)a[i] << bits;
		for (bits += d; bits >= 8; bits -= 8) {
			out[o++] = (uint8_t)acc;
			acc >>= 8;
		}
	}
}

/* unpack_bits: ByteDecode_d for d < 12. */
static void
unpack_bits(uint16_t a[N], const uint8_t *in, unsigned d)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, o = 0;

	for (i = 0; i < N; i++) {
		for (; bits < d; bits += 8)
			acc |= (uint32_t)in[o++] << bits;
		a[i] = (uint16_t)(acc & ((1u << d) - 1));
		acc >>= d;
		bits -= d;
	}
}

/*
 * compress: round(2^d*x/Q) mod 2^d, d <= 11, with the division done as a
 * multiplication by ceil(2^35/Q), exact for numerators below 2^23.
 */
static uint16_t
compress(uint16_t x, unsigned d)
{
	uint64_t n = ((uint64_t)x << d) + Q / 2;

	return (uint16_t)(((n * 10321340) >> 35) & ((1u << d) - 1));
}

/* decompress: round(Q*y/2^d). */
static uint16_t
decompress(uint16_t y, unsigned d)
{
	return (uint16_t)(((uint32_t)y * Q + (1u << (d - 1))) >> d);
}

/* ---- K-PKE (FIPS 203 algorithms 13-15) ---- */

static int
pke_keygen(uint8_t ek[MLKEM768_EK_SIZE], uint8_t dk_pke[VEC_BYTES],
    const uint8_t d[32])
{
	uint8_t seed[33], rs[64], buf[PRF_BYTES];
	const uint8_t *rho = rs, *sigma = rs + 32;
	struct poly a, s[K], e[K], t;
	uint32_t acc[N];
	uint8_t nonce = 0;
	size_t i, j, n;
	int r;

	/* (rho, sigma) = G(d || k) */
	memcpy(seed, d, 32);
	seed[32] = K;
	if ((r = sha3_512(rs, seed, sizeof(seed))) != 0)
		goto out;
	for (i = 0; i < K; i++) {
		if ((r = prf(buf, sigma, nonce++)) != 0)
			goto out;
		cbd2(&s[i], buf);
		ntt(&s[i]);
	}
	for (i = 0; i < K; i++) {
		if ((r = prf(buf, sigma, nonce++)) != 0)
			goto out;
		cbd2(&e[i], buf);
		ntt(&e[i]);
	}
	/* t = A*s + e, with A[i][j] = SampleNTT(rho || j || i) */
	for (i = 0; i < K; i++) {
		memset(acc, 0, sizeof(acc));
		for (j = 0; j < K; j++) {
			if ((r = sample_ntt(&a, rho, (uint8_t)j, (uint8_t)i)) !=
			    0)
				goto out;
			mul_acc(acc, &a, &s[j]);
		}
		for (n = 0; n < N; n++)
			t.c[n] = reduce(acc[n] + e[i].c[n]);
		encode12(ek + i * POLY_BYTES, &t);
	}
	memcpy(ek + VEC_BYTES, rho, 32);
	for (i = 0; i < K; i++)
		encode12(dk_pke + i * POLY_BYTES, &s[i]);
out:
	wipe(seed, sizeof(seed));
	wipe(rs, sizeof(rs));
	wipe(buf, sizeof(buf));
	wipe(s, sizeof(s));
	wipe(e, sizeof(e));
	wipe(acc, sizeof(acc));
	wipe(&t, sizeof(t));
	return r;
}

static int
pke_encrypt(uint8_t ct[MLKEM768_CT_SIZE], const uint8_t ek[MLKEM768_EK_SIZE],
    const uint8_t m[32], const uint8_t coins[32])
{
	const uint8_t *rho = ek + VEC_BYTES;
	uint8_t buf[PRF_BYTES], nonce = 0;
	struct poly t[K], y[K], a, u, e;
	uint32_t acc[N];
	uint16_t comp[N], mu;
	size_t i, j, n;
	int r;

	for (i = 0; i < K; i++)
		(void)decode12(&t[i], ek + i * POLY_BYTES);
	for (i = 0; i < K; i++) {
		if ((r = prf(buf, coins, nonce++)) != 0)
			goto out;
		cbd2(&y[i], buf);
		ntt(&y[i]);
	}
	/* u = NTT^-1(A^T * y) + e1, with A[j][i] = SampleNTT(rho || i || j) */
	for (i = 0; i < K; i++) {
		memset(acc, 0, sizeof(acc));
		for (j = 0; j < K; j++) {
			if ((r = sample_ntt(&a, rho, (uint8_t)i, (uint8_t)j)) !=
			    0)
				goto out;
			mul_acc(acc, &a, &y[j]);
		}
		for (n = 0; n < N; n++)
			u.c[n] = reduce(acc[n]);
		inv_ntt(&u);
		if ((r = prf(buf, coins, nonce++)) != 0)
			goto out;
		cbd2(&e, buf);
		for (n = 0; n < N; n++)
			comp[n] =
			    compress(csubq((uint32_t)u.c[n] + e.c[n]), DU);
		pack_bits(ct + i * U_POLY_BYTES, comp, DU);
	}
	/* v = NTT^-1(t^T * y) + e2 + Decompress1(m) */
	memset(acc, 0, sizeof(acc));
	for (j = 0; j < K; j++)
		mul_acc(acc, &t[j], &y[j]);
	for (n = 0; n < N; n++)
		u.c[n] = reduce(acc[n]);
	inv_ntt(&u);
	if ((r = prf(buf, coins, nonce++)) != 0)
		goto out;
	cbd2(&e, buf);
	for (n = 0; n < N; n++) {
		mu = decompress((m[n / 8] >> (n % 8)) & 1, 1);
		comp[n] = compress(
		    csubq(csubq((uint32_t)u.c[n] + e.c[n]) + (uint32_t)mu), DV);
	}
	pack_bits(ct + U_BYTES, comp, DV);
out:
	wipe(buf, sizeof(buf));
	wipe(y, sizeof(y));
	wipe(&u, sizeof(u));
	wipe(&e, sizeof(e));
	wipe(acc, sizeof(acc));
	wipe(comp, sizeof(comp));
	wipe(&mu, sizeof(mu));
	return r;
}

static void
pke_decrypt(uint8_t m[32], const uint8_t dk_pke[VEC_BYTES],
    const uint8_t ct[MLKEM768_CT_SIZE])
{
	struct poly u, s, w;
	uint32_t acc[N];
	uint16_t tmp[N];
	size_t i, n;

	/* w = v - NTT^-1(s^T * NTT(u)) */
	memset(acc, 0, sizeof(acc));
	for (i = 0; i < K; i++) {
		unpack_bits(tmp, ct + i * U_POLY_BYTES, DU);
		for (n = 0; n < N; n++)
			u.c[n] = decompress(tmp[n], DU);
		ntt(&u);
		(void)decode12(&s, dk_pke + i * POLY_BYTES);
		mul_acc(acc, &s, &u);
	}
	for (n = 0; n < N; n++)
		w.c[n] = reduce(acc[n]);
	inv_ntt(&w);
	unpack_bits(tmp, ct + U_BYTES, DV);
	memset(m, 0, 32);
	for (n = 0; n < N; n++) {
		w.c[n] = csubq((uint32_t)decompress(tmp[n], DV) + Q - w.c[n]);
		m[n / 8] |= (uint8_t)(compress(w.c[n], 1) << (n % 8));
	}
	wipe(&u, sizeof(u));
	wipe(&s, sizeof(s));
	wipe(&w, sizeof(w));
	wipe(acc, sizeof(acc));
}

/* ---- ML-KEM (FIPS 203 algorithms 16-21) ---- */

int
mlkem768_keypair_derand(uint8_t ek[MLKEM768_EK_SIZE],
    uint8_t dk[MLKEM768_DK_SIZE], const uint8_t d[MLKEM768_SEED_SIZE],
    const uint8_t z[MLKEM768_SEED_SIZE])
{
	int r;

	if ((r = pke_keygen(ek, dk, d)) != 0)
		goto out;
	memcpy(dk + DK_EK, ek, MLKEM768_EK_SIZE);
	if ((r = sha3_256(dk + DK_H, ek, MLKEM768_EK_SIZE)) != 0)
		goto out;
	memcpy(dk + DK_Z, z, MLKEM768_SEED_SIZE);
out:
	if (r != 0) {
		wipe(ek, MLKEM768_EK_SIZE);
		wipe(dk, MLKEM768_DK_SIZE);
	}
	return r;
}

int
mlkem768_keypair(uint8_t ek[MLKEM768_EK_SIZE], uint8_t dk[MLKEM768_DK_SIZE])
{
	uint8_t seeds[2 * MLKEM768_SEED_SIZE];
	int r;

	random_bytes(seeds, sizeof(seeds));
	r = mlkem768_keypair_derand(ek, dk, seeds, seeds + MLKEM768_SEED_SIZE);
	wipe(seeds, sizeof(seeds));
	return r;
}

int
mlkem768_encaps_derand(uint8_t ct[MLKEM768_CT_SIZE],
    uint8_t ss[MLKEM768_SS_SIZE], const uint8_t ek[MLKEM768_EK_SIZE],
    const uint8_t m[MLKEM768_SEED_SIZE])
{
	uint8_t in[64], kr[64];
	struct poly t;
	size_t i;
	int r;

	/* Modulus check: every coefficient of ek is already reduced. */
	for (i = 0; i < K; i++) {
		if (decode12(&t, ek + i * POLY_BYTES) != 0) {
			r = ERR_BAD_KEY;
			goto out;
		}
	}
	/* (K, r) = G(m || H(ek)) */
	memcpy(in, m, 32);
	if ((r = sha3_256(in + 32, ek, MLKEM768_EK_SIZE)) != 0 ||
	    (r = sha3_512(kr, in, sizeof(in))) != 0 ||
	    (r = pke_encrypt(ct, ek, m, kr + 32)) != 0)
		goto out;
	memcpy(ss, kr, MLKEM768_SS_SIZE);
out:
	wipe(in, sizeof(in));
	wipe(kr, sizeof(kr));
	if (r != 0) {
		wipe(ct, MLKEM768_CT_SIZE);
		wipe(ss, MLKEM768_SS_SIZE);
	}
	return r;
}

int
mlkem768_encaps(uint8_t ct[MLKEM768_CT_SIZE], uint8_t ss[MLKEM768_SS_SIZE],
    const uint8_t ek[MLKEM768_EK_SIZE])
{
	uint8_t m[MLKEM768_SEED_SIZE];
	int r;

	random_bytes(m, sizeof(m));
	r = mlkem768_encaps_derand(ct, ss, ek, m);
	wipe(m, sizeof(m));
	return r;
}

int
mlkem768_decaps(uint8_t ss[MLKEM768_SS_SIZE],
    const uint8_t ct[MLKEM768_CT_SIZE], const uint8_t dk[MLKEM768_DK_SIZE])
{
	const uint8_t *ek = dk + DK_EK, *h = dk + DK_H, *z = dk + DK_Z;
	uint8_t in[64], kr[64], kbar[32], hek[32], ct2[MLKEM768_CT_SIZE];
	uint8_t keep = 0;
	size_t i;
	int r;

	/* Hash check: H(ek) as stored in dk. */
	if ((r = sha3_256(hek, ek, MLKEM768_EK_SIZE)) != 0)
		goto out;
	if (!ct_eq(hek, h, sizeof(hek))) {
		r = ERR_BAD_KEY;
		goto out;
	}
	/* m' = Decrypt(c); (K', r') = G(m' || h); c' = Encrypt(m', r') */
	pke_decrypt(in, dk, ct);
	memcpy(in + 32, h, 32);
	if ((r = sha3_512(kr, in, sizeof(in))) != 0)
		goto out;
	r = shake256(kbar, sizeof(kbar), z, 32, ct, MLKEM768_CT_SIZE);
	if (r != 0 || (r = pke_encrypt(ct2, ek, in, kr + 32)) != 0)
		goto out;
	/* Implicit rejection: K' if c' == c, else J(z || c). */
	keep = (uint8_t)(0 - ct_eq(ct, ct2, MLKEM768_CT_SIZE));
	for (i = 0; i < MLKEM768_SS_SIZE; i++)
		ss[i] = kbar[i] ^ (keep & (kbar[i] ^ kr[i]));
out:
	wipe(in, sizeof(in));
	wipe(kr, sizeof(kr));
	wipe(kbar, sizeof(kbar));
	wipe(ct2, sizeof(ct2));
	wipe(&keep, sizeof(keep));
	if (r != 0)
		wipe(ss, MLKEM768_SS_SIZE);
	return r;
}
