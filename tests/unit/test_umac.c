/*
 * test_umac.c: UMAC against the test vectors of RFC 4418 appendix
 * (key "abcdefghijklmnop", nonce "bcdefghi"; 32-, 64- and 96-bit tags),
 * with erratum 3507 applied to the 2^25-byte row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tests/unit/t.h"
#include "umac.h"

struct vec {
	const char *what;
	char fill; /* repeated byte, or 0 for "abc" repeated */
	size_t len;
	const char *t32, *t64, *t96;
};

static const struct vec vecs[] = {
    {"<empty>", 'a', 0, "113145FB", "6E155FAD26900BE1",
        "32FEDB100C79AD58F07FF764"},
    {"'a' * 3", 'a', 3, "3B91D102", "44B5CB542F220104",
        "185E4FE905CBA7BD85E4C2DC"},
    {"'a' * 2^10", 'a', 1 << 10, "599B350B", "26BF2F5D60118BD9",
        "7A54ABE04AF82D60FB298C3C"},
    {"'a' * 2^15", 'a', 1 << 15, "58DCF532", "27F8EF643B0D118D",
        "7B136BD911E4B734286EF2BE"},
    {"'a' * 2^20", 'a', 1 << 20, "DB6364D1", "A4477E87E9F55853",
        "F8ACFA3AC31CFEEA047F7B11"},
    /* RFC errata ID 3507: the printed row for 2^25 is wrong. */
    {"'a' * 2^25", 'a', 1 << 25, "85EE5CAE", "FACA46F856E9B45F",
        "A621C2457C0012E64F3FDAE9"},
    {"'abc' * 1", 0, 3, "ABF3A3A0", "D4D7B9F6BD4FBFCF",
        "883C3D4B97A61976FFCF2323"},
    {"'abc' * 500", 0, 1500, "ABEB3C8B", "D4CF26DDEFD5C01A",
        "8824A260C53C66A36C9260A6"},
};

static void
check(struct umac_ctx *ctx, const struct vec *v, const uint8_t *msg,
    size_t taglen, const char *hex)
{
	uint8_t want[UMAC_MAX_TAG], got[UMAC_MAX_TAG];
	char name[128];
	size_t i;

	t_hex(hex, want, sizeof(want));
	snprintf(name, sizeof(name), "UMAC-%zu %s", taglen * 8, v->what);
	T_CHECK(name,
	    umac_compute(ctx, msg, v->len, (const uint8_t *)"bcdefghi", got) ==
	            0 &&
	        memcmp(got, want, taglen) == 0);
	if (memcmp(got, want, taglen) != 0) {
		printf("# got  ");
		for (i = 0; i < taglen; i++)
			printf("%02X", got[i]);
		printf("\n# want %s\n", hex);
	}
}

/* The constant-time reductions agree with %, at the edges and at random. */
static void
check_reductions(void)
{
	const uint64_t p64 = 0xFFFFFFFFFFFFFFFFULL - 58, p36 = (1ULL << 36) - 5;
	const unsigned __int128 edges[] = {0, 1, p64 - 1, p64, p64 + 1,
	    (unsigned __int128)p64 * 2, ~(uint64_t)0,
	    (unsigned __int128)~(uint64_t)0 << 64,
	    ((unsigned __int128)~(uint64_t)0 << 64) | ~(uint64_t)0,
	    (unsigned __int128)p64 * p64 + p64 - 1};
	uint64_t x = 0x9E3779B97F4A7C15ULL, v;
	unsigned __int128 t;
	int i, bad64 = 0, bad36 = 0;

	for (i = 0; i < (int)(sizeof(edges) / sizeof(edges[0])); i++)
		bad64 += umac_mod_p64(edges[i]) != (uint64_t)(edges[i] % p64);
	for (i = 0; i < 36; i++) {
		v = (1ULL << 36) + (uint64_t)i - 40;
		bad36 += umac_mod_p36(v) != v % p36;
	}
	bad36 += umac_mod_p36(~(uint64_t)0) != ~(uint64_t)0 % p36;
	for (i = 0; i < 200000; i++) {
		/* xorshift64*: any mix of high and low halves */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		v = x * 0x2545F4914F6CDD1DULL;
		t = ((unsigned __int128)v << 64 | (v ^ x)) >> (i % 64);
		bad64 += umac_mod_p64(t) != (uint64_t)(t % p64);
		bad36 += umac_mod_p36(v >> (i % 40)) != (v >> (i % 40)) % p36;
	}
	T_CHECK("mod 2^64-59 as %", bad64 == 0);
	T_CHECK("mod 2^36-5 as %", bad36 == 0);
}

int
main(void)
{
	const uint8_t *key = (const uint8_t *)"abcdefghijklmnop";
	struct umac_ctx *c32 = NULL, *c64 = NULL, *c96 = NULL, *c128 = NULL;
	uint8_t *msg, t1[16], t2[16];
	size_t i, j;

	check_reductions();
	T_CHECK("umac_new 32", umac_new(&c32, key, 4) == 0);
	T_CHECK("umac_new 64", umac_new(&c64, key, 8) == 0);
	T_CHECK("umac_new 96", umac_new(&c96, key, 12) == 0);
	T_CHECK("umac_new refuses 5 bytes",
	    umac_new(&c128, key, 5) == ERR_INTERNAL && c128 == NULL);
	T_CHECK("umac_new 128", umac_new(&c128, key, 16) == 0);
	if ((msg = malloc((size_t)1 << 25)) == NULL)
		return 1;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];

		for (j = 0; j < v->len; j++)
			msg[j] =
			    v->fill ? (uint8_t)v->fill : (uint8_t) "abc"[j % 3];
		check(c32, v, msg, 4, v->t32);
		check(c64, v, msg, 8, v->t64);
		check(c96, v, msg, 12, v->t96);
	}
	/*
	 * UMAC-128 has no published vector; its first 12 bytes are UHASH
	 * iterations 1-3 like UMAC-96's, so they differ from UMAC-96's tag
	 * only by the pad. Check it is deterministic and nonce-dependent.
	 */
	T_CHECK("UMAC-128 deterministic",
	    umac_compute(c128, msg, 100, (const uint8_t *)"bcdefghi", t1) ==
	            0 &&
	        umac_compute(c128, msg, 100, (const uint8_t *)"bcdefghi", t2) ==
	            0 &&
	        memcmp(t1, t2, 16) == 0);
	T_CHECK("UMAC-128 nonce matters",
	    umac_compute(c128, msg, 100, (const uint8_t *)"bcdefghj", t2) ==
	            0 &&
	        memcmp(t1, t2, 16) != 0);
	free(msg);
	umac_free(c32);
	umac_free(c64);
	umac_free(c96);
	umac_free(c128);
	return T_DONE();
}
