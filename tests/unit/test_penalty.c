/*
 * test_penalty.c: the PerSourcePenalties table (monitor/penalty.h) on a
 * clock the test moves: penalties below min deferred and activated when
 * they accrue past it, accrual capped at max (a first penalty too),
 * expiry, blocks kept apart, both overflow modes per family, and the
 * crash signals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "monitor/penalty.h"
#include "tests/unit/t.h"
#include "tests/unit/t_block.h"

/* PerSourceNetBlockSize for blk(), as each test sets it. */
static int v4bits = 32, v6bits = 128;

static struct source_block
blk(const char *a)
{
	return t_block(a, v4bits, v6bits);
}

static struct penalty_config
cfg(void)
{
	struct penalty_config c = {
	    .enabled = 1,
	    .crash = 90,
	    .authfail = 5,
	    .noauth = 1,
	    .grace_exceeded = 20,
	    .refuseconnection = 10,
	    .max = 600,
	    .min = 15,
	    .max_sources4 = 65536,
	    .max_sources6 = 65536,
	    .overflow4 = PENALTY_PERMISSIVE,
	    .overflow6 = PENALTY_PERMISSIVE,
	};
	return c;
}

static int
refused(struct penalty_table *t, const char *a, int64_t now)
{
	struct source_block b = blk(a);
	const char *why = NULL;

	return penalty_check(t, &b, now, &why);
}

static const char *
reason(struct penalty_table *t, const char *a, int64_t now)
{
	struct source_block b = blk(a);
	const char *why = "";

	(void)penalty_check(t, &b, now, &why);
	return why;
}

static void
add(struct penalty_table *t, const char *a, enum penalty_kind k, int64_t now)
{
	struct source_block b = blk(a);

	penalty_add(t, &b, k, now);
}

static void
test_min_and_accrual(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;

	penalty_init(&t, &c, 32, 128);
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 100);
	T_CHECK("one authfail (5s) is below min 15: not refused",
	    !refused(&t, "192.0.2.1", 100));
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 100);
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 100);
	T_CHECK("15s accrued is not past min (strictly greater, as sshd)",
	    !refused(&t, "192.0.2.1", 100));
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 100);
	T_CHECK("20s accrued: refused", refused(&t, "192.0.2.1", 100));
	T_CHECK("with the reason's words",
	    strcmp(reason(&t, "192.0.2.1", 100),
	        "penalty: failed authentication") == 0);
	T_CHECK(
	    "another address is not refused", !refused(&t, "192.0.2.2", 100));
	T_CHECK(
	    "still refused at the last second", refused(&t, "192.0.2.1", 120));
	T_CHECK("expired after it", !refused(&t, "192.0.2.1", 121));
	T_CHECK("and forgotten", t.n == 0 && t.n4 == 0);
	penalty_free(&t);
}

static void
test_max_clamp(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;
	int i;

	c.max = 100;
	penalty_init(&t, &c, 32, 128);
	for (i = 0; i < 5; i++)
		add(&t, "198.51.100.7", PENALTY_CRASH, 1000);
	T_CHECK("crash is active at once", refused(&t, "198.51.100.7", 1000));
	T_CHECK(
	    "five crashes capped at max", t.n == 1 && t.v[0].expiry == 1100);
	T_CHECK("refused until max", refused(&t, "198.51.100.7", 1100));
	T_CHECK("free after max", !refused(&t, "198.51.100.7", 1101));
	c.crash = 1000;
	penalty_free(&t);
	penalty_init(&t, &c, 32, 128);
	add(&t, "198.51.100.7", PENALTY_CRASH, 0);
	T_CHECK("a first penalty above max is capped too",
	    t.n == 1 && t.v[0].expiry == 100);
	add(&t, "198.51.100.7", PENALTY_GRACE, 0);
	T_CHECK("the last kind names the reason",
	    strcmp(reason(&t, "198.51.100.7", 0),
	        "penalty: exceeded LoginGraceTime") == 0);
	penalty_free(&t);
}

static void
test_kinds_and_off(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;

	c.min = 0;
	penalty_init(&t, &c, 32, 128);
	add(&t, "10.0.0.1", PENALTY_NOAUTH, 5);
	add(&t, "10.0.0.2", PENALTY_GRACE, 5);
	add(&t, "10.0.0.3", PENALTY_NONE, 5);
	T_CHECK("noauth words",
	    strcmp(reason(&t, "10.0.0.1", 5),
	        "penalty: connections without attempting authentication") == 0);
	T_CHECK("noauth lasts its 1s", !refused(&t, "10.0.0.1", 7));
	T_CHECK("grace-exceeded lasts its 20s", refused(&t, "10.0.0.2", 25));
	T_CHECK(
	    "an authenticated end is no penalty", !refused(&t, "10.0.0.3", 5));
	penalty_free(&t);
	c.enabled = 0;
	penalty_init(&t, &c, 32, 128);
	add(&t, "10.0.0.1", PENALTY_CRASH, 5);
	T_CHECK("off: nothing recorded or refused",
	    t.n == 0 && !refused(&t, "10.0.0.1", 5));
	penalty_free(&t);
	T_CHECK("SIGSEGV is a crash", penalty_crash_signal(SIGSEGV));
	T_CHECK(
	    "SIGSYS (the sandbox) is a crash", penalty_crash_signal(SIGSYS));
	T_CHECK("SIGKILL is not", !penalty_crash_signal(SIGKILL));
	T_CHECK("SIGALRM is not", !penalty_crash_signal(SIGALRM));
}

