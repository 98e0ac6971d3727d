/*
 * kexgex.h: Diffie-Hellman group exchange (RFC 4419): choosing a group
 * from a moduli(5) file, with the RFC 3526 groups as fallback (used by
 * the monitor), and the server side of the exchange (transport).
 */
#ifndef POSTERN_KEXGEX_H
#define POSTERN_KEXGEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct buf;

/* OpenSSH's bounds on the group size, whatever the client asks. */
#define KEXGEX_MIN_BITS 2048
#define KEXGEX_MAX_BITS 8192

/* One usable line of a moduli file: its size and hex fields. */
struct moduli_entry {
	unsigned bits; /* the prime's size: the file's size field + 1 */
	const char *g_hex, *p_hex;
	size_t g_len, p_len;
};

/*
 * kexgex_moduli_line: parse one line of a moduli file (moduli(5): time
 * type tests tries size generator modulus). 1 and *e filled for a safe
 * prime that passed tests, 0 for a comment, blank or unusable line. The
 * pointers in *e point into line.
 */
int kexgex_moduli_line(const char *line, struct moduli_entry *e);

/*
 * kexgex_check_request: RFC 4419 s3's min, n, max as OpenSSH takes them:
 * ERR_PROTOCOL unless min <= n <= max, max >= KEXGEX_MIN_BITS and
 * min <= KEXGEX_MAX_BITS; then each is clamped to [KEXGEX_MIN_BITS,
 * KEXGEX_MAX_BITS] into the out values.
 */
int kexgex_check_request(uint32_t min, uint32_t n, uint32_t max, uint32_t *omin,
    uint32_t *on, uint32_t *omax);

/*
 * kexgex_choose: as OpenSSH picks from its moduli file: among the groups
 * whose size lies in [min, max], those of the smallest size >= n (or,
 * if none is that large, of the largest size), one of them at random.
 * p and g get big-endian magnitudes. ERR_NOT_FOUND if f has none.
 */
int kexgex_choose(FILE *f, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g);

/*
 * kexgex_fallback: the same choice among RFC 3526 groups 14-18 (g = 2);
 * group 14 when none lies in [min, max] (a range between two sizes).
 */
int kexgex_fallback(
    uint32_t min, uint32_t n, uint32_t max, struct buf *p, struct buf *g);

/*
 * kexgex_group: the monitor's answer: kexgex_choose over the file at
 * path, else (logged as sshd does) kexgex_fallback.
 */
int kexgex_group(const char *path, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g);

#endif
