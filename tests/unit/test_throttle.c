/*
 * test_throttle.c: PerSourceNetBlockSize blocks (monitor/throttle.h) for
 * IPv4, IPv6 and IPv4-mapped addresses at whole and odd prefix lengths,
 * and sshd's time frames in the MaxStartups throttling lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>

#include "monitor/throttle.h"
#include "tests/unit/t.h"
#include "tests/unit/t_block.h"

static int
same(struct source_block a, struct source_block b)
{
	return source_block_eq(&a, &b);
}

static int
frame_is(long secs, const char *want)
{
	char buf[32];

	throttle_timeframe((time_t)secs, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		printf("# %ld s: got %s, want %s\n", secs, buf, want);
	return strcmp(buf, want) == 0;
}

/* Two addresses, the lengths, and whether they are one block. */
struct pair {
	const char *name, *a, *b;
	int v4, v6, same;
};

static const struct pair cases[] = {
    {"v4 /32: one address", "10.1.2.3", "10.1.2.3", 32, 128, 1},
    {"v4 /32: its neighbour", "10.1.2.3", "10.1.2.4", 32, 128, 0},
    {"v4 /24: same /24", "10.1.2.3", "10.1.2.250", 24, 128, 1},
    {"v4 /24: next /24", "10.1.2.3", "10.1.3.3", 24, 128, 0},
    {"v4 /20: its first and last", "10.1.0.1", "10.1.15.254", 20, 128, 1},
    {"v4 /20: past its end", "10.1.15.254", "10.1.16.0", 20, 128, 0},
    {"v4 /0: everything", "1.2.3.4", "200.2.3.4", 0, 128, 1},
    {"v6 /64: same /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", 32, 64, 1},
    {"v6 /64: next /64", "2001:db8:1:2::1", "2001:db8:1:3::1", 32, 64, 0},
    {"v6 /127: a pair", "2001:db8::4", "2001:db8::5", 32, 127, 1},
    {"v6 /127: across pairs", "2001:db8::5", "2001:db8::6", 32, 127, 0},
    {"v6 /128: its neighbour", "2001:db8::1", "2001:db8::2", 32, 128, 0},
    {"v6 /0 (a lone V4 length, as sshd): everything", "2001:db8::1", "fe80::1",
        24, 0, 1},
    {"mapped: as its IPv4 address, IPv4 length", "::ffff:10.1.2.3", "10.1.2.77",
        24, 128, 1},
    {"mapped: another /24", "::ffff:10.1.2.3", "10.1.9.3", 24, 128, 0},
};

int
main(void)
{
	struct sockaddr_un un;
	struct source_block b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pair *c = &cases[i];

		T_CHECK(c->name,
		    same(t_block(c->a, c->v4, c->v6),
		        t_block(c->b, c->v4, c->v6)) == c->same);
	}
	b = t_block("10.1.2.3", 24, 128);
	T_CHECK("v4 /24: host bits cleared",
	    b.family == AF_INET && b.addr[0] == 10 && b.addr[1] == 1 &&
	        b.addr[2] == 2 && b.addr[3] == 0);
	T_CHECK("v4 and v6 never the same block",
	    !same(t_block("0.0.0.0", 0, 0), t_block("::", 0, 0)));

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	source_block_of((struct sockaddr *)&un, sizeof(un), 32, 128, &b);
	T_CHECK("unknown family: family 0", b.family == 0);
	T_CHECK(
	    "unknown family: never the same block", !source_block_eq(&b, &b));
	source_block_of((struct sockaddr *)&un, 2, 32, 128, &b);
	T_CHECK("short address: family 0", b.family == 0);

	T_CHECK("frame 0 s", frame_is(0, "00:00:00"));
	T_CHECK("frame 1 h 2 m 3 s", frame_is(3723, "01:02:03"));
	T_CHECK("frame a day less 1 s", frame_is(86399, "23:59:59"));
	T_CHECK(
	    "frame 1 d 2 h 3 m", frame_is(86400 + 7200 + 180 + 9, "1d02h03m"));
	T_CHECK("frame 2 w 3 d 4 h",
	    frame_is(14 * 86400 + 3 * 86400 + 4 * 3600 + 59, "02w3d04h"));
	T_CHECK("frame negative is 0", frame_is(-5, "00:00:00"));
	return T_DONE();
}
