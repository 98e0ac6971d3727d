/*
 * startup.c: the startup pipe's records (startup.h), written by a monitor
 * and read by the listener. A record is one type byte, then:
 *   'k' u32 (big-endian): the pid of preauth, which has session keys
 *   'a' nothing: authenticated (the last record)
 *   'f' nothing: an authentication attempt failed (PerSourcePenalties)
 *   'c' nothing: preauth was killed by a crash signal (likewise)
 *   'W' u32 microseconds: a valid user's failed attempt's time in
 *       AuthorizedKeysCommand or AuthorizedPrincipalsCommand (worktime.h)
 *   'w' u8, u32: the same from a monitor of an earlier posternd (a method
 *       byte, unused), still running across an upgrade's SIGHUP
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monitor/startup.h"

static int startup_pipe_fd = -1;

void
startup_open(int fd)
{
	startup_pipe_fd = fd;
}

/*
 * A listener restarted by SIGHUP (a fresh exec) no longer reads the pipe:
 * the write fails with EPIPE, and the SIGPIPE it raises, blocked here, is
 * taken back, so that a login in progress goes on without the reports.
 */
static void
startup_write(const uint8_t *p, size_t n)
{
	const struct timespec now = {0, 0};
	sigset_t pipe_set, old;
	ssize_t w;

	if (startup_pipe_fd == -1)
		return;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	while (n > 0) {
		if ((w = write(startup_pipe_fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			debug("startup pipe: %s", strerror(errno));
			if (w < 0 && errno == EPIPE) {
				(void)sigtimedwait(&pipe_set, NULL, &now);
				close(startup_pipe_fd);
				startup_pipe_fd = -1;
			}
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void
startup_note_keys(pid_t spid)
{
	uint32_t v = (uint32_t)spid;
	uint8_t rec[5] = {'k', (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	startup_write(rec, sizeof(rec));
}

void
startup_note_authfail(void)
{
	static int sent;

	if (!sent)
		startup_write((const uint8_t *)"f", 1);
	sent = 1;
}

void
startup_note_crash(void)
{
	startup_write((const uint8_t *)"c", 1);
}

void
startup_note_worktime(uint32_t us)
{
	uint8_t rec[5] = {'W', (uint8_t)(us >> 24), (uint8_t)(us >> 16),
	    (uint8_t)(us >> 8), (uint8_t)us};

	startup_write(rec, sizeof(rec));
}

void
startup_authenticated(void)
{
	startup_write((const uint8_t *)"a", 1);
	if (startup_pipe_fd != -1)
		close(startup_pipe_fd);
	startup_pipe_fd = -1;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The length of the whole record that starts p (n bytes there), 0 if it
 * is not complete yet, -1 if p is no record. */
static long
record_len(const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 'a':
	case 'f':
	case 'c':
		return 1;
	case 'k':
	case 'W':
		return n >= 5 ? 5 : 0;
	case 'w':
		return n >= 6 ? 6 : 0;
	default:
		return -1;
	}
}

int
startup_feed(struct startup_view *v, const uint8_t *p, size_t n)
{
	size_t take;
	long len;

	while (n > 0) {
		take = sizeof(v->in) - v->inlen;
		if (take > n)
			take = n;
		memcpy(v->in + v->inlen, p, take);
		v->inlen += take;
		p += take;
		n -= take;
		while (v->inlen > 0) {
			if ((len = record_len(v->in, v->inlen)) < 0) {
				v->inlen = 0;
				return -1;
			}
			if (len == 0)
				break;
			switch (v->in[0]) {
			case 'a':
				v->authenticated = 1;
				break;
			case 'f':
				v->authfail = 1;
				break;
			case 'c':
				v->crashed = 1;
				break;
			case 'k':
				v->keys_spid = (pid_t)be32(v->in + 1);
				break;
			case 'W':
			case 'w':
				if (v->times != NULL)
					worktime_add(v->times,
					    be32(v->in + len - 4),
					    worktime_now());
				break;
			}
			memmove(v->in, v->in + len, v->inlen - (size_t)len);
			v->inlen -= (size_t)len;
		}
	}
	return 0;
}
