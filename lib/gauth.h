/*
 * gauth.h: google-authenticator-libpam's per-user secret file
 * (~/.google_authenticator): parse it, decide one verification code
 * against it (rate limit, window, reuse, scratch codes, HOTP counter) and
 * write it back. Pure: the caller supplies the clock and the HOTP function
 * (keyboard-interactive:totp uses liboath's), and does the file I/O.
 */
#ifndef POSTERN_GAUTH_H
#define POSTERN_GAUTH_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define GAUTH_FILE_MAX (64 * 1024) /* libpam refuses larger files too */
#define GAUTH_KEY_MAX 128          /* decoded shared secret, bytes */
#define GAUTH_LIST_MAX 1024        /* numbers in one option line */
#define GAUTH_CODE_LEN 6           /* TOTP and HOTP codes */
#define GAUTH_SCRATCH_LEN 8        /* scratch codes */

/* Options keyboard-interactive:totp understands; others are kept as is. */
enum gauth_option {
	GO_NONE = 0,
	GO_RATE_LIMIT,     /* " RATE_LIMIT attempts seconds [time...]" */
	GO_WINDOW_SIZE,    /* " WINDOW_SIZE codes", default 3 (one each side) */
	GO_STEP_SIZE,      /* " STEP_SIZE seconds", default 30 */
	GO_DISALLOW_REUSE, /* " DISALLOW_REUSE [step...]" */
	GO_TOTP_AUTH,      /* " TOTP_AUTH": time-based codes */
	GO_HOTP_COUNTER,   /* " HOTP_COUNTER n": counter-based codes */
	GO_TIME_SKEW,      /* " TIME_SKEW steps", left by libpam */
	GO_COUNT
};

enum gauth_line_kind {
	GL_OTHER = 0, /* blank or unrecognised: written back verbatim */
	GL_OPTION,    /* starts with '"' */
	GL_SCRATCH,   /* an eight-digit scratch code */
};

struct gauth_line {
	char *text; /* as read, without the line ending */
	enum gauth_line_kind kind;
	enum gauth_option opt;
	int used; /* a scratch code consumed: not written back */
};

struct gauth {
	uint8_t key[GAUTH_KEY_MAX]; /* the decoded shared secret */
	size_t keylen;
	char *secret; /* the first line, base32 */
	struct gauth_line *lines;
	size_t nlines;

	int totp;              /* TOTP_AUTH present */
	uint64_t hotp_counter; /* 0: no HOTP_COUNTER */
	unsigned window;       /* codes tried: 3 = the current one +-1 */
	unsigned step;         /* seconds per TOTP step */
	int64_t skew;          /* steps added to the clock */

	int rate_limit; /* RATE_LIMIT present */
	unsigned rate_attempts;
	unsigned rate_interval;
	uint64_t *rate_times; /* recent attempts, seconds since the epoch */
	size_t nrate_times;

	int disallow_reuse;   /* DISALLOW_REUSE present */
	uint64_t *used_steps; /* TOTP steps already accepted */
	size_t nused_steps;

	int changed; /* state changed: the file must be rewritten */
};

enum gauth_verdict {
	GAUTH_WRONG = 0,    /* no code matched */
	GAUTH_OK_TOTP,      /* a time-based code matched */
	GAUTH_OK_HOTP,      /* a counter-based code matched */
	GAUTH_OK_SCRATCH,   /* a scratch code matched, now consumed */
	GAUTH_REUSED,       /* the TOTP step was used before (DISALLOW_REUSE) */
	GAUTH_RATE_LIMITED, /* RATE_LIMIT exceeded; the code was not tried */
	GAUTH_MALFORMED_CODE, /* not 6 or 8 digits */
};

/*
 * The RFC 4226 HOTP value of counter under key, GAUTH_CODE_LEN decimal
 * digits and a NUL into out. 0, or an ERR_* code.
 */
typedef int (*gauth_hotp_fn)(void *ctx, const uint8_t *key, size_t keylen,
    uint64_t counter, char out[GAUTH_CODE_LEN + 1]);

/*
 * gauth_parse: the file's contents (len bytes, at most GAUTH_FILE_MAX).
 * 0 and *gp, or ERR_FORMAT / ERR_TOO_BIG / ERR_LIMIT with a static
 * reason in *why (with the line number in *linep, 0 for the whole file).
 */
int gauth_parse(const char *text, size_t len, struct gauth **gp,
    const char **why, unsigned long *linep);
/* gauth_free wipes the secret and every line. */
void gauth_free(struct gauth *g);

/*
 * gauth_check: one attempt with code (digits only) at time now. Counts
 * the attempt against RATE_LIMIT first, then tries scratch codes (8
 * digits), HOTP_COUNTER, or without it TOTP_AUTH (6 digits), comparing
 * in constant time. Accepted codes are consumed in g (scratch code
 * removed, counter advanced, step recorded under DISALLOW_REUSE); a
 * wrong HOTP code advances the counter by one, as libpam's does;
 * g->changed says the file must be written back before the verdict may
 * be acted on. 0 and *vp, or an ERR_* code (the verdict is then
 * GAUTH_WRONG).
 */
int gauth_check(struct gauth *g, const char *code, uint64_t now,
    gauth_hotp_fn hotp, void *ctx, enum gauth_verdict *vp);

/* gauth_serialize appends the file as it must now be written to out. */
int gauth_serialize(const struct gauth *g, struct buf *out);

/* Scratch codes not yet used. */
size_t gauth_scratch_left(const struct gauth *g);

/*
 * gauth_base32_decode: RFC 4648 base32 (case-insensitive, '=' padding
 * optional, trailing bits ignored as libpam does) into out. 0 and *outlen,
 * or ERR_FORMAT / ERR_TOO_BIG.
 */
int gauth_base32_decode(
    const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen);

#endif
