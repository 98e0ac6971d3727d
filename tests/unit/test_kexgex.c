/*
 * test_kexgex.c: the DH group exchange's group choice (lib/kexgex.c):
 * moduli(5) lines, OpenSSH's rule (the smallest size >= n within
 * [min, max], else the largest; random among equals), the RFC 3526
 * fallback and the checks on the client's min, n, max.
 */
#include <stdlib.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "kexgex.h"
#include "t.h"

/* A "modulus" of bits bits: hex digits, first one 'C', then tag. */
static char *
line(unsigned bits, const char *type, const char *tests, char tag)
{
	size_t digits = (bits + 3) / 4, n;
	char *s = malloc(digits + 128), *p;

	n = (size_t)snprintf(
	    s, 128, "20220714110736 %s %s 100 %u 2 ", type, tests, bits - 1);
	p = s + n;
	memset(p, tag, digits);
	p[0] = 'C';
	p[digits] = '\n';
	p[digits + 1] = '\0';
	return s;
}

static void
test_lines(void)
{
	struct moduli_entry e;
	char *s;

	s = line(2048, "2", "6", 'F');
	T_CHECK("safe prime line",
	    kexgex_moduli_line(s, &e) == 1 && e.bits == 2048 &&
	        e.p_len == 512 && e.g_len == 1 && e.g_hex[0] == '2');
	free(s);
	s = line(2048, "1", "6", 'F');
	T_CHECK("type 1 skipped", kexgex_moduli_line(s, &e) == 0);
	free(s);
	s = line(2048, "2", "7", 'F');
	T_CHECK("composite flag skipped", kexgex_moduli_line(s, &e) == 0);
	free(s);
	s = line(2048, "2", "0", 'F');
	T_CHECK("untested skipped", kexgex_moduli_line(s, &e) == 0);
	free(s);
	T_CHECK(
	    "comment", kexgex_moduli_line("# x 2 6 100 2047 2 FF\n", &e) == 0);
	T_CHECK("blank", kexgex_moduli_line("\n", &e) == 0);
	T_CHECK(
	    "short line", kexgex_moduli_line("1 2 6 100 2047 2\n", &e) == 0);
	T_CHECK("size and modulus disagree",
	    kexgex_moduli_line("20220714110736 2 6 100 2047 2 FFFF\n", &e) ==
	        0);
	T_CHECK("not hex",
	    kexgex_moduli_line("20220714110736 2 6 100 7 2 XY\n", &e) == 0);
}

/* The size of the group kexgex_choose picks from text. */
static unsigned
choose(const char *text, uint32_t min, uint32_t n, uint32_t max, char *tag)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct buf *p = buf_new(8192), *g = buf_new(8192);
	unsigned bits = 0;

	if (kexgex_choose(f, min, n, max, p, g) == 0) {
		bits = (unsigned)buf_len(p) * 8;
		if (tag != NULL)
			*tag = (char)(buf_ptr(p)[1] == 0xAA ? 'A' : 'B');
	}
	fclose(f);
	buf_free(p);
	buf_free(g);
	return bits;
}

static void
test_choose(void)
{
	char *l2a = line(2048, "2", "6", 'A'), *l2b = line(2048, "2", "6", 'B');
	char *l3 = line(3072, "2", "6", 'A'), *l4 = line(4096, "2", "6", 'A');
	char *l8 = line(8192, "2", "6", 'A'), *bad = line(3072, "2", "7", 'A');
	char text[40000], tag;
	int seen_a = 0, seen_b = 0, i;

	snprintf(text, sizeof(text), "# moduli\n%s%s%s%s%s%s", l8, bad, l2a, l4,
	    l2b, l3);
	T_CHECK("n 3072: 3072", choose(text, 2048, 3072, 8192, NULL) == 3072);
	T_CHECK("n 3500: next larger, 4096",
	    choose(text, 2048, 3500, 8192, NULL) == 4096);
	T_CHECK("n 2048: 2048", choose(text, 2048, 2048, 8192, NULL) == 2048);
	T_CHECK("none >= n within max: the largest",
	    choose(text, 2048, 7680, 7680, NULL) == 4096);
	T_CHECK("min excludes smaller",
	    choose(text, 4096, 4096, 8192, NULL) == 4096);
	T_CHECK("nothing in range", choose(text, 5000, 5000, 6000, NULL) == 0);
	/* Two 2048-bit groups: both get picked over a few tries. */
	for (i = 0; i < 64; i++) {
		if (choose(text, 2048, 2048, 2048, &tag) != 2048)
			break;
		seen_a += tag == 'A';
		seen_b += tag == 'B';
	}
	T_CHECK("random among equals",
	    seen_a > 0 && seen_b > 0 && seen_a + seen_b == 64);
	T_CHECK("no usable line",
	    choose("# nothing\n", 2048, 3072, 8192, NULL) == 0);
	free(l2a);
	free(l2b);
	free(l3);
	free(l4);
	free(l8);
	free(bad);
}