static void
test_overflow(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;

	c.min = 0;
	c.max_sources4 = 2;
	v4bits = 24;
	v6bits = 64;
	penalty_init(&t, &c, 24, 64);
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 0); /* ends at 5 */
	add(&t, "192.0.3.1", PENALTY_CRASH, 0);    /* ends at 90 */
	add(&t, "192.0.4.1", PENALTY_AUTHFAIL, 1); /* ends at 6 */
	T_CHECK("permissive: still two IPv4 entries", t.n4 == 2);
	T_CHECK("the one nearest its end went", !refused(&t, "192.0.2.200", 1));
	T_CHECK("the others stay",
	    refused(&t, "192.0.3.9", 1) && refused(&t, "192.0.4.9", 1));
	add(&t, "2001:db8::1", PENALTY_AUTHFAIL, 1);
	T_CHECK("IPv6 counted apart", t.n4 == 2 && t.n6 == 1);
	T_CHECK("an IPv6 /64 is one block",
	    refused(&t, "2001:db8::ffff", 1) && !refused(&t, "2001:db9::1", 1));
	penalty_free(&t);

	c.overflow4 = PENALTY_DENY_ALL;
	v4bits = 32;
	v6bits = 128;
	penalty_init(&t, &c, 32, 128);
	add(&t, "192.0.2.1", PENALTY_AUTHFAIL, 0);
	add(&t, "192.0.2.2", PENALTY_AUTHFAIL, 0);
	T_CHECK("deny-all: a third IPv4 address is refused",
	    refused(&t, "192.0.2.3", 0) &&
	        strcmp(reason(&t, "192.0.2.3", 0),
	            "penalty: too many penalised addresses") == 0);
	add(&t, "192.0.2.3", PENALTY_CRASH, 0);
	T_CHECK("and not recorded", t.n4 == 2);
	T_CHECK("IPv6 keeps its own (permissive) mode",
	    !refused(&t, "2001:db8::1", 0));
	T_CHECK("once one expires, others get in again",
	    !refused(&t, "192.0.2.3", 6));
	penalty_free(&t);
}

static void
test_block_name(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;
	struct source_block b = blk("2001:db8::");
	char s[64];

	penalty_init(&t, &c, 24, 48);
	penalty_block_name(&t, &b, s, sizeof(s));
	T_CHECK("IPv6 block name", strcmp(s, "2001:db8::/48") == 0);
	b = blk("192.0.2.0");
	penalty_block_name(&t, &b, s, sizeof(s));
	T_CHECK("IPv4 block name", strcmp(s, "192.0.2.0/24") == 0);
	penalty_free(&t);
}

static void
test_many(void)
{
	struct penalty_config c = cfg();
	struct penalty_table t;
	char a[32];
	int i, ok = 1;

	c.min = 0;
	penalty_init(&t, &c, 32, 128);
	for (i = 0; i < 3000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", (i * 7) % 250, i / 250);
		add(&t, a, PENALTY_AUTHFAIL, 0);
	}
	for (i = 0; i < 3000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", (i * 7) % 250, i / 250);
		ok &= refused(&t, a, 1);
	}
	T_CHECK("3000 blocks, each found", ok && t.n == 3000);
	T_CHECK("all expire together", !refused(&t, "10.0.0.1", 6) && t.n == 0);
	penalty_free(&t);
}

static void
test_log_limit(void)
{
	struct penalty_log l;
	unsigned flush, n = 0;
	int i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < 1000; i++)
		n += (unsigned)penalty_log_take(&l, 5000, &flush);
	T_CHECK("a flood: PENALTY_LOG_BURST lines a window",
	    n == PENALTY_LOG_BURST && l.unlogged == 1000 - PENALTY_LOG_BURST);
	T_CHECK("still limited just before the window ends",
	    !penalty_log_take(&l, 5000 + PENALTY_LOG_WINDOW - 1, &flush) &&
	        flush == 0);
	T_CHECK("the next window logs, reporting what was not",
	    penalty_log_take(&l, 5000 + PENALTY_LOG_WINDOW, &flush) &&
	        flush == 1000 - PENALTY_LOG_BURST + 1);
	T_CHECK("and nothing twice",
	    penalty_log_take(&l, 5000 + PENALTY_LOG_WINDOW, &flush) &&
	        flush == 0);
}

int
main(void)
{
	test_min_and_accrual();
	test_max_clamp();
	test_kinds_and_off();
	test_overflow();
	test_block_name();
	test_many();
	test_log_limit();
	return T_DONE();
}
