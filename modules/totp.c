/*
 * totp.so: keyboard-interactive:totp, one-time codes (RFC 6238 TOTP,
 * RFC 4226 HOTP) computed by liboath. The secret comes from pam_oath's
 * users file (TOTPUsersFile), else from the user's ~/.google_authenticator,
 * read and rewritten with the user's privileges.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>

#include "buf.h"
#include "err.h"
#include "gauth.h"
#include "log.h"
#include "modules/postern_module.h"
#include "modules/secret_policy.h"
#include "privs.h"

#define SSH2_MSG_USERAUTH_INFO_REQUEST 60
#define TOTP_PROMPT "Verification code: "
#define TOTP_USERS_FILE "/etc/users.oath" /* pam_oath's default */
#define TOTP_GA_FILE ".google_authenticator"
/* Steps either side of now for the users file (HOTP: codes ahead). */
#define TOTP_WINDOW 1 /* default for TOTPWindow */
#define TOTP_WINDOW_MAX 10
#define TOTP_ANSWER_MAX 64
#define LOCK_WAIT_MS 3000 /* a user may hold their own file's lock */
#define LOCK_POLL_MS 20
#define LOCK_REOPENS 8

/* What one source said about the user and the code. */
enum verdict {
	V_NOT_ENROLLED = 0, /* nothing for this user here: try the next */
	V_REFUSED,          /* enrolled, and the code does not do */
	V_ACCEPTED,
};

struct totp_state {
	int asked;
};

/* TOTPWindow: the steps either side of now a users-file code may be from. */
static size_t
totp_window(const struct pm_conn *c)
{
	const char *v = c->setting(c, "totpwindow", 0);
	char *end;
	long n;

	if (v == NULL)
		return TOTP_WINDOW;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 0)
		return TOTP_WINDOW;
	return n > TOTP_WINDOW_MAX ? TOTP_WINDOW_MAX : (size_t)n;
}

static int
owner_ok(const struct stat *st, uid_t uid)
{
	return st->st_uid == 0 || st->st_uid == uid;
}

/*
 * The directories above the file at canon (a canonical path), up to stop
 * (or "/"): each owned by root or uid and writable by nobody else. Above
 * the file's own directory, a root-owned sticky one (/tmp) is accepted
 * when sticky_ok: there nobody else can move or replace what root made.
 */
static int
dirs_ok(const char *canon, uid_t uid, const char *stop, int sticky_ok,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int first = 1, writable;

	if (strlen(canon) >= sizeof(dir)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	memcpy(dir, canon, strlen(canon) + 1);
	for (;;) {
		if ((slash = strrchr(dir, '/')) == NULL) {
			snprintf(err, errlen, "%s is not absolute", canon);
			return -1;
		}
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == -1) {
			snprintf(
			    err, errlen, "stat %s: %s", dir, strerror(errno));
			return -1;
		}
		writable = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
		if (writable && !first && sticky_ok &&
		    (st.st_mode & S_ISVTX) != 0 && st.st_uid == 0)
			writable = 0;
		if (!owner_ok(&st, uid) || writable) {
			snprintf(err, errlen,
			    "bad ownership or modes for directory %s", dir);
			return -1;
		}
		first = 0;
		if ((stop != NULL && strcmp(dir, stop) == 0) ||
		    strcmp(dir, "/") == 0)
			return 0;
	}
}

/* close() that leaves errno as the failure before it set it. */
static void
close_saving_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Open path (never through a symbolic link) and hold an exclusive flock
 * on the file it names now: whoever rewrites it renames a new file into
 * place while holding the lock, so after waiting the name is checked
 * again. 0 with *fdp and *st; ERR_NOT_FOUND when there is no file;
 * ERR_PERM for a link or something not a regular file; ERR_TIMEOUT.
 */
