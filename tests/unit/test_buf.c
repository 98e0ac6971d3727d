/* test_buf.c: edge cases of the byte buffer and SSH wire codec in lib/buf.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "t.h"

/* A buffer holding the given hex bytes. */
static struct buf *
hexbuf(const char *hex)
{
	uint8_t tmp[256];
	size_t n = t_hex(hex, tmp, sizeof(tmp));

	return buf_from(tmp, n);
}

static int
buf_is(const struct buf *b, const char *hex)
{
	uint8_t want[256];
	size_t n = t_hex(hex, want, sizeof(want));

	return buf_len(b) == n && (n == 0 || memcmp(buf_ptr(b), want, n) == 0);
}

static void
test_ints(void)
{
	struct buf *b = buf_new(0);
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;
	int bv;

	T_CHECK("u32 encode",
	    buf_put_u32(b, 0xdeadbeefU) == 0 && buf_is(b, "deadbeef"));
	T_CHECK("u32 decode", buf_get_u32(b, &v32) == 0 && v32 == 0xdeadbeefU);
	T_CHECK("u32 decode consumed all", buf_end(b) == 0);
	T_CHECK("u64 encode",
	    buf_put_u64(b, 0x0102030405060708ULL) == 0 &&
	        buf_is(b, "0102030405060708"));
	T_CHECK("u64 decode",
	    buf_get_u64(b, &v64) == 0 && v64 == 0x0102030405060708ULL);
	T_CHECK("u64 extremes",
	    buf_put_u64(b, UINT64_MAX) == 0 && buf_put_u64(b, 0) == 0 &&
	        buf_get_u64(b, &v64) == 0 && v64 == UINT64_MAX &&
	        buf_get_u64(b, &v64) == 0 && v64 == 0);
	T_CHECK("u32 extremes",
	    buf_put_u32(b, 0) == 0 && buf_put_u32(b, UINT32_MAX) == 0 &&
	        buf_is(b, "00000000ffffffff") && buf_get_u32(b, &v32) == 0 &&
	        v32 == 0 && buf_get_u32(b, &v32) == 0 && v32 == UINT32_MAX);
	T_CHECK("u8 and bool",
	    buf_put_u8(b, 0xfe) == 0 && buf_put_bool(b, 7) == 0 &&
	        buf_put_bool(b, 0) == 0 && buf_is(b, "fe0100") &&
	        buf_get_u8(b, &v8) == 0 && v8 == 0xfe &&
	        buf_get_bool(b, &bv) == 0 && bv == 1 &&
	        buf_get_bool(b, &bv) == 0 && bv == 0);
	/* A bool byte other than 0/1 reads as true. */
	buf_put_u8(b, 0x80);
	T_CHECK("bool nonzero is true", buf_get_bool(b, &bv) == 0 && bv == 1);

	/* Short reads fail and consume nothing. */
	buf_put(b, "\x01\x02\x03", 3);
	T_CHECK("u32 short", buf_get_u32(b, &v32) == ERR_SHORT);
	T_CHECK("peek u32 short", buf_peek_u32(b, &v32) == ERR_SHORT);
	T_CHECK("u32 short consumed nothing", buf_len(b) == 3);
	buf_put(b, "\x04\x05\x06\x07", 4);
	T_CHECK("u64 short", buf_get_u64(b, &v64) == ERR_SHORT);
	T_CHECK("u64 short consumed nothing", buf_len(b) == 7);
	T_CHECK("peek u32 does not consume",
	    buf_peek_u32(b, &v32) == 0 && v32 == 0x01020304U &&
	        buf_len(b) == 7);
	T_CHECK(
	    "u32 NULL out skips", buf_get_u32(b, NULL) == 0 && buf_len(b) == 3);
	T_CHECK("get u8 x3 then short",
	    buf_get_u8(b, &v8) == 0 && buf_get_u8(b, &v8) == 0 &&
	        buf_get_u8(b, &v8) == 0 && v8 == 7 &&
	        buf_get_u8(b, &v8) == ERR_SHORT);
	T_CHECK("empty u8 short", buf_get_u8(b, &v8) == ERR_SHORT);
	buf_free(b);
}

