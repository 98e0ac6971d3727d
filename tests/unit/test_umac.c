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

int
main(void)
{
	const uint8_t *key = (const uint8_t *)"abcdefghijklmnop";
	struct umac_ctx *c32 = NULL, *c64 = NULL, *c96 = NULL, *c128 = NULL;
	uint8_t *msg, t1[16], t2[16];
	size_t i, j;

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