static int
open_locked(const char *path, int *fdp, struct stat *st)
{
	struct stat now;
	long waited;
	int fd, tries;

	*fdp = -1;
	for (tries = 0; tries < LOCK_REOPENS; tries++) {
		fd = open(path,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd == -1) {
			if (errno == ENOENT)
				return ERR_NOT_FOUND;
			return errno == ELOOP ? ERR_PERM : ERR_SYSTEM;
		}
		if (fstat(fd, st) == -1) {
			close_saving_errno(fd);
			return ERR_SYSTEM;
		}
		if (!S_ISREG(st->st_mode)) {
			close_saving_errno(fd);
			return ERR_PERM;
		}
		for (waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1;
		     waited += LOCK_POLL_MS) {
			if ((errno != EWOULDBLOCK && errno != EINTR) ||
			    waited >= LOCK_WAIT_MS) {
				close_saving_errno(fd);
				return errno == EWOULDBLOCK ? ERR_TIMEOUT
				                            : ERR_SYSTEM;
			}
			sleep_ms(LOCK_POLL_MS);
		}
		if (lstat(path, &now) == -1) {
			close_saving_errno(fd);
			return errno == ENOENT ? ERR_NOT_FOUND : ERR_SYSTEM;
		}
		if (now.st_dev == st->st_dev && now.st_ino == st->st_ino) {
			*fdp = fd;
			return 0;
		}
		/* Replaced while we waited: start again with the new one. */
		close_saving_errno(fd);
	}
	return ERR_TIMEOUT;
}

static const char *
open_error(int r)
{
	switch (r) {
	case ERR_PERM:
		return "a symbolic link or not a regular file";
	case ERR_TIMEOUT:
		return "locked by another process";
	default:
		return strerror(errno);
	}
}

/*
 * The digits of a liboath token type: HOTP, HOTP/E, HOTP/T30 or HOTP/T60,
 * each with an optional /6, /7 or /8 (6 without); 0 for a type liboath
 * does not know, whose line it skips.
 */
static unsigned
type_digits(const char *type)
{
	static const char *const kinds[] = {
	    "HOTP", "HOTP/E", "HOTP/T30", "HOTP/T60"};
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = strlen(kinds[i]);
		if (strncmp(type, kinds[i], n) != 0)
			continue;
		if (type[n] == '\0')
			return 6;
		if (i > 0 && type[n] == '/' && type[n + 1] >= '6' &&
		    type[n + 1] <= '8' && type[n + 2] == '\0')
			return (unsigned)(type[n + 1] - '0');
	}
	return 0;
}

/*
 * The code lengths the users file (the locked fd) declares for user, as
 * bits (1 << digits), bit 0 for an entry of a type liboath does not know
 * (and skips); 0 if the user has no entry, -1 on a read error. liboath
 * checks a code with as many digits as it is given, so without this the
 * last six digits of an eight-digit token's code would do.
 */