static void
test_strings(void)
{
	struct buf *b, *dst;
	const uint8_t *p;
	uint8_t *s;
	char *cs;
	size_t len;

	b = buf_new(0);
	T_CHECK("string encode",
	    buf_put_string(b, "abc", 3) == 0 && buf_is(b, "00000003616263"));
	T_CHECK("cstring encode",
	    buf_put_cstring(b, "") == 0 && buf_put_cstring(b, NULL) == 0 &&
	        buf_is(b, "000000036162630000000000000000"));
	T_CHECK("string decode",
	    buf_get_string(b, &s, &len) == 0 && len == 3 &&
	        memcmp(s, "abc", 4) == 0);
	free(s);
	T_CHECK("empty string decode",
	    buf_get_string(b, &s, &len) == 0 && len == 0 && s != NULL &&
	        s[0] == '\0');
	free(s);
	T_CHECK("skip string", buf_skip_string(b) == 0 && buf_end(b) == 0);
	buf_free(b);

	/* Length exceeding the remaining bytes. */
	b = hexbuf("00000005616263");
	T_CHECK("string too long for buffer",
	    buf_get_string_direct(b, &p, &len) == ERR_SHORT && p == NULL &&
	        len == 0);
	T_CHECK("string too long: malloc'd variant",
	    buf_get_string(b, &s, &len) == ERR_SHORT && s == NULL);
	T_CHECK("string too long: cstring",
	    buf_get_cstring(b, &cs, &len) == ERR_SHORT && cs == NULL);
	T_CHECK("string too long: skip", buf_skip_string(b) == ERR_SHORT);
	T_CHECK("string too long: consumed nothing", buf_len(b) == 7);
	buf_free(b);
	b = hexbuf("000000");
	T_CHECK("string length field short",
	    buf_get_string_direct(b, &p, &len) == ERR_SHORT);
	buf_free(b);

	/* Lengths past the hard cap, and the largest u32. */
	b = hexbuf("04000001");
	T_CHECK("string length > BUF_MAX_HARD",
	    buf_get_string_direct(b, &p, &len) == ERR_TOO_BIG);
	buf_free(b);
	b = hexbuf("ffffffff00");
	T_CHECK("string length 0xffffffff",
	    buf_get_string(b, &s, &len) == ERR_TOO_BIG && s == NULL);
	buf_free(b);
	b = hexbuf("04000000");
	T_CHECK("string length == BUF_MAX_HARD but missing is short",
	    buf_get_string_direct(b, &p, &len) == ERR_SHORT);
	buf_free(b);

	/* Embedded NUL. */
	b = hexbuf("0000000361006300000002686900000000");
	T_CHECK("cstring rejects embedded NUL",
	    buf_get_cstring(b, &cs, &len) == ERR_STRING_NUL && cs == NULL);
	T_CHECK("cstring NUL consumed nothing", buf_len(b) == 17);
	T_CHECK("string allows embedded NUL",
	    buf_get_string(b, &s, &len) == 0 && len == 3 && s[1] == 0);
	free(s);
	T_CHECK("cstring ok",
	    buf_get_cstring(b, &cs, &len) == 0 && len == 2 &&
	        strcmp(cs, "hi") == 0);
	free(cs);
	T_CHECK("cstring empty",
	    buf_get_cstring(b, &cs, NULL) == 0 && strcmp(cs, "") == 0);
	free(cs);
	T_CHECK("strings consumed exactly", buf_end(b) == 0);
	buf_free(b);
	b = hexbuf("0000000161"); /* "a" then nothing */
	T_CHECK("cstring of one byte",
	    buf_get_cstring(b, &cs, &len) == 0 && len == 1);
	free(cs);
	buf_free(b);
	/* One final NUL is a terminator, as sshbuf_get_cstring takes it. */
	b = hexbuf("0000000100");
	T_CHECK("cstring of a lone NUL is empty",
	    buf_get_cstring(b, &cs, &len) == 0 && len == 0 && cs[0] == 0 &&
	        buf_len(b) == 0);
	free(cs);
	buf_free(b);
	b = hexbuf("00000003686900"
	           "0000000461620000"
	           "00000003006162");
	T_CHECK("cstring: a final NUL is dropped",
	    buf_get_cstring(b, &cs, &len) == 0 && len == 2 &&
	        strcmp(cs, "hi") == 0);
	free(cs);
	T_CHECK("cstring: two final NULs rejected, nothing consumed",
	    buf_get_cstring(b, &cs, &len) == ERR_STRING_NUL && cs == NULL &&
	        len == 0 && buf_len(b) == 15);
	T_CHECK("string after", buf_skip_string(b) == 0);
	T_CHECK("cstring: a leading NUL rejected",
	    buf_get_cstring(b, &cs, NULL) == ERR_STRING_NUL);
	buf_free(b);

	/* buf_get_stringb / buf_put_stringb */
	b = buf_new(0);
	buf_put(b, "\0\0\0\4wxy", 7);
	dst = buf_new(0);
	T_CHECK("stringb short leaves dst empty",
	    buf_get_stringb(b, dst) == ERR_SHORT && buf_len(dst) == 0);
	buf_put_u8(b, 0x7a);
	T_CHECK("stringb",
	    buf_get_stringb(b, dst) == 0 && buf_is(dst, "7778797a") &&
	        buf_end(b) == 0);
	T_CHECK("put stringb",
	    buf_put_stringb(b, dst) == 0 && buf_is(b, "000000047778797a"));
	buf_free(dst);
	dst = buf_new(3);
	T_CHECK("stringb into small dst leaves source",
	    buf_get_stringb(b, dst) == ERR_TOO_BIG && buf_len(b) == 8);
	buf_free(dst);
	buf_free(b);
}

