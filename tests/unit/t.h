/*
 * t.h: a tiny unit-test harness. Each check prints "ok - NAME" or
 * "not ok - NAME (file:line: expr)"; tests/run-checks.sh counts them.
 */
#ifndef POSTERN_T_H
#define POSTERN_T_H

#include <stdio.h>
#include <string.h>

static int t_failed;
static int t_passed;

#define T_CHECK(name, expr)                                                    \
	do {                                                                   \
		if (expr) {                                                    \
			t_passed++;                                            \
			printf("ok - %s\n", (name));                           \
		} else {                                                       \
			t_failed++;                                            \
			printf("not ok - %s (%s:%d: %s)\n", (name), __FILE__,  \
			    __LINE__, #expr);                                  \
		}                                                              \
	} while (0)

#define T_DONE() (fflush(stdout), t_failed == 0 ? 0 : 1)

/* t_hex: decode a hex string into out; returns the byte count. */
static inline size_t
t_hex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < max) {
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}

#endif
