/*
 * startup.h: the pipe from a monitor to the listener while its connection
 * is in its startup phase (MaxStartups). The monitor reports, in records,
 * whether preauth has session keys, then one byte once authenticated; the
 * listener, which reaps a monitor that LoginGraceTime killed, writes that
 * login's closing audit records from them (docs/ipc.md, "The startup
 * pipe").
 */
#ifndef POSTERN_STARTUP_H
#define POSTERN_STARTUP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "monitor/worktime.h"

#define STARTUP_RECORD_MAX 6 /* bytes of the longest record ('w') */

/* ---- monitor side: every write is best effort (debug-logged) ---- */

/* startup_open: the pipe's write end (close-on-exec), or -1 for none. */
void startup_open(int fd);
/* preauth (pid spid) has session keys whose end is to be recorded. */
void startup_note_keys(pid_t spid);
/* PerSourcePenalties: an attempt failed (once is enough); preauth
 * crashed (docs/ipc.md). */
void startup_note_authfail(void);
void startup_note_crash(void);
/* A valid user's failed attempt ran AuthorizedKeysCommand or
 * AuthorizedPrincipalsCommand for us in all (worktime.h). */
void startup_note_worktime(uint32_t us);
/* Authenticated: the final byte, and the pipe is closed. */
void startup_authenticated(void);

/* ---- listener side ---- */

struct startup_view {
	uint8_t in[STARTUP_RECORD_MAX]; /* a record read in part */
	size_t inlen;
	pid_t keys_spid; /* 0 until reported */
	int authenticated;
	int authfail;            /* an authentication attempt failed */
	int crashed;             /* preauth was killed by a crash signal */
	struct worktimes *times; /* where 'w' records go (NULL: dropped) */
};

/*
 * startup_feed: n more bytes from the pipe into v. 0, or -1 when they are
 * not records a monitor writes (v keeps what came before).
 */
int startup_feed(struct startup_view *v, const uint8_t *p, size_t n);

#endif
