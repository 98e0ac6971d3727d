/*
 * sntrup761.c: Streamlined NTRU Prime sntrup761 from the round-3
 * specification, constant time in every secret; SHA-512 from libcrypto.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sntrup761.h"

#define P 761
#define Q 4591
#define W 286
#define Q12 ((Q - 1) / 2)         /* R/q coefficients live in [-Q12, Q12] */
#define ROUNDED_MOD ((Q + 2) / 3) /* 1531 values of Round() */
#define SMALL_BYTES ((P + 3) / 4)
#define RQ_BYTES SNTRUP761_PUBLICKEY_SIZE
#define ROUNDED_BYTES 1007
#define HASH_BYTES 32

/* Secret key: f, 1/g in R/3, the public key, rho, Hash4(pk). */
#define SK_F 0
#define SK_GINV SMALL_BYTES
#define SK_PK (2 * SMALL_BYTES)
#define SK_RHO (SK_PK + RQ_BYTES)
#define SK_CACHE (SK_RHO + SMALL_BYTES)

_Static_assert(SK_CACHE + HASH_BYTES == SNTRUP761_SECRETKEY_SIZE, "sk");
_Static_assert(ROUNDED_BYTES + HASH_BYTES == SNTRUP761_CIPHERTEXT_SIZE, "ct");

#define SORT_N 1024 /* sorting network width, a power of two >= P */

static void (*test_random)(void *, size_t);

void
sntrup761_set_random_for_test(void (*fn)(void *, size_t))
{
	test_random = fn;
}

static void
random_fill(void *p, size_t len)
{
	if (test_random != NULL)
		test_random(p, len);
	else
		random_bytes(p, len);
}