static void
test_end_and_consume(void)
{
	struct buf *b = hexbuf("0000000161ff");
	const uint8_t *p;
	size_t len;

	T_CHECK("buf_end trailing before", buf_end(b) == ERR_TRAILING);
	T_CHECK("string then trailing byte",
	    buf_get_string_direct(b, &p, &len) == 0 && len == 1 &&
	        p[0] == 'a' && buf_end(b) == ERR_TRAILING);
	T_CHECK("consume too much", buf_consume(b, 2) == ERR_SHORT);
	T_CHECK("consume last", buf_consume(b, 1) == 0 && buf_end(b) == 0);
	T_CHECK("consume 0 of empty", buf_consume(b, 0) == 0);
	buf_put(b, "abcdef", 6);
	T_CHECK(
	    "consume_end", buf_consume_end(b, 2) == 0 && buf_is(b, "61626364"));
	T_CHECK("consume_end too much", buf_consume_end(b, 5) == ERR_SHORT);
	T_CHECK("get into NULL skips",
	    buf_get(b, NULL, 1) == 0 && buf_is(b, "626364"));
	buf_reset(b);
	T_CHECK("reset empties", buf_len(b) == 0 && buf_end(b) == 0);
	buf_free(b);
	buf_free(NULL);
}

static void
test_caps(void)
{
	struct buf *b = buf_new(16);
	uint8_t byte = 0x42, *p;
	int i, ok = 1;

	for (i = 0; i < 16; i++)
		ok &= buf_put_u8(b, byte) == 0;
	T_CHECK("cap 16 accepts 16 bytes", ok && buf_len(b) == 16);
	T_CHECK("cap 16 refuses the 17th",
	    buf_put_u8(b, byte) == ERR_TOO_BIG && buf_len(b) == 16);
	T_CHECK("cap refuses reserve", buf_reserve(b, 1, &p) == ERR_TOO_BIG);
	T_CHECK("cap refuses huge reserve",
	    buf_reserve(b, SIZE_MAX, &p) == ERR_TOO_BIG);
	T_CHECK("consumed space is reusable",
	    buf_consume(b, 4) == 0 && buf_put_u32(b, 0x01020304U) == 0 &&
	        buf_len(b) == 16 && buf_put_u8(b, byte) == ERR_TOO_BIG);
	p = buf_mutable_ptr(b);
	T_CHECK("compacted in place", p[12] == 1 && p[15] == 4 && p[0] == 0x42);
	buf_free(b);

	/* A failed multi-byte write leaves the buffer as it was. */
	b = buf_new(16);
	buf_put(b, "0123456789ab", 12);
	T_CHECK("u64 over cap is atomic",
	    buf_put_u64(b, 1) == ERR_TOO_BIG && buf_len(b) == 12);
	T_CHECK("string over cap is atomic",
	    buf_put_string(b, "x", 1) == ERR_TOO_BIG && buf_len(b) == 12);
	T_CHECK("mpint over cap is atomic",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\x01", 1) == ERR_TOO_BIG &&
	        buf_len(b) == 12);
	T_CHECK("u32 fits exactly", buf_put_u32(b, 7) == 0 && buf_len(b) == 16);
	buf_free(b);

	T_CHECK("buf_new over hard cap", buf_new(BUF_MAX_HARD + 1) == NULL);
	b = buf_new(0);
	T_CHECK("default cap", buf_max(b) == BUF_MAX_DEFAULT);
	T_CHECK("set_max over hard cap",
	    buf_set_max(b, BUF_MAX_HARD + 1) == ERR_TOO_BIG);
	buf_put(b, "abcd", 4);
	T_CHECK("set_max below contents", buf_set_max(b, 3) == ERR_TOO_BIG);
	T_CHECK("set_max to contents",
	    buf_set_max(b, 4) == 0 && buf_put_u8(b, 0) == ERR_TOO_BIG);
	buf_free(b);

	b = buf_from("xyz", 3);
	T_CHECK("buf_from copies and caps",
	    b != NULL && buf_is(b, "78797a") && buf_max(b) == 3);
	buf_free(b);
	b = buf_from(NULL, 0);
	T_CHECK("buf_from empty", b != NULL && buf_len(b) == 0);
	buf_free(b);
	b = buf_from_secret("xyz", 3);
	T_CHECK("buf_from_secret copies, caps and is secret",
	    b != NULL && buf_is(b, "78797a") && buf_max(b) == 3 &&
	        (b->flags & BUF_SECRET));
	buf_reset(b);
	T_CHECK("buf_from_secret reset wipes",
	    b->data[0] == 0 && b->data[1] == 0 && b->data[2] == 0);
	buf_free(b);
}

