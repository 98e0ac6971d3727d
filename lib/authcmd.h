/*
 * authcmd.h: run AuthorizedKeysCommand / AuthorizedPrincipalsCommand as
 * OpenSSH's subprocess() does, with postern's bounds on time and output.
 */
#ifndef POSTERN_AUTHCMD_H
#define POSTERN_AUTHCMD_H

#include <stddef.h>
#include <stdint.h>

/* postern's bounds on what one run may print and how long it may take
 * (sshd has none); docs/sshd_config.md. */
#define AUTHCMD_MAX_OUTPUT (1024 * 1024)
#define AUTHCMD_TIMEOUT_MS (30 * 1000)
#define AUTHCMD_MAX_ARGS 256
/* One argument after token expansion, with its NUL: the kernel's own
 * bound (MAX_ARG_STRLEN). */
#define AUTHCMD_ARG_MAX (128 * 1024)
/* The command line as log lines name it (cut beyond). */
#define AUTHCMD_PRINTABLE_MAX 8192

/* The values of the % tokens, by letter. */
struct authcmd_tokens {
	const char *v[128];
};

/* One command run: its words and how it is named in log lines. */
struct authcmd {
	const char *tag; /* "AuthorizedKeysCommand" */
	char *av[AUTHCMD_MAX_ARGS + 2];
	int ac;
	char printable[AUTHCMD_PRINTABLE_MAX];
};

/*
 * authcmd_run: run cmdline as user runas_name (a %u in it is the user's
 * name, as sshd expands AuthorizedKeysCommandUser): tokens among `allowed'
 * expanded in its arguments, the user name as the only argument when it
 * has none. 0 with its output (malloc'd, NUL-terminated) when it ran and
 * exited 0 within the bounds; -1 otherwise, logged. cr->tag names it.
 */
int authcmd_run(struct authcmd *cr, const char *cmdline, const char *runas_name,
    const struct authcmd_tokens *tk, const char *allowed, const char *user,
    char **outp, size_t *lenp);
void authcmd_free(struct authcmd *cr);

/*
 * The time the commands run in this process took since
 * authcmd_clock_reset (microseconds), and how many runs were skipped
 * (authcmd_note_skipped) because the user does not exist: the monitor
 * holds an invalid user's failure as long as a valid user's commands took
 * (monitor/worktime.h). Reset by the monitor at each attempt.
 */
void authcmd_clock_reset(void);
uint64_t authcmd_clock_us(void);
void authcmd_note_skipped(void);
unsigned authcmd_skipped(void);

/* Base64 of a blob into a malloc'd string, or NULL. */
char *authcmd_base64(const uint8_t *blob, size_t len);

#endif
