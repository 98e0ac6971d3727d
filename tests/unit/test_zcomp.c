/*
 * test_zcomp.c: packet compression: a stream across packets round-trips
 * (every size around the 4 KiB output chunk, so some packet's output fills
 * a chunk exactly), a decompression bomb stops at the bound, corrupt data
 * is refused.
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

int
main(void)
{
	test_roundtrip();
	test_bomb();
	test_corrupt();
	return T_DONE();
}
