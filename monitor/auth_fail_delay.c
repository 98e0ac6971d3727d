/*
 * auth_fail_delay.c: the minimum time of a failed password or
 * keyboard-interactive attempt, as OpenSSH's ensure_minimum_time_since(),
 * so that how long a failure takes says nothing about whether the account
 * exists; and, beyond sshd, an invalid user's failure held as much longer
 * as a valid user's AuthorizedKeysCommand or AuthorizedPrincipalsCommand,
 * which it skips, took lately (worktime.h). A plain sleep in this
 * connection's monitor: no signal handler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "authcmd.h"
#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "monitor.h"
#include "sshkey.h"
#include "monitor/startup.h"
#include "monitor/worktime.h"

#define FAIL_DELAY_MIN_NS 5000000ULL /* 5 ms, plus up to ~4.3 ms per user */

/* Valid users' recent attempt times, from the listener (worktime.h). */
static struct worktimes known_times;

void
auth_worktimes_load(void)
{
	const char *s = getenv(WORKTIME_ENV);

	if (s != NULL && worktime_parse(&known_times, s, 0) != 0)
		debug("%s: not a list of times; none kept", WORKTIME_ENV);
	(void)unsetenv(WORKTIME_ENV);
}

void
auth_set_hostkeys(struct authctxt *a, const struct hostkeys *hk)
{
	a->hostkeys = hk;
}

/*
 * The per-server secret, as sshd's timing_secret: a hash of every host
 * private key's fields after a fixed label, so it is the same for every
 * connection and across restarts, yet unknown outside. (Not a signature
 * by a host key: preauth may have any 32 bytes signed as an exchange
 * hash.) Without a private key here (HostKeyAgent), a random one: the
 * delay then differs per connection.
 */
static void
timing_key(struct authctxt *a)
{
	static const char label[] = "postern minimum failure time v2";
	struct buf *b;
	uint8_t md[64];
	size_t i, nkeys = 0;
	int r = 0;

	if (a->have_timing_key)
		return;
	if ((b = buf_new_secret(256 * 1024)) == NULL ||
	    buf_put_cstring(b, label) != 0)
		r = -1;
	for (i = 0; r == 0 && a->hostkeys != NULL && i < a->hostkeys->npub;
	     i++) {
		if (!sshkey_is_private(a->hostkeys->pub[i].key))
			continue;
		if (sshkey_private_fields(a->hostkeys->pub[i].key, b) != 0)
			r = -1;
		nkeys++;
	}
	if (r == 0 && nkeys > 0 &&
	    digest_memory(DIGEST_SHA512, buf_ptr(b), buf_len(b), md) == 0)
		memcpy(a->timing_key, md, sizeof(a->timing_key));
	else
		random_bytes(a->timing_key, sizeof(a->timing_key));
	buf_free(b);
	wipe(md, sizeof(md));
	a->have_timing_key = 1;
}

/* 5 ms plus a keyed hash of the user name's worth of up to ~4.3 ms. */
static unsigned long long
user_delay_ns(struct authctxt *a)
{
	struct buf *b;
	uint8_t md[64];
	unsigned long long ns = FAIL_DELAY_MIN_NS;

	timing_key(a);
	if ((b = buf_new_secret(4096)) == NULL)
		return ns;
	if (buf_put(b, a->timing_key, sizeof(a->timing_key)) == 0 &&
	    buf_put_cstring(b, a->user != NULL ? a->user : "") == 0 &&
	    digest_memory(DIGEST_SHA512, buf_ptr(b), buf_len(b), md) == 0)
		ns += ((unsigned long long)md[0] << 24 |
		          (unsigned long long)md[1] << 16 |
		          (unsigned long long)md[2] << 8 | md[3]) /
		    1000;
	buf_free(b);
	wipe(md, sizeof(md));
	return ns;
}

void
auth_fail_delay(struct authctxt *a)
{
	struct timespec now, rem;
	unsigned long long elapsed, work, want, base;
	uint64_t cmd_us;

	if (a->tstart.tv_sec == 0 && a->tstart.tv_nsec == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (unsigned long long)(now.tv_sec - a->tstart.tv_sec) *
	        1000000000ULL +
	    (unsigned long long)now.tv_nsec -
	    (unsigned long long)a->tstart.tv_nsec;
	work = elapsed;
	cmd_us = authcmd_clock_us();
	if (a->valid && cmd_us > 0)
		/* What an invalid user's attempt skips: the commands. */
		startup_note_worktime(cmd_us < WORKTIME_MAX_US
		        ? (uint32_t)cmd_us
		        : WORKTIME_MAX_US);
	else if (!a->valid && authcmd_skipped() > 0) {
		/* As long as a valid user's commands took, on top. */
		work = elapsed +
		    (unsigned long long)worktime_pick(&known_times) * 1000;
		debug2(
		    "userauth: invalid user's attempt counted as %llu.%03llu "
		    "ms (%d valid users' command times known)",
		    work / 1000000, work / 1000 % 1000, known_times.n);
	}
	base = want = user_delay_ns(a);
	/* Slower than the minimum: round up to the next doubling. */
	while (want <= work)
		want *= 2;
	debug2("userauth: failed attempt held to %llu.%03llu ms (minimum "
	       "%llu us)",
	    want / 1000000, want / 1000 % 1000, base / 1000);
	rem.tv_sec = (time_t)((want - elapsed) / 1000000000ULL);
	rem.tv_nsec = (long)((want - elapsed) % 1000000000ULL);
	while (nanosleep(&rem, &rem) != 0 && errno == EINTR)
		;
}
