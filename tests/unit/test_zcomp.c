/*
 * test_zcomp.c: packet compression: a stream across packets round-trips
 * (every size around the 4 KiB output chunk, so some packet's output fills
 * a chunk exactly), a decompression bomb stops at the bound, corrupt data
 * is refused; a recorded stream rebuilt from its history continues
 * exactly (both directions), and a history that does not replay to its
 * hash, or that outgrew its cap, is refused.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "tests/unit/t.h"
#include "zcomp.h"

#define MAXP (256 * 1024)

static void
test_roundtrip(void)
{
	struct zcomp *d = NULL, *i = NULL;
	struct buf *c = buf_new(2 * MAXP), *p = buf_new(MAXP);
	static uint8_t data[8192];
	size_t n;
	int ok = 1;

	T_CHECK("new",
	    zcomp_new(&d, 1) == 0 && zcomp_new(&i, 0) == 0 && c != NULL &&
	        p != NULL);
	T_CHECK("unused", !zcomp_used(d) && !zcomp_used(i));
	for (n = 1; n < 4300 && ok; n += (n < 3900 ? 97 : 1)) {
		random_bytes(data, n);
		if (n % 3 == 0)
			memset(data, 'a', n / 2);
		buf_reset(c);
		buf_reset(p);
		if (zcomp_deflate(d, data, n, c) != 0 ||
		    zcomp_inflate(i, buf_ptr(c), buf_len(c), p, MAXP) != 0 ||
		    buf_len(p) != n || memcmp(buf_ptr(p), data, n) != 0) {
			printf("# size %zu\n", n);
			ok = 0;
		}
	}
	T_CHECK("packets of every size round-trip", ok);
	T_CHECK("used", zcomp_used(d) && zcomp_used(i));
	zcomp_free(d);
	zcomp_free(i);
	buf_free(c);
	buf_free(p);
}

static void
test_bomb(void)
{
	struct zcomp *d = NULL, *i = NULL;
	struct buf *c = buf_new(4 * 1024 * 1024), *p = buf_new(2 * MAXP);
	static uint8_t zeros[1024 * 1024];

	T_CHECK("bomb: new", zcomp_new(&d, 1) == 0 && zcomp_new(&i, 0) == 0);
	T_CHECK("bomb: 1 MiB of zeros compresses",
	    zcomp_deflate(d, zeros, sizeof(zeros), c) == 0 &&
	        buf_len(c) < 8192);
	T_CHECK("bomb: inflating stops at the bound",
	    zcomp_inflate(i, buf_ptr(c), buf_len(c), p, MAXP) == ERR_TOO_BIG &&
	        buf_len(p) <= MAXP);
	zcomp_free(d);
	zcomp_free(i);
	buf_free(c);
	buf_free(p);
}

/* A payload of exactly the bound inflates; one byte more is refused. */
static void
test_bound(void)
{
	struct zcomp *d = NULL, *i = NULL;
	struct buf *c = buf_new(2 * MAXP), *p = buf_new(2 * MAXP);
	static uint8_t data[MAXP + 1];
	size_t n;

	for (n = MAXP; n <= MAXP + 1; n++) {
		T_CHECK("bound: new",
		    zcomp_new(&d, 1) == 0 && zcomp_new(&i, 0) == 0);
		memset(data, 'a', sizeof(data));
		random_bytes(data, 1000);
		buf_reset(c);
		buf_reset(p);
		T_CHECK("bound: deflates",
		    zcomp_deflate(d, data, n, c) == 0 && buf_len(c) < n);
		if (n == MAXP)
			T_CHECK("bound: exactly the bound inflates",
			    zcomp_inflate(i, buf_ptr(c), buf_len(c), p, MAXP) ==
			            0 &&
			        buf_len(p) == n &&
			        memcmp(buf_ptr(p), data, n) == 0);
		else
			T_CHECK("bound: one byte over is refused",
			    zcomp_inflate(i, buf_ptr(c), buf_len(c), p, MAXP) ==
			        ERR_TOO_BIG);
		zcomp_free(d);
		zcomp_free(i);
		d = i = NULL;
	}
	buf_free(c);
	buf_free(p);
}

static void
test_corrupt(void)
{
	struct zcomp *i = NULL;
	struct buf *p = buf_new(MAXP);
	static const uint8_t junk[] = {
	    0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37, 0x42};

	T_CHECK("corrupt: new", zcomp_new(&i, 0) == 0);
	T_CHECK("corrupt: refused",
	    zcomp_inflate(i, junk, sizeof(junk), p, MAXP) == ERR_FORMAT);
	zcomp_free(i);
	T_CHECK("wrong direction",
	    zcomp_new(&i, 1) == 0 &&
	        zcomp_inflate(i, junk, 1, p, MAXP) == ERR_INTERNAL);
	zcomp_free(i);
	buf_free(p);
}

