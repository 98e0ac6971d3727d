/*
 * worktime.h: how long valid users' AuthorizedKeysCommand and
 * AuthorizedPrincipalsCommand runs took, so that an invalid user's failed
 * attempt, for which they are skipped (as in sshd), can be held as long
 * (docs/posternd.8.md, "WHAT A FAILED LOGIN GIVES AWAY"). Each monitor
 * reports, for a failed attempt of a valid user that ran a command, the
 * commands' time on the startup pipe (startup.h); the listener keeps the
 * last WORKTIME_KEEP, each for WORKTIME_MAX_AGE_S, and hands
 * them to every new monitor in WORKTIME_ENV; a failure of an invalid user
 * whose attempt skipped a command is then held one of them longer, drawn
 * at random. Attempts that ran no command (most) add nothing: a client
 * cannot flush the table with cheap requests. Both commands serve only
 * publickey, so the times are one list, not one per method.
 */
#ifndef POSTERN_WORKTIME_H
#define POSTERN_WORKTIME_H

#include <stddef.h>
#include <stdint.h>

#define WORKTIME_KEEP 32
#define WORKTIME_MAX_US 30000000U /* a sample is cut to 30 s */
#define WORKTIME_MAX_AGE_S 900    /* and passed on for 15 minutes */
#define WORKTIME_ENV "POSTERN_WORKTIMES"
/* The samples as decimal microseconds: at most 8 digits, a separator
 * each, and the terminator. */
#define WORKTIME_TEXT_MAX (WORKTIME_KEEP * 9 + 1)

struct worktimes {
	uint32_t us[WORKTIME_KEEP];
	int64_t at[WORKTIME_KEEP]; /* when kept, seconds */
	uint8_t n;                 /* samples held, up to WORKTIME_KEEP */
	uint8_t next;              /* where the next one goes */
};

/* Keep us (cut to WORKTIME_MAX_US) as the newest sample, taken at now
 * (monotonic seconds). */
void worktime_add(struct worktimes *w, uint32_t us, int64_t now);

/*
 * worktime_format: the samples of w not older than WORKTIME_MAX_AGE_S at
 * now as text, comma-separated ("120,95,4100"; none: ""). out holds
 * WORKTIME_TEXT_MAX bytes.
 */
void worktime_format(const struct worktimes *w, char *out, int64_t now);

/* worktime_parse: text from worktime_format into w, as taken at now; 0,
 * or -1 (w empty) if it is not such text. */
int worktime_parse(struct worktimes *w, const char *s, int64_t now);

/* Monotonic seconds, for now. */
int64_t worktime_now(void);

/* One of the samples, drawn at random; 0 if there is none. */
uint32_t worktime_pick(const struct worktimes *w);

#endif
