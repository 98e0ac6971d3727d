/*
 * penalty.h: the listener's PerSourcePenalties table (sshd_config(5) of
 * OpenSSH 9.9): per PerSourceNetBlockSize block, when refusing its
 * connections ends, and whether the penalty is past "min" yet. Time is
 * the caller's (monotonic seconds), so that tests can drive it.
 */
#ifndef POSTERN_PENALTY_H
#define POSTERN_PENALTY_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/throttle.h"
#include "policy/config.h"

/* Why a connection that did not authenticate ended. */
enum penalty_kind {
	PENALTY_NONE,
	PENALTY_CRASH,    /* monitor or preauth killed by a crash signal */
	PENALTY_AUTHFAIL, /* it tried to authenticate and failed */
	PENALTY_NOAUTH,   /* it closed without trying */
	PENALTY_GRACE,    /* LoginGraceTime ended it */
};

struct penalty {
	struct source_block block;
	int64_t expiry; /* refused while now <= expiry */
	int active;     /* the accrued penalty went past "min" */
	enum penalty_kind why;
};

struct penalty_table {
	struct penalty_config cfg;
	int v4bits, v6bits; /* PerSourceNetBlockSize, for the log lines */
	struct penalty *v;  /* sorted by block */
	size_t n, cap;
	size_t n4, n6;       /* entries per family */
	int64_t last_expire; /* when expired entries were last removed */
};

void penalty_init(struct penalty_table *t, const struct penalty_config *cfg,
    int v4bits, int v6bits);
void penalty_free(struct penalty_table *t);

/*
 * penalty_check: 1 if a connection from block b is refused at now, with
 * *reason the words of the log line ("penalty: failed authentication",
 * "penalty: too many penalised addresses"); 0 if it may go on. The
 * caller has already let exempt addresses through.
 */
int penalty_check(struct penalty_table *t, const struct source_block *b,
    int64_t now, const char **reason);

/* penalty_add: a connection from b ended as k at now (exempt: not called). */
void penalty_add(struct penalty_table *t, const struct source_block *b,
    enum penalty_kind k, int64_t now);

/*
 * The drop lines' limit: at most PENALTY_LOG_BURST a PENALTY_LOG_WINDOW
 * seconds, so that a flood from penalised sources cannot fill the logs.
 */
#define PENALTY_LOG_BURST 10
#define PENALTY_LOG_WINDOW 60
struct penalty_log {
	int64_t window; /* when the current window opened */
	unsigned logged, unlogged;
};
/*
 * penalty_log_take: 1 if one more drop line may be written at now. When
 * a new window opens, *flush is the number of drops the last one did not
 * log (to be said in one line first), else 0.
 */
int penalty_log_take(struct penalty_log *l, int64_t now, unsigned *flush);

/*
 * penalty_crash_signal: 1 for the signals that mean a crash rather than a
 * kill (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, and SIGSYS:
 * the seccomp sandbox).
 */
int penalty_crash_signal(int sig);

/* "127.0.0.0/24", "2001:db8::/64": the block as the log lines name it. */
void penalty_block_name(const struct penalty_table *t,
    const struct source_block *b, char *out, size_t len);

#endif
