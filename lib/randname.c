/*
 * randname.c: random characters for temporary names (randname.h).
 */
#include <sys/random.h>

#include <stdint.h>

#include "randname.h"

int
randname_fill(char *dst, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t rnd[64];
	size_t got = 0, i;

	while (got < n) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		/* 248 = 4 x 62: no character more likely than another. */
		for (i = 0; i < sizeof(rnd) && got < n; i++)
			if (rnd[i] < 248)
				dst[got++] = set[rnd[i] % 62];
	}
	dst[n] = '\0';
	return 0;
}