static int
declared_digits(int fd, const char *user)
{
	char *line = NULL, *save, *type, *name, iobuf[BUFSIZ];
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int dfd, mask = 0;

	if ((dfd = dup(fd)) == -1)
		return -1;
	if (lseek(dfd, 0, SEEK_SET) == -1 || (f = fdopen(dfd, "r")) == NULL) {
		close(dfd);
		return -1;
	}
	/* stdio's copy of every user's secret, wiped below. */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	while ((n = getline(&line, &cap, f)) != -1) {
		/* A line commented out ("#HOTP/T30 alice ...") is none. */
		if ((type = strtok_r(line, " \t\r\n", &save)) != NULL &&
		    type[0] != '#' &&
		    (name = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
		    strcmp(name, user) == 0)
			mask |= 1 << type_digits(type);
		wipe(line, (size_t)n);
	}
	if (ferror(f))
		mask = -1;
	freezero(line, cap);
	fclose(f);
	wipe(iobuf, sizeof(iobuf));
	return mask;
}

/*
 * While a file is rewritten, the signals that end a monitor are held off
 * (LoginGraceTime's SIGALRM, a SIGTERM...): one that comes meanwhile is
 * delivered by release_signals(), once the file is whole again.
 */
static void
hold_signals(sigset_t *old)
{
	static const int held[] = {
	    SIGALRM, SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2};
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		sigaddset(&set, held[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
release_signals(const sigset_t *old)
{
	int saved = errno;

	sigprocmask(SIG_SETMASK, old, NULL);
	errno = saved;
}

/*
 * Whether the user's entries declare codes of more than one length:
 * liboath checks every entry with the code's own length, so the last six
 * digits of an eight-digit token's code would pass its entry whenever the
 * user also has a six-digit one. Refused as a whole.
 */
static int
mixed_digits(int digits)
{
	digits &= ~1;
	return (digits & (digits - 1)) != 0;
}

/* Whether a code of strlen(code) digits is the one length the entries
 * declare (or the user has no entry liboath knows). */
static int
code_fits(int digits, const char *code)
{
	digits &= ~1;
	return digits == 0 ||
	    (strlen(code) <= 8 && digits == (1 << strlen(code)));
}

/* What the users file said, from the child that read it. */
struct usersfile_result {
	int digits; /* declared_digits() */
	int err;    /* its errno when -1 */
	int rc;     /* oath_authenticate_usersfile() */
	time_t last;
};

/*
 * Read the users file (the locked fd, at path) for user and, when an entry
 * may take code, have liboath check it: in a child process of its own,
 * which takes with it every other user's secret the reading brought into
 * memory (stdio's buffers, liboath's lines, freed without a wipe). The
 * signals that end a monitor are held meanwhile, in both: liboath rewrites
 * the file through FILE.lock and FILE.new, made with O_EXCL, and a process
 * killed in between would leave them to refuse every later update. 0 with
 * *res, or -1.
 */
static int
usersfile_run(const struct pm_conn *c, int fd, const char *path,
    const char *user, const char *code, size_t window,
    struct usersfile_result *res)
{
	sigset_t old;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status;

	memset(res, 0, sizeof(*res));
	hold_signals(&old);
	if (pipe2(p, O_CLOEXEC) == -1) {
		release_signals(&old);
		return -1;
	}
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		release_signals(&old);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		/* liboath is not postern's code: no host keys here. */
		if (c->forget_secrets != NULL)
			c->forget_secrets(c);
		res->digits = declared_digits(fd, user);
		res->err = errno;
		if (res->digits != -1 && res->digits != 1 &&
		    code_fits(res->digits, code)) {
			res->rc = oath_authenticate_usersfile(
			    path, user, code, window, "", &res->last);
		}
		if (write(p[1], res, sizeof(*res)) != (ssize_t)sizeof(*res))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while (got < sizeof(*res)) {
		n = read(p[0], (char *)res + got, sizeof(*res) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	status = 0;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	release_signals(&old);
	if (got == sizeof(*res))
		return 0;
	/* It said nothing: how it ended, for the log line. */
	if (WIFSIGNALED(status))
		error("totp: the users file reader was killed by signal %d",
		    WTERMSIG(status));
	errno = EIO;
	return -1;
}

/* 1 if liboath's PATH.lock or PATH.new is there. */
static int
stale_beside(const char *path)
{
	char p[PATH_MAX + 8];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s.lock", path) < (int)sizeof(p) &&
	    lstat(p, &st) == 0)
		return 1;
	return snprintf(p, sizeof(p), "%s.new", path) < (int)sizeof(p) &&
	    lstat(p, &st) == 0;
}

/* Source 1: pam_oath's users file, read and updated by liboath. */
static enum verdict
usersfile_verify(const struct pm_conn *c, const char *path, const char *code)
{
	char canon[PATH_MAX], err[PATH_MAX + 64];
	struct stat st;
	struct usersfile_result res;
	int fd = -1, r, digits;
	enum verdict v = V_REFUSED;

	if ((r = open_locked(path, &fd, &st)) != 0) {
		if (r == ERR_NOT_FOUND) {
			debug("totp: no users file %s", path);
			return V_NOT_ENROLLED;
		}
		error("totp: users file %s: %s", path, open_error(r));
		return V_REFUSED;
	}
	/* It holds every user's secret, and liboath writes beside it. */
	if (!owner_ok(&st, geteuid()) || (st.st_mode & 077) != 0) {
		error("totp: bad ownership or modes for users file %s", path);
		goto out;
	}
	if (realpath(path, canon) == NULL) {
		error("totp: realpath %s: %s", path, strerror(errno));
		goto out;
	}
	if (dirs_ok(canon, geteuid(), NULL, 1, err, sizeof(err)) != 0) {
		error("totp: users file refused: %s", err);
		goto out;
	}
	if (usersfile_run(c, fd, canon, c->user, code, totp_window(c), &res) !=
	    0) {
		error("totp: users file %s: cannot check the code: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((digits = res.digits) == -1) {
		error("totp: users file %s: %s", path, strerror(res.err));
		goto out;
	}
	/*
	 * Only entries liboath skips: the admin's enrolment is there, just
	 * mistyped. Refused, not handed to the user's own file.
	 */
	if (digits == 1) {
		error("totp: users file %s: no entry for user %.127s has a "
		      "token type liboath knows (HOTP, HOTP/E, HOTP/T30, "
		      "HOTP/T60, with /6, /7 or /8)",
		    path, c->user);
		goto out;
	}
	if (mixed_digits(digits)) {
		error("totp: users file %s: the entries for user %.127s "
		      "declare codes of different lengths, which liboath "
		      "cannot tell apart",
		    path, c->user);
		goto out;
	}
	if (!code_fits(digits, code)) {
		debug("totp: users file %s: no entry for user %.127s takes a "
		      "%zu-digit code",
		    path, c->user, strlen(code));
		logit("totp: wrong verification code for user %.127s (%s)",
		    c->user, path);
		goto out;
	}
	/*
	 * An empty password: only entries without a PIN ("-", or "+" for
	 * one checked elsewhere) can match, since only the code is asked.
	 * liboath records each accepted code and refuses it, and for TOTP
	 * any earlier step, from then on.
	 */
	digits &= ~1;
	switch (res.rc) {
	case OATH_OK:
		verbose("totp: accepted verification code for user %.127s (%s)",
		    c->user, path);
		v = V_ACCEPTED;
		break;
	case OATH_UNKNOWN_USER:
		if (digits != 0) {
			/*
			 * A line of a known type names the user, but liboath
			 * skipped it (no PIN or no key field): the admin's
			 * enrolment, mistyped. Refused, not handed to the
			 * user's own file.
			 */
			error("totp: users file %s: the entry for user %.127s "
			      "is incomplete (TYPE USER PIN KEY); liboath "
			      "skips it",
			    path, c->user);
			break;
		}
		debug("totp: user %.127s not in users file %s", c->user, path);
		v = V_NOT_ENROLLED;
		break;
	case OATH_REPLAYED_OTP:
		logit("totp: verification code for user %.127s was already "
		      "used (%s)",
		    c->user, path);
		break;
	case OATH_BAD_PASSWORD:
		logit("totp: users file %s has a PIN for user %.127s; postern "
		      "asks only for the code",
		    path, c->user);
		break;
	case OATH_INVALID_OTP:
	case OATH_INVALID_DIGITS:
		logit("totp: wrong verification code for user %.127s (%s)",
		    c->user, path);
		break;
	case OATH_FILE_LOCK_ERROR:
	case OATH_FILE_CREATE_ERROR:
		/* liboath makes FILE.lock and FILE.new exclusively. */
		if (stale_beside(canon))
			error("totp: users file %s: %s (%s.lock or %s.new "
			      "exists: if no pam_oath is rewriting the file, "
			      "left by a process killed meanwhile; it stops "
			      "every update until removed)",
			    path, oath_strerror(res.rc), canon, canon);
		else
			error("totp: users file %s: %s", path,
			    oath_strerror(res.rc));
		break;
	default:
		error("totp: users file %s: %s", path, oath_strerror(res.rc));
		break;
	}
out:
	close(fd);
	return v;
}

/* liboath's RFC 4226 HOTP, six digits, for lib/gauth.c. */
static int
hotp6(void *ctx, const uint8_t *key, size_t keylen, uint64_t counter,
    char out[GAUTH_CODE_LEN + 1])
{
	if (oath_hotp_generate((const char *)key, keylen, counter,
	        GAUTH_CODE_LEN, false, OATH_HOTP_DYNAMIC_TRUNCATION,
	        out) != OATH_OK)
		return ERR_CRYPTO;
	return 0;
}

/* The whole file, from the locked descriptor (at most GAUTH_FILE_MAX). */
static int
read_all(int fd, struct buf *b)
{
	uint8_t chunk[4096];
	ssize_t n;
	int r = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : ERR_SYSTEM;
			break;
		}
		if (buf_len(b) + (size_t)n > GAUTH_FILE_MAX ||
		    (r = buf_put(b, chunk, (size_t)n)) != 0) {
			r = ERR_TOO_BIG;
			break;
		}
	}
	wipe(chunk, sizeof(chunk));
	return r;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replace the file with g's state: a new file beside it, flushed to disk,
 * renamed over it. Called as the user, holding the old file's lock. The
 * new file has a fixed name, made afresh under that lock: one a killed
 * monitor left is removed by the next rewrite. (No signals are held:
 * LoginGraceTime must still end a monitor stuck on a home directory.)
 */
static int
write_back(const char *path, const struct stat *old, const struct gauth *g)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	struct buf *b = NULL;
	int fd = -1, dfd, r;

	if (snprintf(tmp, sizeof(tmp), "%s~postern", path) >= (int)sizeof(tmp))
		return ERR_TOO_BIG;
	if ((b = buf_new_secret(2 * GAUTH_FILE_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = gauth_serialize(g, b)) != 0)
		goto out;
	if ((unlink(tmp) == -1 && errno != ENOENT) ||
	    (fd = open(tmp,
	         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) ==
	        -1) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (fchmod(fd, old->st_mode & 0600) == -1 ||
	    (r = write_all(fd, buf_ptr(b), buf_len(b))) != 0 ||
	    fsync(fd) == -1) {
		r = ERR_SYSTEM;
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		r = ERR_SYSTEM;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		r = ERR_SYSTEM;
		goto fail;
	}
	/* The rename itself must reach the disk too. */
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((dfd = open(dir[0] != '\0' ? dir : "/",
		         O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	r = 0;
	goto out;
fail:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
out:
	buf_free(b);
	return r;
}

/* Source 2, as the user: ~/.google_authenticator. */
static enum verdict
gauth_verify_as_user(
    const struct pm_conn *c, const char *path, const char *code)
{
	char canon[PATH_MAX], home[PATH_MAX];
	char err[PATH_MAX + 64];
	struct gauth *g = NULL;
	struct buf *b = NULL;
	struct stat st;
	enum gauth_verdict gv = GAUTH_WRONG;
	enum verdict v = V_REFUSED;
	unsigned long line;
	const char *why;
	int fd = -1, r;

	if ((r = open_locked(path, &fd, &st)) != 0) {
		if (r == ERR_NOT_FOUND) {
			debug("totp: no %s", path);
			return V_NOT_ENROLLED;
		}
		logit("totp: %s refused: %s", path, open_error(r));
		return V_REFUSED;
	}
	/* libpam's rules: the user's own, readable by nobody else. */
	if (st.st_uid != (uid_t)c->uid || (st.st_mode & 07177) != 0) {
		logit("totp: bad ownership or modes for file %s", path);
		goto out;
	}
	if (realpath(path, canon) == NULL) {
		logit("totp: realpath %s: %s", path, strerror(errno));
		goto out;
	}
	if (dirs_ok(canon, (uid_t)c->uid,
	        realpath(c->home, home) != NULL ? home : NULL, 0, err,
	        sizeof(err)) != 0) {
		logit("totp: Authentication refused: %s", err);
		goto out;
	}
	if ((b = buf_new_secret(GAUTH_FILE_MAX + 1)) == NULL)
		goto out;
	if ((r = read_all(fd, b)) != 0) {
		logit("totp: read %s: %s", path,
		    r == ERR_TOO_BIG ? "file too large" : strerror(errno));
		goto out;
	}
	if ((r = gauth_parse(
	         (const char *)buf_ptr(b), buf_len(b), &g, &why, &line)) != 0) {
		logit("totp: %s line %lu: %s", path, line, why);
		goto out;
	}
	if (!g->totp && g->hotp_counter == 0)
		debug("totp: %s has neither TOTP_AUTH nor HOTP_COUNTER; only "
		      "scratch codes can match",
		    path);
	if ((r = gauth_check(
	         g, code, (uint64_t)time(NULL), hotp6, NULL, &gv)) != 0) {
		error(
		    "totp: checking the code against %s: %s", path, err_str(r));
		goto out;
	}
	/* Nothing is accepted unless its consumption is on disk. */
	if (g->changed && (r = write_back(path, &st, g)) != 0) {
		error("totp: cannot update %s: %s", path,
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
		goto out;
	}
	switch (gv) {
	case GAUTH_OK_TOTP:
	case GAUTH_OK_HOTP:
		verbose("totp: accepted verification code for user %.127s (%s)",
		    c->user, path);
		v = V_ACCEPTED;
		break;
	case GAUTH_OK_SCRATCH:
		verbose("totp: accepted scratch code for user %.127s (%s, %zu "
		        "left)",
		    c->user, path, gauth_scratch_left(g));
		v = V_ACCEPTED;
		break;
	case GAUTH_REUSED:
		logit("totp: verification code for user %.127s was already "
		      "used (%s)",
		    c->user, path);
		break;
	case GAUTH_RATE_LIMITED:
		logit("totp: too many login attempts for user %.127s "
		      "(RATE_LIMIT in %s)",
		    c->user, path);
		break;
	case GAUTH_MALFORMED_CODE:
		logit("totp: malformed verification code for user %.127s",
		    c->user);
		break;
	default:
		logit("totp: wrong verification code for user %.127s (%s)",
		    c->user, path);
		break;
	}
out:
	gauth_free(g);
	buf_free(b);
	if (fd != -1)
		close(fd);
	return v;
}

/* The audit trail's file=: path whole, or nothing when it does not fit. */
static void
set_origin(char *origin, size_t originlen, const char *path)
{
	size_t n = strlen(path);

	if (n < originlen)
		memcpy(origin, path, n + 1);
}

static enum verdict
gauth_verify(
    const struct pm_conn *c, const char *code, char *origin, size_t originlen)
{
	struct privs_saved ids;
	char path[PATH_MAX];
	enum verdict v;

	if (c->home == NULL || c->home[0] != '/' ||
	    snprintf(path, sizeof(path), "%s%s%s", c->home,
	        c->home[strlen(c->home) - 1] == '/' ? "" : "/",
	        TOTP_GA_FILE) >= (int)sizeof(path))
		return V_NOT_ENROLLED;
	if (geteuid() != 0 && geteuid() != (uid_t)c->uid)
		return V_NOT_ENROLLED;
	if (privs_become_user(c->user, (uid_t)c->uid, (gid_t)c->gid, &ids) != 0)
		return V_REFUSED;
	v = gauth_verify_as_user(c, path, code);
	privs_restore(&ids);
	if (v != V_NOT_ENROLLED)
		set_origin(origin, originlen, path);
	return v;
}

/* Roughly the work of one check, for users that cannot have one. */
static void
dummy_check(const char *code)
{
	static const uint8_t key[20] = {0x70, 0x6f, 0x73, 0x74, 0x65};
	char out[GAUTH_CODE_LEN + 1];
	uint64_t i;

	for (i = 0; i < 3; i++)
		if (hotp6(NULL, key, sizeof(key), i, out) == 0)
			(void)ct_eq(out, code, strnlen(code, GAUTH_CODE_LEN));
	wipe(out, sizeof(out));
}

/*
 * The answer with blanks removed: 6 to 8 digits, or "" when it is not a
 * code at all (which then never matches).
 */
static void
normalise(const uint8_t *ans, size_t len, char *code, size_t codelen)
{
	size_t i, n = 0;
	int bad = 0;

	for (i = 0; i < len; i++) {
		if (ans[i] == ' ' || ans[i] == '\t')
			continue;
		if (ans[i] < '0' || ans[i] > '9' || n + 1 >= codelen) {
			bad = 1;
			continue;
		}
		code[n++] = (char)ans[i];
	}
	code[n] = '\0';
	if (bad || n < GAUTH_CODE_LEN || n > GAUTH_SCRATCH_LEN)
		wipe(code, codelen);
}

/*
 * Judge code for c; origin (for the audit trail) names the file that
 * judged it, the users file or ~/.google_authenticator, or stays empty.
 */
static enum verdict
verify(
    const struct pm_conn *c, const char *code, char *origin, size_t originlen)
{
	const char *usersfile;
	enum verdict v;

	if (!c->user_valid) {
		dummy_check(code);
		logit(
		    "totp: no TOTP enrolment for invalid user %.127s", c->user);
		return V_REFUSED;
	}
	if (!module_secret_usable(c)) {
		/* Root without PermitRootLogin yes: the code is neither checked
		 * nor used up, so a refusal cannot tell a right one. */
		dummy_check(code);
		logit("totp: code for %.127s not checked: PermitRootLogin "
		      "does not allow keyboard-interactive",
		    c->user);
		return V_REFUSED;
	}
	usersfile = c->setting(c, "totpusersfile", 0);
	if (usersfile == NULL)
		usersfile = TOTP_USERS_FILE;
	/* liboath wants some code; "-" is none of any length it knows. */
	v = V_NOT_ENROLLED;
	if (strcmp(usersfile, "none") != 0 &&
	    (v = usersfile_verify(
	         c, usersfile, code[0] != '\0' ? code : "-")) != V_NOT_ENROLLED)
		set_origin(origin, originlen, usersfile);
	if (v == V_NOT_ENROLLED)
		v = gauth_verify(c, code, origin, originlen);
	if (v == V_NOT_ENROLLED) {
		logit("totp: no TOTP enrolment for user %.127s", c->user);
		v = V_REFUSED;
	}
	return v;
}

static int
totp_start(const struct pm_conn *conn, void **state)
{
	if (oath_init() != OATH_OK) {
		error_f("liboath initialisation failed");
		return ERR_CRYPTO;
	}
	if ((*state = calloc(1, sizeof(struct totp_state))) == NULL) {
		oath_done();
		return ERR_ALLOC;
	}
	return 0;
}

/* USERAUTH_REQUEST: string language, string submethods. Ask for a code. */
static int
totp_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct totp_state *st = state;
	struct buf *m = NULL, *q = NULL;
	int r;

	res->verdict = PM_FAILURE;
	st->asked = 0;
	if ((m = buf_from(data, len)) == NULL || (q = buf_new(1024)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (buf_skip_string(m) != 0 || buf_skip_string(m) != 0 ||
	    buf_end(m) != 0) {
		r = ERR_PROTOCOL;
		goto out;
	}
	/* name, instruction, language, one prompt without echo */
	if ((r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 || (r = buf_put_u32(q, 1)) != 0 ||
	    (r = buf_put_cstring(q, TOTP_PROMPT)) != 0 ||
	    (r = buf_put_bool(q, 0)) != 0)
		goto out;
	if ((res->msg = malloc(buf_len(q))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	memcpy(res->msg, buf_ptr(q), buf_len(q));
	res->msg_len = buf_len(q);
	res->msg_type = SSH2_MSG_USERAUTH_INFO_REQUEST;
	res->verdict = PM_CONTINUE;
	st->asked = 1;
	r = 0;
out:
	buf_free(m);
	buf_free(q);
	return r;
}

/* INFO_RESPONSE: u32 count, count x string; exactly the one answer. */
static int
totp_response(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct totp_state *st = state;
	char code[GAUTH_SCRATCH_LEN + 2];
	const uint8_t *ans;
	struct buf *m;
	size_t alen;
	uint32_t n;
	int r;

	res->verdict = PM_FAILURE;
	if (!st->asked)
		return ERR_PROTOCOL;
	st->asked = 0;
	if ((m = buf_new_secret(len > 0 ? len : 1)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put(m, data, len)) != 0 || (r = buf_get_u32(m, &n)) != 0 ||
	    n != 1 || (r = buf_get_string_direct(m, &ans, &alen)) != 0 ||
	    (r = buf_end(m)) != 0) {
		buf_free(m);
		return r == ERR_ALLOC ? r : ERR_PROTOCOL;
	}
	normalise(ans, alen > TOTP_ANSWER_MAX ? 0 : alen, code, sizeof(code));
	if (verify(c, code, res->origin, sizeof(res->origin)) == V_ACCEPTED &&
	    c->user_valid)
		res->verdict = PM_SUCCESS;
	wipe(code, sizeof(code));
	buf_free(m);
	return 0;
}

static void
totp_finish(void *state)
{
	free(state);
	oath_done();
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "keyboard-interactive",
    .submethod = "totp",
    .start = totp_start,
    .request = totp_request,
    .response = totp_response,
    .finish = totp_finish,
};