static void
test_mpint(void)
{
	struct buf *b = buf_new(0);
	const uint8_t *p;
	uint8_t big[2050];
	size_t len;

	T_CHECK("mpint 0 is empty",
	    buf_put_mpint_bytes(b, (const uint8_t *)"", 0) == 0 &&
	        buf_is(b, "00000000"));
	buf_reset(b);
	T_CHECK("mpint all-zero bytes is empty",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\0\0\0", 3) == 0 &&
	        buf_is(b, "00000000"));
	buf_reset(b);
	T_CHECK("mpint 0x80 gets 00",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\x80", 1) == 0 &&
	        buf_is(b, "000000020080"));
	buf_reset(b);
	T_CHECK("mpint 0x7f",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\x7f", 1) == 0 &&
	        buf_is(b, "000000017f"));
	buf_reset(b);
	T_CHECK("mpint leading zeros stripped",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\0\0\x01\x02", 4) == 0 &&
	        buf_is(b, "000000020102"));
	buf_reset(b);
	T_CHECK("mpint leading zeros stripped then 00 added",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\0\0\xff\x00", 4) == 0 &&
	        buf_is(b, "0000000300ff00"));
	/* RFC 4251 s5 examples */
	buf_reset(b);
	T_CHECK("mpint rfc4251 9a378f9b2e332a7",
	    buf_put_mpint_bytes(b,
	        (const uint8_t *)"\x09\xa3\x78\xf9\xb2\xe3\x32\xa7", 8) == 0 &&
	        buf_is(b, "0000000809a378f9b2e332a7"));
	buf_free(b);

	b = hexbuf("000000020080");
	T_CHECK("mpint get 0x80",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 1 &&
	        p[0] == 0x80 && buf_end(b) == 0);
	buf_free(b);
	b = hexbuf("00000000");
	T_CHECK("mpint get 0",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 0 &&
	        buf_end(b) == 0);
	buf_free(b);
	b = hexbuf("000000017f");
	T_CHECK("mpint get 0x7f",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 1 && p[0] == 0x7f);
	buf_free(b);
	b = hexbuf("0000000180");
	T_CHECK("mpint rejects negative",
	    buf_get_mpint_direct(b, &p, &len) == ERR_FORMAT && buf_len(b) == 5);
	buf_free(b);
	b = hexbuf("00000002ff01");
	T_CHECK("mpint rejects negative -255",
	    buf_get_mpint_direct(b, &p, &len) == ERR_FORMAT);
	buf_free(b);
	/* Non-minimal (RFC 4251 says senders must not): read as sshd. */
	b = hexbuf("00000002007f");
	T_CHECK("mpint reads non-minimal 00 7f as 7f",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 1 &&
	        p[0] == 0x7f && buf_end(b) == 0);
	buf_free(b);
	b = hexbuf("000000030000ff");
	T_CHECK("mpint reads non-minimal 00 00 ff as ff",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 1 && p[0] == 0xff);
	buf_free(b);
	b = hexbuf("0000000100");
	T_CHECK("mpint reads non-minimal zero (00) as zero",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 0);
	buf_free(b);
	b = hexbuf("0000000500");
	T_CHECK("mpint short", buf_get_mpint_direct(b, &p, &len) == ERR_SHORT);
	buf_free(b);

	/* 16384 bits is the limit: 2048 bytes, or 2049 with a 00 prefix. */
	b = buf_new(0);
	memset(big, 0x11, sizeof(big));
	buf_put_string(b, big, 2048);
	T_CHECK("mpint 2048 bytes ok",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 2048);
	big[0] = 0;
	big[1] = 0x80;
	buf_put_string(b, big, 2049);
	T_CHECK("mpint 00 + 2048 bytes ok",
	    buf_get_mpint_direct(b, &p, &len) == 0 && len == 2048);
	big[0] = 0x11;
	buf_put_string(b, big, 2049);
	T_CHECK("mpint 2049-byte magnitude too big",
	    buf_get_mpint_direct(b, &p, &len) == ERR_TOO_BIG);
	buf_reset(b);
	buf_put_string(b, big, 2050);
	T_CHECK("mpint 2050 bytes too big",
	    buf_get_mpint_direct(b, &p, &len) == ERR_TOO_BIG);
	buf_free(b);

	/* Round trip. */
	b = buf_new(0);
	T_CHECK("mpint round trip",
	    buf_put_mpint_bytes(b, (const uint8_t *)"\x00\xc0\x01", 3) == 0 &&
	        buf_get_mpint_direct(b, &p, &len) == 0 && len == 2 &&
	        p[0] == 0xc0 && p[1] == 0x01);
	buf_free(b);
}

