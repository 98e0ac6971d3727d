/*
 * worktime.h: how long valid users' AuthorizedKeysCommand and
 * AuthorizedPrincipalsCommand runs took, so that an invalid user's failed
 * attempt, for which they are skipped (as in sshd), can be held as long
 * (docs/posternd.8.md, "WHAT A FAILED LOGIN GIVES AWAY"). Each monitor
 * reports, for a failed attempt of a valid user that ran a command, the
 * commands' time on the startup pipe (startup.h); the listener keeps the
 * last WORKTIME_KEEP per method, each for WORKTIME_MAX_AGE_S, and hands
 * them to every new monitor in WORKTIME_ENV; a failure of an invalid user
 * whose attempt skipped a command is then held one of them longer, drawn
 * at random. Attempts that ran no command (most) add nothing: a client
 * cannot flush the table with cheap requests.
 */
#ifndef POSTERN_WORKTIME_H
#define POSTERN_WORKTIME_H

#include <stddef.h>
#include <stdint.h>

#define WORKTIME_METHODS                                                       \
	4 /* publickey password keyboard-interactive hostbased */
#define WORKTIME_KEEP 32
#define WORKTIME_MAX_US 30000000U /* a sample is cut to 30 s */
#define WORKTIME_MAX_AGE_S 900    /* and passed on for 15 minutes */
#define WORKTIME_ENV "POSTERN_WORKTIMES"
/* Each method's samples as decimal microseconds: at most 8 digits, a
 * separator each, and the terminator. */
#define WORKTIME_TEXT_MAX (WORKTIME_METHODS * WORKTIME_KEEP * 9 + 1)

struct worktimes {
	uint32_t us[WORKTIME_METHODS][WORKTIME_KEEP];
	int64_t at[WORKTIME_METHODS][WORKTIME_KEEP]; /* when kept, seconds */
	uint8_t n[WORKTIME_METHODS];    /* samples held, up to WORKTIME_KEEP */
	uint8_t next[WORKTIME_METHODS]; /* where the next one goes */
};

/* The index of an authentication method's name, or -1 if none is kept. */
int worktime_method(const char *method);

/* Keep us (cut to WORKTIME_MAX_US) as method m's newest sample, taken at
 * now (monotonic seconds). */
void worktime_add(struct worktimes *w, int m, uint32_t us, int64_t now);

/*
 * worktime_format: the samples of w not older than WORKTIME_MAX_AGE_S at
 * now as text, each method's comma-separated, the methods in index order
 * separated by ';' ("120,95;;4100;"). out holds WORKTIME_TEXT_MAX bytes.
 */
void worktime_format(const struct worktimes *w, char *out, int64_t now);

/* worktime_parse: text from worktime_format into w, as taken at now; 0,
 * or -1 (w empty) if it is not such text. */
int worktime_parse(struct worktimes *w, const char *s, int64_t now);

/* Monotonic seconds, for now. */
int64_t worktime_now(void);

/* One of method m's samples, drawn at random; 0 if there is none. */
uint32_t worktime_pick(const struct worktimes *w, int m);

#endif