/* random_words: n uniform words; 4 bytes per draw under the test hook. */
static void
random_words(uint32_t *out, size_t n)
{
	uint8_t b[4];
	size_t i;

	if (test_random == NULL) {
		random_bytes(out, n * sizeof(*out));
		return;
	}
	for (i = 0; i < n; i++) {
		test_random(b, sizeof(b));
		out[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	}
	wipe(b, sizeof(b));
}

/* ---- constant-time helpers ---- */

/* mask_nonzero: -1 when x != 0, else 0. */
static int32_t
mask_nonzero(int32_t x)
{
	uint32_t u = (uint32_t)x;

	return -(int32_t)((u | (0 - u)) >> 31);
}

/* mask_negative: -1 when x < 0, else 0. */
static int32_t
mask_negative(int32_t x)
{
	return -(int32_t)((uint32_t)x >> 31);
}

/*
 * ct_barrier: x, opaque to the optimiser. Without it clang sees that a
 * mask is 0 or -1 and compiles the selects on it into branches on the
 * secret (found by valgrind with the secret key marked undefined).
 */
static int32_t
ct_barrier(int32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* freeze_q: x mod Q in [-Q12, Q12], for |x| < 2^26. */
static int16_t
freeze_q(int32_t x)
{
	/* 935519 / 2^32 approximates 1/Q; the two steps after it absorb the
	 * off-by-one of a rounded quotient. */
	int32_t t = (int32_t)(((int64_t)x * 935519 + ((int64_t)1 << 31)) >> 32);

	x -= t * Q;
	x += Q & mask_negative(x + Q12);
	x -= Q & mask_negative(Q12 - x);
	return (int16_t)x;
}

/* freeze_3: x mod 3 in {-1, 0, 1}, for |x| < 2^14. */
static int8_t
freeze_3(int32_t x)
{
	/* x/3 is never within 1/6 of a half, so this rounding is exact. */
	return (int8_t)(x - 3 * ((10923 * x + 16384) >> 15));
}

/* ct_minmax: (a, b) = (min, max) without a branch. */
static void
ct_minmax(uint32_t *a, uint32_t *b)
{
	uint32_t x = *a, y = *b;
	uint32_t swap = 0 - (uint32_t)(((uint64_t)y - x) >> 63);
	uint32_t t = (x ^ y) & swap;

	*a = x ^ t;
	*b = y ^ t;
}

/* sort_u32: ascending, by a bitonic network padded to SORT_N entries. */
static void
sort_u32(uint32_t *x, size_t n)
{
	uint32_t v[SORT_N];
	size_t i, j, k, l;

	memcpy(v, x, n * sizeof(*x));
	for (i = n; i < SORT_N; i++)
		v[i] = UINT32_MAX;
	for (k = 2; k <= SORT_N; k <<= 1) {
		for (j = k >> 1; j > 0; j >>= 1) {
			for (i = 0; i < SORT_N; i++) {
				if ((l = i ^ j) <= i)
					continue;
				if ((i & k) == 0)
					ct_minmax(&v[i], &v[l]);
				else
					ct_minmax(&v[l], &v[i]);
			}
		}
	}
	memcpy(x, v, n * sizeof(*x));
	wipe(v, sizeof(v));
}

/* ---- polynomial arithmetic modulo x^P - x - 1 ---- */

/*
 * mul_fold: acc = a*b reduced by x^P = x + 1, coefficients unreduced
 * (|acc| <= 3*P*max|a|). b is zero-padded so the inner loop has a fixed
 * length the compiler can vectorise.
 */
#define MUL_PAD 768
static void
mul_fold(int32_t acc[P + MUL_PAD], const int16_t *a, const int8_t *b)
{
	int16_t bp[MUL_PAD];
	size_t i, j;

	memset(bp, 0, sizeof(bp));
	for (j = 0; j < P; j++)
		bp[j] = b[j];
	memset(acc, 0, (P + MUL_PAD) * sizeof(*acc));
	for (i = 0; i < P; i++) {
		int32_t *row = acc + i;
		int32_t ai = a[i];

		for (j = 0; j < MUL_PAD; j++)
			row[j] += ai * bp[j];
	}
	for (i = 2 * P - 2; i >= P; i--) {
		acc[i - P] += acc[i];
		acc[i - P + 1] += acc[i];
	}
	wipe(bp, sizeof(bp));
}

/* rq_mul_small: h = a*b in R/q for a in R/q and b small. */
static void
rq_mul_small(int16_t h[P], const int16_t a[P], const int8_t b[P])
{
	int32_t acc[P + MUL_PAD];
	size_t i;

	mul_fold(acc, a, b);
	for (i = 0; i < P; i++)
		h[i] = freeze_q(acc[i]);
	wipe(acc, sizeof(acc));
}

/* r3_mul: h = a*b in R/3. */
static void
r3_mul(int8_t h[P], const int8_t a[P], const int8_t b[P])
{
	int32_t acc[P + MUL_PAD];
	int16_t a16[P];
	size_t i;

	for (i = 0; i < P; i++)
		a16[i] = a[i];
	mul_fold(acc, a16, b);
	for (i = 0; i < P; i++)
		h[i] = freeze_3(acc[i]);
	wipe(acc, sizeof(acc));
	wipe(a16, sizeof(a16));
}

/*
 * Inversion by Bernstein-Yang division steps on reversed polynomials:
 * f starts as the reversal 1 - x^(P-1) - x^P of the modulus, g as the
 * reversal of the input, v = 0 and r = r0. Each step multiplies v by x,
 * swaps (f, v) with (g, r) when delta > 0 and g[0] != 0, then cancels
 * g's constant term with (g[0]/f[0])*f (the same multiple of v leaves r)
 * and divides g by x. After 2P-1 steps delta is 0 exactly when the input
 * is invertible, and v reversed and divided by f[0] is r0/input.
 *
 * Every step touches all PAD entries, so the loops have a fixed length
 * the compiler can vectorise and the timing cannot depend on the input.
 * Entries above P stay zero in f and g; those of v and r never reach the
 * result.
 */
#define PAD 768 /* P + 1 rounded up to a multiple of 32 */

/* freeze3_small: x mod 3 in {-1, 0, 1} for x in [-2, 2], in 16 bits. */
static int16_t
freeze3_small(int16_t x)
{
	int16_t lo = (int16_t)(x + 1), hi = (int16_t)(1 - x);

	return (int16_t)(x + (3 & (lo >> 15)) - (3 & (hi >> 15)));
}

/* cswap_pad: swap a and b when mask is -1, leave them when it is 0. */
static void
cswap_pad(int16_t *restrict a, int16_t *restrict b, int16_t mask)
{
	int i;

	for (i = 0; i < PAD; i++) {
		int16_t t = mask & (a[i] ^ b[i]);

		a[i] ^= t;
		b[i] ^= t;
	}
}

/* r3_eliminate: g -= c*f in R/3. */
static void
r3_eliminate(int16_t *restrict g, const int16_t *restrict f, int16_t c)
{
	int i;

	for (i = 0; i < PAD; i++)
		g[i] = freeze3_small((int16_t)(g[i] - c * f[i]));
}

/* r3_recip: out = 1/in in R/3; 0 if invertible, else -1. */
static int
r3_recip(int8_t out[P], const int8_t in[P])
{
	int16_t f[PAD], g[PAD], v[PAD], r[PAD], c;
	int32_t delta = 1, swap;
	int n, i;

	memset(f, 0, sizeof(f));
	memset(g, 0, sizeof(g));
	memset(v, 0, sizeof(v));
	memset(r, 0, sizeof(r));
	r[0] = 1;
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (i = 0; i < P; i++)
		g[P - 1 - i] = in[i];

	for (n = 0; n < 2 * P - 1; n++) {
		memmove(v + 1, v, (PAD - 1) * sizeof(*v));
		v[0] = 0;

		swap = mask_negative(-delta) & mask_nonzero(g[0]);
		delta ^= swap & (delta ^ -delta);
		delta += 1;
		cswap_pad(f, g, (int16_t)swap);
		cswap_pad(v, r, (int16_t)swap);

		/* f[0] is +-1, so g[0]/f[0] = g[0]*f[0]. */
		c = (int16_t)(g[0] * f[0]);
		r3_eliminate(g, f, c);
		r3_eliminate(r, v, c);
		memmove(g, g + 1, (PAD - 1) * sizeof(*g));
		g[PAD - 1] = 0;
	}

	for (i = 0; i < P; i++)
		out[i] = (int8_t)(f[0] * v[P - 1 - i]);
	swap = mask_nonzero(delta);
	wipe(f, sizeof(f));
	wipe(g, sizeof(g));
	wipe(v, sizeof(v));
	wipe(r, sizeof(r));
	return (int)swap;
}

/* fq_recip: 1/a in Z/q by a^(Q-2); the exponent is public. */
static int16_t
fq_recip(int16_t a)
{
	int32_t base = a, acc = 1;
	int e;

	for (e = Q - 2; e > 0; e >>= 1) {
		if (e & 1)
			acc = freeze_q(acc * base);
		base = freeze_q(base * base);
	}
	return (int16_t)acc;
}

#define MONT_R 1262     /* 2^16 mod Q */
#define Q_INV 15631     /* 1/Q mod 2^16 */
#define BARRETT16 14617 /* floor(2^26/Q) */

/* mulhi16: the high half of a 16x16-bit product. */
static int16_t
mulhi16(int16_t a, int16_t b)
{
	return (int16_t)(((int32_t)a * b) >> 16);
}

/*
 * mont_mul: a*b/2^16 mod Q in (-Q, Q). The low halves of a*b and m*Q are
 * equal by the choice of m, so the difference of the high halves is exact.
 */
static int16_t
mont_mul(int16_t a, int16_t b)
{
	int16_t lo = (int16_t)((int32_t)a * b);
	int16_t m = (int16_t)((int32_t)lo * Q_INV);

	return (int16_t)(mulhi16(a, b) - mulhi16(m, Q));
}

/* freeze_q16: x mod Q in [-Q12, Q12], exact for |x| <= 3*Q/2. */
static int16_t
freeze_q16(int16_t x)
{
	int16_t t = (int16_t)((mulhi16(x, BARRETT16) + 512) >> 10);

	return (int16_t)(x - t * Q);
}

/*
 * rq_eliminate: g -= (c/2^16)*f in R/q. Out of line so that clang, too,
 * sees the restrict pointers and vectorises the loop.
 */
__attribute__((noinline)) static void
rq_eliminate(int16_t *restrict g, const int16_t *restrict f, int16_t c)
{
	int i;

	for (i = 0; i < PAD; i++)
		g[i] = freeze_q16((int16_t)(g[i] - mont_mul(c, f[i])));
}

/* rq_recip3: out = 1/(3*in) in R/q, which is a field, so it always works. */
static void
rq_recip3(int16_t out[P], const int8_t in[P])
{
	int16_t f[PAD], g[PAD], v[PAD], r[PAD], c;
	int32_t delta = 1, swap;
	int n, i;

	memset(f, 0, sizeof(f));
	memset(g, 0, sizeof(g));
	memset(v, 0, sizeof(v));
	memset(r, 0, sizeof(r));
	r[0] = fq_recip(3);
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (i = 0; i < P; i++)
		g[P - 1 - i] = in[i];

	for (n = 0; n < 2 * P - 1; n++) {
		memmove(v + 1, v, (PAD - 1) * sizeof(*v));
		v[0] = 0;

		swap = mask_negative(-delta) & mask_nonzero(g[0]);
		delta ^= swap & (delta ^ -delta);
		delta += 1;
		cswap_pad(f, g, (int16_t)swap);
		cswap_pad(v, r, (int16_t)swap);

		/* c = (g[0]/f[0])*2^16, so mont_mul(c, x) = (g[0]/f[0])*x. */
		c = freeze_q(freeze_q(g[0] * fq_recip(f[0])) * MONT_R);
		rq_eliminate(g, f, c);
		rq_eliminate(r, v, c);
		memmove(g, g + 1, (PAD - 1) * sizeof(*g));
		g[PAD - 1] = 0;
	}

	c = fq_recip(f[0]);
	for (i = 0; i < P; i++)
		out[i] = freeze_q(c * v[P - 1 - i]);
	wipe(f, sizeof(f));
	wipe(g, sizeof(g));
	wipe(v, sizeof(v));
	wipe(r, sizeof(r));
	wipe(&c, sizeof(c));
}

/* ---- encodings (spec section "Encode" / "Decode") ---- */

/*
 * encode: the spec's Encode(R, M) for r[i] < m[i], both clobbered. Pairs
 * merge level by level, each emitting its low bytes while the combined
 * modulus is at least 2^14. The byte count depends on m alone.
 */
static size_t
encode(uint8_t *out, uint32_t *r, uint32_t *m, size_t len)
{
	size_t i, k, n = 0;
	uint32_t rr, mm;

	while (len > 1) {
		for (i = 0, k = 0; i + 1 < len; i += 2, k++) {
			mm = m[i] * m[i + 1];
			rr = r[i] + m[i] * r[i + 1];
			while (mm >= 16384) {
				out[n++] = (uint8_t)rr;
				rr >>= 8;
				mm = (mm + 255) >> 8;
			}
			r[k] = rr;
			m[k] = mm;
		}
		if (len & 1) {
			r[k] = r[len - 1];
			m[k] = m[len - 1];
			k++;
		}
		len = k;
	}
	if (len == 1) {
		for (rr = r[0], mm = m[0]; mm > 1; mm = (mm + 255) >> 8) {
			out[n++] = (uint8_t)rr;
			rr >>= 8;
		}
	}
	return n;
}

/*
 * decode: the spec's Decode(S, M), the inverse of encode(), on public
 * data only (it divides). scratch holds 3*len words for this level and
 * those below.
 */
static void
decode(uint32_t *out, const uint8_t *s, const uint32_t *m, size_t len,
    uint32_t *scratch)
{
	size_t half = len / 2, len2 = (len + 1) / 2, i, k = 0;
	uint32_t *m2 = scratch, *r2 = scratch + len2, *bottom = r2 + len2;
	uint32_t rr, mm, t;

	if (len == 0)
		return;
	if (len == 1) {
		for (rr = 0, t = 0, mm = m[0]; mm > 1; mm = (mm + 255) >> 8) {
			rr |= (uint32_t)s[k++] << t;
			t += 8;
		}
		out[0] = m[0] > 1 ? rr % m[0] : 0;
		return;
	}
	for (i = 0; i < half; i++) {
		mm = m[2 * i] * m[2 * i + 1];
		for (rr = 0, t = 0; mm >= 16384; mm = (mm + 255) >> 8) {
			rr |= (uint32_t)s[k++] << t;
			t += 8;
		}
		bottom[i] = rr;
		m2[i] = mm;
	}
	if (len & 1)
		m2[half] = m[len - 1];
	decode(r2, s + k, m2, len2, bottom + half);
	for (i = 0; i < half; i++) {
		mm = m[2 * i] * m[2 * i + 1];
		for (t = 0; mm >= 16384; mm = (mm + 255) >> 8)
			t += 8;
		rr = bottom[i] + (r2[i] << t);
		out[2 * i] = rr % m[2 * i];
		out[2 * i + 1] = (rr / m[2 * i]) % m[2 * i + 1];
	}
	if (len & 1)
		out[len - 1] = r2[half];
}

static void
rq_encode(uint8_t out[RQ_BYTES], const int16_t h[P])
{
	uint32_t r[P], m[P];
	size_t i;

	for (i = 0; i < P; i++) {
		r[i] = (uint32_t)(h[i] + Q12);
		m[i] = Q;
	}
	encode(out, r, m, P);
}

static void
rq_decode(int16_t h[P], const uint8_t in[RQ_BYTES])
{
	uint32_t r[P], m[P], scratch[3 * P + 64];
	size_t i;

	for (i = 0; i < P; i++)
		m[i] = Q;
	decode(r, in, m, P, scratch);
	for (i = 0; i < P; i++)
		h[i] = (int16_t)((int32_t)r[i] - Q12);
}

/* rounded_encode: c holds multiples of 3; (c + Q12)/3 by multiplication. */
static void
rounded_encode(uint8_t out[ROUNDED_BYTES], const int16_t c[P])
{
	uint32_t r[P], m[P];
	size_t i;

	for (i = 0; i < P; i++) {
		r[i] = ((uint32_t)(c[i] + Q12) * 10923) >> 15;
		m[i] = ROUNDED_MOD;
	}
	encode(out, r, m, P);
	wipe(r, sizeof(r));
}

static void
rounded_decode(int16_t c[P], const uint8_t in[ROUNDED_BYTES])
{
	uint32_t r[P], m[P], scratch[3 * P + 64];
	size_t i;

	for (i = 0; i < P; i++)
		m[i] = ROUNDED_MOD;
	decode(r, in, m, P, scratch);
	for (i = 0; i < P; i++)
		c[i] = (int16_t)((int32_t)r[i] * 3 - Q12);
}

/* small_encode: four coefficients (+1, two bits each) per byte. */
static void
small_encode(uint8_t out[SMALL_BYTES], const int8_t f[P])
{
	size_t i, j;
	uint8_t b;

	for (i = 0; i < SMALL_BYTES; i++) {
		b = 0;
		for (j = 0; j < 4 && 4 * i + j < P; j++)
			b |= (uint8_t)((f[4 * i + j] + 1) << (2 * j));
		out[i] = b;
	}
}

static void
small_decode(int8_t f[P], const uint8_t in[SMALL_BYTES])
{
	size_t i;

	for (i = 0; i < P; i++)
		f[i] = (int8_t)(((in[i / 4] >> (2 * (i % 4))) & 3) - 1);
}

/* ---- sampling ---- */

/* short_random: a uniform element of weight W: +-1 in W random places. */
static void
short_random(int8_t out[P])
{
	uint32_t l[P];
	size_t i;

	random_words(l, P);
	/* Low bits 0 or 2 mark +-1, 1 marks 0; sorting by the random high
	 * bits shuffles them. */
	for (i = 0; i < W; i++)
		l[i] &= ~(uint32_t)1;
	for (i = W; i < P; i++)
		l[i] = (l[i] & ~(uint32_t)3) | 1;
	sort_u32(l, P);
	for (i = 0; i < P; i++)
		out[i] = (int8_t)((l[i] & 3) - 1);
	wipe(l, sizeof(l));
}

/* small_random: uniform coefficients in {-1, 0, 1}. */
static void
small_random(int8_t out[P])
{
	uint32_t l[P];
	size_t i;

	random_words(l, P);
	for (i = 0; i < P; i++)
		out[i] = (int8_t)((((l[i] & 0x3fffffff) * 3) >> 30) - 1);
	wipe(l, sizeof(l));
}

/* ---- hashing ---- */

/* hash_prefix: Hash_b(a || c), the first 32 bytes of SHA-512(b || a || c). */
static int
hash_prefix(uint8_t out[HASH_BYTES], uint8_t b, const uint8_t *a, size_t alen,
    const uint8_t *c, size_t clen)
{
	uint8_t buf[1 + RQ_BYTES], h[DIGEST_MAX_LEN];
	int r;

	if (alen + clen > RQ_BYTES)
		return ERR_INTERNAL;
	buf[0] = b;
	memcpy(buf + 1, a, alen);
	if (clen > 0)
		memcpy(buf + 1 + alen, c, clen);
	if ((r = digest_memory(DIGEST_SHA512, buf, 1 + alen + clen, h)) == 0)
		memcpy(out, h, HASH_BYTES);
	wipe(buf, 1 + alen + clen);
	wipe(h, sizeof(h));
	return r;
}

/*
 * hide: ct = Encrypt(r, pk) || Hash2(Hash3(r_enc) || Hash4(pk)), with
 * r_enc = Small_encode(r) and h3 = Hash3(r_enc) handed back.
 */
static int
hide(uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE], uint8_t r_enc[SMALL_BYTES],
    uint8_t h3[HASH_BYTES], const int8_t r[P], const uint8_t pk[RQ_BYTES],
    const uint8_t cache[HASH_BYTES])
{
	int16_t h[P], c[P];
	size_t i;
	int ret;

	small_encode(r_enc, r);
	rq_decode(h, pk);
	rq_mul_small(c, h, r);
	for (i = 0; i < P; i++)
		c[i] = (int16_t)(c[i] - freeze_3(c[i]));
	rounded_encode(ct, c);
	if ((ret = hash_prefix(h3, 3, r_enc, SMALL_BYTES, NULL, 0)) != 0)
		goto out;
	ret = hash_prefix(
	    ct + ROUNDED_BYTES, 2, h3, HASH_BYTES, cache, HASH_BYTES);
out:
	wipe(c, sizeof(c));
	return ret;
}

/* ---- the KEM ---- */

int
sntrup761_keypair(
    uint8_t pk[SNTRUP761_PUBLICKEY_SIZE], uint8_t sk[SNTRUP761_SECRETKEY_SIZE])
{
	int8_t f[P], g[P], ginv[P];
	int16_t finv[P], h[P];
	int r;

	/* Retrying a g without an inverse tells nothing about the g kept. */
	do {
		small_random(g);
	} while (r3_recip(ginv, g) != 0);
	short_random(f);
	rq_recip3(finv, f);
	rq_mul_small(h, finv, g);
	rq_encode(pk, h);

	small_encode(sk + SK_F, f);
	small_encode(sk + SK_GINV, ginv);
	memcpy(sk + SK_PK, pk, RQ_BYTES);
	random_fill(sk + SK_RHO, SMALL_BYTES);
	r = hash_prefix(sk + SK_CACHE, 4, pk, RQ_BYTES, NULL, 0);

	wipe(f, sizeof(f));
	wipe(g, sizeof(g));
	wipe(ginv, sizeof(ginv));
	wipe(finv, sizeof(finv));
	if (r != 0) {
		wipe(pk, SNTRUP761_PUBLICKEY_SIZE);
		wipe(sk, SNTRUP761_SECRETKEY_SIZE);
	}
	return r;
}

int
sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE],
    uint8_t ss[SNTRUP761_SHARED_SIZE],
    const uint8_t pk[SNTRUP761_PUBLICKEY_SIZE])
{
	uint8_t cache[HASH_BYTES], r_enc[SMALL_BYTES], h3[HASH_BYTES];
	int8_t rs[P];
	int r;

	if ((r = hash_prefix(cache, 4, pk, RQ_BYTES, NULL, 0)) != 0)
		goto out;
	short_random(rs);
	if ((r = hide(ct, r_enc, h3, rs, pk, cache)) != 0)
		goto out;
	r = hash_prefix(ss, 1, h3, HASH_BYTES, ct, SNTRUP761_CIPHERTEXT_SIZE);
out:
	wipe(rs, sizeof(rs));
	wipe(r_enc, sizeof(r_enc));
	wipe(h3, sizeof(h3));
	if (r != 0) {
		wipe(ct, SNTRUP761_CIPHERTEXT_SIZE);
		wipe(ss, SNTRUP761_SHARED_SIZE);
	}
	return r;
}

