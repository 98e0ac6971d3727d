/*
 * test_sign_budget.c: the session's host key signature budget: the burst,
 * a refusal past it, and signatures earned by traffic on a real loopback
 * TCP connection (the kernel's byte counts) or counted by inetd mode's
 * relay. No check depends on timing: time only ever adds signatures, and
 * the bounds below allow for it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor/sign_budget.h"
#include "tests/unit/t.h"

/* A connected loopback TCP pair: *a accepted, *b connected. */
static int
tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0 ||
	    (*b = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(*b, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (*a = accept(l, NULL, NULL)) < 0)
		return -1;
	close(l);
	return 0;
}

/* Signatures granted in a row, up to max. */
static int
take_run(struct sign_budget *sb, int max)
{
	int n = 0;

	while (n < max && sign_budget_take(sb) == 0)
		n++;
	return n;
}

int
main(void)
{
	struct sign_budget sb;
	static char data[65536 * 8];
	size_t got = 0;
	ssize_t r;
	int a = -1, b = -1, n;

	sign_budget_init(&sb, -1, 0, 0);
	n = take_run(&sb, 1000);
	T_CHECK("burst: at least 16 at once", n >= SIGN_BUDGET_BURST);
	T_CHECK("burst: then refused, not 1000", n < 1000);
	T_CHECK("granted counts", sb.granted == (unsigned long)n);

	T_CHECK("loopback pair", tcp_pair(&a, &b) == 0);
	sign_budget_init(&sb, a, 0, 0);
	take_run(&sb, 1000);
	T_CHECK("empty bucket refuses",
	    sign_budget_take(&sb) != 0 || sign_budget_take(&sb) != 0);
	/* 512 KiB from the client: 8 signatures earned by 64 KiB each. */
	memset(data, 'x', sizeof(data));
	T_CHECK("client sends",
	    write(b, data, sizeof(data)) == (ssize_t)sizeof(data));
	while (
	    got < sizeof(data) && (r = read(a, data, sizeof(data) - got)) > 0)
		got += (size_t)r;
	T_CHECK("server reads", got == sizeof(data));
	n = take_run(&sb, 1000);
	T_CHECK("traffic earns signatures", n >= 8);
	T_CHECK("but never more than the burst", n < 1000);

	/* A RekeyLimit below 64 KiB earns one per RekeyLimit bytes. */
	sign_budget_init(&sb, a, 16384, 0);
	take_run(&sb, 1000);
	T_CHECK("client sends 64 KiB", write(b, data, 65536) == 65536);
	for (got = 0; got < 65536 && (r = read(a, data, 65536 - got)) > 0;)
		got += (size_t)r;
	n = take_run(&sb, 1000);
	T_CHECK("RekeyLimit 16K: 4 per 64 KiB", n >= 4);

	/*
	 * A client that re-keys back to back: the bytes of the smallest key
	 * exchange (some 800) earn its signature, whatever the RekeyLimit.
	 */
	sign_budget_init(&sb, a, 0, 0);
	take_run(&sb, 1000);
	T_CHECK("client sends 16 small exchanges' bytes",
	    write(b, data, 16 * 800) == 16 * 800);
	for (got = 0;
	     got < 16 * 800 && (r = read(a, data, 16 * 800 - got)) > 0;)
		got += (size_t)r;
	n = take_run(&sb, 1000);
	T_CHECK("each exchange's bytes earn its signature", n >= 16);
	close(a);
	close(b);

	/* Inetd mode over pipes: the relay's count, not a socket's. */
	{
		uint64_t relayed = 1000;

		sign_budget_init(&sb, -1, 0, 0);
		sign_budget_relayed(&sb, &relayed);
		take_run(&sb, 1000);
		T_CHECK("relayed: empty bucket refuses",
		    sign_budget_take(&sb) != 0 || sign_budget_take(&sb) != 0);
		relayed += 8 * 65536;
		n = take_run(&sb, 1000);
		T_CHECK("relayed bytes earn signatures", n >= 8 && n < 1000);
	}
	return T_DONE();
}