/* Deflate npk packets through d (and inflate them through i, if any). */
static int
feed(struct zcomp *d, struct zcomp *i, int npk, struct buf *c, struct buf *p)
{
	uint8_t data[3000];
	int k, r;

	for (k = 0; k < npk; k++) {
		memset(data, 'a' + k % 26, sizeof(data));
		random_bytes(data, (size_t)(k * 37 % 500));
		buf_reset(c);
		buf_reset(p);
		if ((r = zcomp_deflate(d, data, sizeof(data) - k, c)) != 0)
			return r;
		if ((i != NULL &&
		        (zcomp_inflate(i, buf_ptr(c), buf_len(c), p, MAXP) !=
		                0 ||
		            buf_len(p) != sizeof(data) - k ||
		            memcmp(buf_ptr(p), data, buf_len(p)) != 0)))
			return -1;
	}
	return 0;
}

/* Import a copy of the first len bytes of h with byte at flipped. */
static int
tampered_import(const struct buf *h, size_t at, size_t len)
{
	struct buf *b;
	struct zcomp *z = NULL;
	int r;

	if (h == NULL || (b = buf_from(buf_ptr(h), len)) == NULL)
		return ERR_ALLOC;
	if (at < len)
		buf_mutable_ptr(b)[at] ^= 0x55;
	r = zcomp_import(&z, 1, b, MAXP);
	if ((r == 0) != (z != NULL))
		r = ERR_INTERNAL;
	zcomp_free(z);
	buf_free(b);
	return r;
}

static void
test_handover(void)
{
	struct zcomp *d = NULL, *i = NULL, *d2 = NULL, *i2 = NULL;
	struct buf *c = buf_new(MAXP), *p = buf_new(MAXP);
	struct buf *hd = buf_new(MAXP), *hi = buf_new(MAXP), *bad;
	static const uint8_t last[] = "the packet after the hand-over";
	size_t n;

	T_CHECK("handover: record",
	    zcomp_new(&d, 1) == 0 && zcomp_new(&i, 0) == 0 &&
	        zcomp_record(d, 65536) == 0 && zcomp_record(i, 65536) == 0);
	T_CHECK("handover: traffic", feed(d, i, 20, c, p) == 0);
	T_CHECK("handover: export",
	    zcomp_export(d, hd) == 0 && zcomp_export(i, hi) == 0);
	T_CHECK(
	    "handover: exported once", zcomp_export(d, hd) == ERR_BAD_STATE);
	bad = buf_from(buf_ptr(hd), buf_len(hd));
	T_CHECK("handover: import",
	    zcomp_import(&d2, 1, hd, MAXP) == 0 && buf_len(hd) == 0 &&
	        zcomp_import(&i2, 0, hi, MAXP) == 0 && buf_len(hi) == 0);
	/* The rebuilt deflater emits what the original would. */
	buf_reset(c);
	buf_reset(p);
	T_CHECK("handover: same output after rebuild",
	    zcomp_deflate(d, last, sizeof(last), c) == 0 &&
	        zcomp_deflate(d2, last, sizeof(last), p) == 0 &&
	        buf_len(c) == buf_len(p) &&
	        memcmp(buf_ptr(c), buf_ptr(p), buf_len(c)) == 0);
	buf_reset(p);
	T_CHECK("handover: rebuilt inflater continues the stream",
	    zcomp_inflate(i2, buf_ptr(c), buf_len(c), p, MAXP) == 0 &&
	        buf_len(p) == sizeof(last) &&
	        memcmp(buf_ptr(p), last, sizeof(last)) == 0);

	/* A tampered hash, then a tampered history: replay mismatch. */
	n = bad != NULL ? buf_len(bad) : 0;
	T_CHECK("handover: wrong hash refused",
	    tampered_import(bad, n - 1, n) == ERR_MAC);
	T_CHECK("handover: altered history refused",
	    tampered_import(bad, 8 + 100, n) == ERR_MAC); /* in packet 1 */
	T_CHECK("handover: truncated state refused",
	    tampered_import(bad, n, n - 10) != 0);
	T_CHECK("handover: untampered copy imports",
	    tampered_import(bad, n, n) == 0);
	buf_free(bad);

	/* Past the cap recording ends and nothing can be exported. */
	zcomp_free(d);
	d = NULL;
	T_CHECK("handover: small cap",
	    zcomp_new(&d, 1) == 0 && zcomp_record(d, 10000) == 0);
	T_CHECK("handover: cap reached", feed(d, NULL, 5, c, p) == ERR_LIMIT);
	buf_reset(hd);
	T_CHECK("handover: nothing to export past the cap",
	    zcomp_export(d, hd) == ERR_BAD_STATE);
	T_CHECK(
	    "handover: the stream itself goes on", feed(d, NULL, 2, c, p) == 0);
	zcomp_free(d);
	zcomp_free(i);
	zcomp_free(d2);
	zcomp_free(i2);
	buf_free(c);
	buf_free(p);
	buf_free(hd);
	buf_free(hi);
}

int
main(void)
{
	test_roundtrip();
	test_bomb();
	test_bound();
	test_corrupt();
	test_handover();
	return T_DONE();
}