static void
test_fallback(void)
{
	struct buf *p = buf_new(8192), *g = buf_new(8192);

	T_CHECK("fallback n 3072: group 15",
	    kexgex_fallback(2048, 3072, 8192, p, g) == 0 && buf_len(p) == 384 &&
	        buf_len(g) == 1 && buf_ptr(g)[0] == 2);
	T_CHECK("fallback n 8192: group 18",
	    kexgex_fallback(2048, 8192, 8192, p, g) == 0 && buf_len(p) == 1024);
	T_CHECK("fallback n 5000: group 17",
	    kexgex_fallback(2048, 5000, 8192, p, g) == 0 && buf_len(p) == 768);
	T_CHECK("fallback max 2048: group 14",
	    kexgex_fallback(2048, 2048, 2048, p, g) == 0 && buf_len(p) == 256);
	T_CHECK("max below 2048: group 14 all the same",
	    kexgex_fallback(2048, 2048, 1536, p, g) == 0 && buf_len(p) == 256);
	T_CHECK("missing file: fallback",
	    kexgex_group("/nonexistent/moduli", 2048, 4096, 8192, p, g) == 0 &&
	        buf_len(p) == 512);
	buf_free(p);
	buf_free(g);
}

static void
test_request(void)
{
	uint32_t a, b, c;

	T_CHECK("request ok",
	    kexgex_check_request(1024, 3072, 8192, &a, &b, &c) == 0 &&
	        a == 2048 && b == 3072 && c == 8192);
	T_CHECK("clamped",
	    kexgex_check_request(512, 1024, 16384, &a, &b, &c) == 0 &&
	        a == 2048 && b == 2048 && c == 8192);
	T_CHECK("n < min refused",
	    kexgex_check_request(4096, 2048, 8192, &a, &b, &c) == ERR_PROTOCOL);
	T_CHECK("max < n refused",
	    kexgex_check_request(2048, 8192, 4096, &a, &b, &c) == ERR_PROTOCOL);
	/* sshd: "DH GEX group out of range", not a group outside it. */
	T_CHECK("max below 2048 refused",
	    kexgex_check_request(512, 1024, 1536, &a, &b, &c) == ERR_PROTOCOL);
	T_CHECK("all zero refused",
	    kexgex_check_request(0, 0, 0, &a, &b, &c) == ERR_PROTOCOL);
	T_CHECK("max 2048 ok",
	    kexgex_check_request(1024, 2048, 2048, &a, &b, &c) == 0 &&
	        a == 2048 && b == 2048 && c == 2048);
	T_CHECK("min above 8192 refused",
	    kexgex_check_request(9000, 9000, 9000, &a, &b, &c) == ERR_PROTOCOL);
	T_CHECK("huge refused",
	    kexgex_check_request(UINT32_MAX, UINT32_MAX, UINT32_MAX, &a, &b,
	        &c) == ERR_PROTOCOL);
	T_CHECK("min 8192 ok",
	    kexgex_check_request(8192, 8192, UINT32_MAX, &a, &b, &c) == 0 &&
	        a == 8192 && b == 8192 && c == 8192);
}

int
main(void)
{
	crypto_init();
	test_lines();
	test_choose();
	test_fallback();
	test_request();
	return T_DONE();
}
