/*
 * worktime.h: how long valid users' failed authentication attempts took,
 * per method, so that an invalid user's failure can be held as long
 * (docs/posternd.8.md, "WHAT A FAILED LOGIN GIVES AWAY"). A valid user's
 * attempt does work an invalid user's skips (AuthorizedKeysCommand and
 * AuthorizedPrincipalsCommand run only for accounts that exist, as in
 * sshd; a TOTP secret file is rewritten), and the failure's minimum time
 * does not hide work that outlasts it. Each monitor reports its valid
 * user's attempt times on the startup pipe (startup.h); the listener keeps
 * the last WORKTIME_KEEP of each method and hands them to every new
 * monitor in WORKTIME_ENV; a failure of an invalid user is then held at
 * least as long as one of them, drawn at random.
 */
#ifndef POSTERN_WORKTIME_H
#define POSTERN_WORKTIME_H

#include <stddef.h>
#include <stdint.h>

#define WORKTIME_METHODS                                                       \
	4 /* publickey password keyboard-interactive hostbased */
#define WORKTIME_KEEP 32
#define WORKTIME_MAX_US 60000000U /* a sample is cut to one minute */
#define WORKTIME_ENV "POSTERN_WORKTIMES"
/* Each method's samples as decimal microseconds: at most 8 digits, a
 * separator each, and the terminator. */
#define WORKTIME_TEXT_MAX (WORKTIME_METHODS * WORKTIME_KEEP * 9 + 1)

struct worktimes {
	uint32_t us[WORKTIME_METHODS][WORKTIME_KEEP];
	uint8_t n[WORKTIME_METHODS];    /* samples held, up to WORKTIME_KEEP */
	uint8_t next[WORKTIME_METHODS]; /* where the next one goes */
};

/* The index of an authentication method's name, or -1 if none is kept. */
int worktime_method(const char *method);

/* Keep us (cut to WORKTIME_MAX_US) as method m's newest sample. */
void worktime_add(struct worktimes *w, int m, uint32_t us);

/*
 * worktime_format: w as text, each method's samples comma-separated, the
 * methods in index order separated by ';' ("120,95;;4100;"). out holds
 * WORKTIME_TEXT_MAX bytes.
 */
void worktime_format(const struct worktimes *w, char *out);

/* worktime_parse: text from worktime_format into w; 0, or -1 (w empty)
 * if it is not such text. */
int worktime_parse(struct worktimes *w, const char *s);

/* One of method m's samples, drawn at random; 0 if there is none. */
uint32_t worktime_pick(const struct worktimes *w, int m);

#endif