static void
test_secret(void)
{
	struct buf *b = buf_new_secret(0);
	uint8_t chunk[100];
	size_t i, j;
	int ok = 1;

	T_CHECK("secret buffer flag", b != NULL && (b->flags & BUF_SECRET));
	/* Grow through several reallocations, with consumed space in front. */
	for (i = 0; i < 100; i++) {
		for (j = 0; j < sizeof(chunk); j++)
			chunk[j] = (uint8_t)(i * 31 + j);
		ok &= buf_put(b, chunk, sizeof(chunk)) == 0;
		if (i == 10)
			ok &= buf_consume(b, 50) == 0;
	}
	T_CHECK("secret growth succeeded", ok && buf_len(b) == 9950);
	ok = 1;
	for (i = 50; i < 10000; i++)
		ok &=
		    buf_ptr(b)[i - 50] == (uint8_t)((i / 100) * 31 + (i % 100));
	T_CHECK("secret contents intact after growth", ok);
	T_CHECK("secret capacity grew", b->cap >= 9950);
	buf_compact(b);
	T_CHECK("secret compact keeps contents",
	    b->rpos == 0 && buf_len(b) == 9950 &&
	        buf_ptr(b)[0] == (uint8_t)(0 * 31 + 50));
	buf_reset(b);
	ok = 1;
	for (i = 0; i < b->cap; i++)
		ok &= b->data[i] == 0;
	T_CHECK("secret reset wipes", ok);
	buf_free(b);

	T_CHECK("ct_eq equal", ct_eq("abcd", "abcd", 4) == 1);
	T_CHECK("ct_eq differs last", ct_eq("abcd", "abce", 4) == 0);
	T_CHECK("ct_eq differs first", ct_eq("xbcd", "abcd", 4) == 0);
	T_CHECK("ct_eq empty", ct_eq("a", "b", 0) == 1);
	memset(chunk, 0x5a, sizeof(chunk));
	wipe(chunk, sizeof(chunk));
	T_CHECK("wipe zeroes", chunk[0] == 0 && chunk[99] == 0);
	wipe(NULL, 5);
	freezero(NULL, 5);
}

int
main(void)
{
	test_ints();
	test_strings();
	test_end_and_consume();
	test_caps();
	test_mpint();
	test_secret();
	{
		struct buf *nb = buf_new(64);
		char name[8];

		buf_put_cstring(nb, "ed25519");
		buf_put_cstring(nb, "too-long-a-name");
		buf_put_string(nb, "a\0b", 3);
		buf_put_string(nb, "ed25519\0", 8);
		buf_put_string(nb, "longer12\0", 9);
		T_CHECK("cstring_fixed: fits",
		    buf_get_cstring_fixed(nb, name, sizeof(name)) == 0 &&
		        strcmp(name, "ed25519") == 0);
		T_CHECK("cstring_fixed: too long is ERR_FORMAT",
		    buf_get_cstring_fixed(nb, name, sizeof(name)) ==
		        ERR_FORMAT);
		T_CHECK("cstring_fixed: failure consumes nothing",
		    buf_skip_string(nb) == 0);
		T_CHECK("cstring_fixed: embedded NUL refused",
		    buf_get_cstring_fixed(nb, name, sizeof(name)) ==
		        ERR_STRING_NUL);
		T_CHECK("cstring_fixed: skip it", buf_skip_string(nb) == 0);
		memset(name, 'x', sizeof(name));
		T_CHECK("cstring_fixed: a final NUL is dropped",
		    buf_get_cstring_fixed(nb, name, sizeof(name)) == 0 &&
		        strcmp(name, "ed25519") == 0);
		T_CHECK("cstring_fixed: too long without its final NUL",
		    buf_get_cstring_fixed(nb, name, sizeof(name)) ==
		        ERR_FORMAT);
		buf_free(nb);
	}
	return T_DONE();
}