int
sntrup761_dec(uint8_t ss[SNTRUP761_SHARED_SIZE],
    const uint8_t ct[SNTRUP761_CIPHERTEXT_SIZE],
    const uint8_t sk[SNTRUP761_SECRETKEY_SIZE])
{
	uint8_t cnew[SNTRUP761_CIPHERTEXT_SIZE], r_enc[SMALL_BYTES];
	uint8_t h3[HASH_BYTES], diff = 0;
	const uint8_t *rho = sk + SK_RHO;
	int8_t f[P], ginv[P], e[P], ev[P], rs[P];
	int16_t c[P], cf[P];
	int32_t mask;
	size_t i;
	int r;

	small_decode(f, sk + SK_F);
	small_decode(ginv, sk + SK_GINV);
	rounded_decode(c, ct);

	/* e = 3*c*f in R/q, lifted to R/3; r = e/g unless its weight is off */
	rq_mul_small(cf, c, f);
	for (i = 0; i < P; i++)
		e[i] = freeze_3(freeze_q(3 * cf[i]));
	r3_mul(ev, e, ginv);
	mask = 0;
	for (i = 0; i < P; i++)
		mask += ev[i] & 1;
	mask = ct_barrier(mask_nonzero(mask - W));
	for (i = 0; i < W; i++)
		rs[i] = (int8_t)(((ev[i] ^ 1) & ~mask) ^ 1);
	for (i = W; i < P; i++)
		rs[i] = (int8_t)(ev[i] & ~mask);

	/* Re-encrypt; on any difference hash rho instead (implicit rejection). */
	if ((r = hide(cnew, r_enc, h3, rs, sk + SK_PK, sk + SK_CACHE)) != 0)
		goto out;
	for (i = 0; i < SNTRUP761_CIPHERTEXT_SIZE; i++)
		diff |= ct[i] ^ cnew[i];
	mask = ct_barrier(mask_nonzero(diff));
	for (i = 0; i < SMALL_BYTES; i++)
		r_enc[i] ^= (uint8_t)(mask & (r_enc[i] ^ rho[i]));
	if ((r = hash_prefix(h3, 3, r_enc, SMALL_BYTES, NULL, 0)) != 0)
		goto out;
	r = hash_prefix(ss, (uint8_t)(1 + mask), h3, HASH_BYTES, ct,
	    SNTRUP761_CIPHERTEXT_SIZE);
out:
	wipe(cnew, sizeof(cnew));
	wipe(r_enc, sizeof(r_enc));
	wipe(h3, sizeof(h3));
	wipe(f, sizeof(f));
	wipe(ginv, sizeof(ginv));
	wipe(e, sizeof(e));
	wipe(ev, sizeof(ev));
	wipe(rs, sizeof(rs));
	wipe(cf, sizeof(cf));
	wipe(&mask, sizeof(mask));
	if (r != 0)
		wipe(ss, SNTRUP761_SHARED_SIZE);
	return r;
}
