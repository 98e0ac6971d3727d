/*
 * authkeys.c: find a public key in a user's authorized_keys file, reading
 * it with the user's privileges, applying OpenSSH's StrictModes checks and
 * the lookup-time key options (from=, expiry-time=).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"
#include "authdebug.h"
#include "authopts.h"
#include "authkeys.h"
#include "privs.h"

/*
 * A group that only the user can be in: every account whose primary group
 * it is is the user, its member list is empty or names only the owner of
 * the file, and it has one member at least (an empty group is typically a
 * setgid program's). Debian's sshd accepts a file or directory writable by
 * such a group, as made by useradd with USERGROUPS_ENAB and umask 002.
 */
int
authkeys_private_group(gid_t gid, uid_t uid, uid_t owner)
{
	const struct passwd *p;
	const struct group *g;
	char owner_name[256];
	int members = 0, ok = 1;

	if ((p = getpwuid(owner)) == NULL ||
	    strlen(p->pw_name) >= sizeof(owner_name))
		return 0;
	memcpy(owner_name, p->pw_name, strlen(p->pw_name) + 1);
	if ((g = getgrgid(gid)) == NULL)
		return 0;
	if (g->gr_mem != NULL && g->gr_mem[0] != NULL) {
		if (g->gr_mem[1] != NULL ||
		    strcmp(g->gr_mem[0], owner_name) != 0)
			return 0;
		members++;
	}
	setpwent();
	while ((p = getpwent()) != NULL) {
		if (p->pw_gid != gid)
			continue;
		members++;
		if (p->pw_uid != uid) {
			ok = 0;
			break;
		}
	}
	endpwent();
	return ok && members > 0;
}

/* The last authkeys_private_group() answer of one secure_path() walk: a path's
 * group-writable files and directories usually share one group and owner,
 * and each answer reads the whole account list. */
struct group_memo {
	int known, ok;
	gid_t gid;
	uid_t owner;
};

/*
 * Owned by root or the user, not writable by others, and not writable by
 * the group unless it is the user's private group (above).
 */
static int
owner_mode_ok(const struct stat *st, uid_t uid, struct group_memo *m)
{
	if (st->st_uid != 0 && st->st_uid != uid)
		return 0;
	if (st->st_mode & S_IWOTH)
		return 0;
	if ((st->st_mode & S_IWGRP) == 0)
		return 1;
	if (!m->known || m->gid != st->st_gid || m->owner != st->st_uid) {
		m->ok = authkeys_private_group(st->st_gid, uid, st->st_uid);
		m->gid = st->st_gid;
		m->owner = st->st_uid;
		m->known = 1;
	}
	return m->ok;
}

/*
 * secure_path: OpenSSH's auth_secure_path(): the file, then each directory
 * above it up to the user's home (or "/" when outside it). On refusal a
 * message in OpenSSH's words is left in err.
 */
static int
secure_path(
    int fd, const char *path, const struct passwd *pw, char *err, size_t errlen)
{
	char canon[PATH_MAX], home[PATH_MAX], *slash;
	struct group_memo memo = {0, 0, 0, 0};
	struct stat st;
	int have_home;

	if (realpath(path, canon) == NULL) {
		snprintf(err, errlen, "realpath %s failed: %s", path,
		    strerror(errno));
		return -1;
	}
	have_home = pw->pw_dir != NULL && realpath(pw->pw_dir, home) != NULL;
	if (fstat(fd, &st) == -1) {
		snprintf(
		    err, errlen, "stat %s failed: %s", canon, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", canon);
		return -1;
	}
	if (!owner_mode_ok(&st, pw->pw_uid, &memo)) {
		snprintf(
		    err, errlen, "bad ownership or modes for file %s", canon);
		return -1;
	}
	for (;;) {
		/* Step up to the parent directory. */
		if ((slash = strrchr(canon, '/')) == NULL) {
			snprintf(err, errlen, "dirname() failed");
			return -1;
		}
		if (slash == canon)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(canon, &st) == -1 ||
		    !owner_mode_ok(&st, pw->pw_uid, &memo)) {
			snprintf(err, errlen,
			    "bad ownership or modes for directory %s", canon);
			return -1;
		}
		if (have_home && strcmp(canon, home) == 0)
			return 0;
		if (strcmp(canon, "/") == 0)
			return 0;
	}
}

/* OpenSSH's auth_authorise_keyopts() for a line whose key matches: 0 to
 * accept, -1 to refuse (logged). */
static int
authorise(
    const struct authkeys_query *q, const struct authopts *o, const char *loc)
{
	return authopts_authorise(o, q->now != 0 ? q->now : time(NULL), 1,
	    q->pw->pw_name,
	    q->remote_host != NULL ? q->remote_host : q->remote_addr,
	    q->remote_addr, loc, q->log_flags);
}

/*
 * Check one non-comment line: 1 if it holds the key and passes its
 * options (*optsp then owns them), 0 if not, an ERR_* code on failure.
 * can_apply 0: the caller cannot enforce options, so only a line with
 * none that restrict the session may match.
 */
static int
check_line(const struct authkeys_query *q, const char *cp, const char *loc,
    int can_apply, struct authopts **optsp)
{
	struct sshkey *found = NULL;
	struct sshkey_sk *found_sk = NULL;
	struct authopts *opts = NULL, *final = NULL;
	const char *why = NULL, *type;
	char fp[SSHKEY_FP_LEN];
	int r, same;

	*optsp = NULL;
	r = authkeys_parse_line_sk(cp, &found, &found_sk, &opts, &why);
	if (r == ERR_NOT_FOUND) {
		debug2("%s: no supported key on line, skipped", loc);
		return 0;
	}
	if (r == ERR_FORMAT && found == NULL && found_sk == NULL) {
		/* sshd's words, without the place: a debug line names it. */
		debug("%s: key options unreadable; line skipped", loc);
		error("%s", why);
		if (q->log_flags & AUTHOPTS_LOG_REMOTE)
			authdebug_add("%s", why);
		return 0;
	}
	if (q->sk_key != NULL)
		same = found_sk != NULL &&
		    sshkey_sk_equal_public(found_sk, q->sk_key);
	else
		same = found != NULL && q->key != NULL &&
		    sshkey_equal_public(found, q->key);
	if (r == ERR_FORMAT) {
		/* Loud only for the line meant for this key; sshd says debug. */
		log_msg(same ? LL_INFO : LL_DEBUG1, __func__, 0,
		    "%s: bad key options: %s", loc, why);
		if (q->log_flags & AUTHOPTS_LOG_REMOTE)
			authdebug_add("%s: bad key options: %s", loc, why);
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	if (!same || opts->cert_authority != (q->want_ca != 0)) {
		if (same)
			debug2("%s: key matches but the line is %s "
			       "cert-authority line; skipped",
			    loc, opts->cert_authority ? "a" : "not a");
		goto out;
	}
	/* In SHA-256 whatever FingerprintHash says, as sshd 9.2's
	 * auth2-pubkeyfile.c writes these lines. */
	if (found_sk != NULL) {
		r = sshkey_sk_fingerprint_sha256(found_sk, fp, sizeof(fp));
		type = sshkey_sk_type_short(found_sk);
	} else {
		r = sshkey_fingerprint_sha256(found, fp, sizeof(fp));
		type = sshkey_type_short(found);
	}
	if (r != 0)
		goto out;
	debug("%s: matching %s found: %s %s", loc, q->want_ca ? "CA" : "key",
	    type, fp);
	if (authorise(q, opts, loc) != 0) {
		/* As sshd: the line before (from=, expiry-time=) names the
		 * place. */
		error("Refused by key options");
		if (q->log_flags & AUTHOPTS_LOG_REMOTE)
			authdebug_add("Refused by key options");
		goto out;
	}
	/* As sshd, a CA line's too, whether the certificate passes or not. */
	authopts_log(opts, loc, q->log_flags);
	if (!can_apply && !authopts_is_unrestricted(opts)) {
		logit("%s: key options cannot be enforced by this caller; "
		      "line skipped",
		    loc);
		goto out;
	}
	/* A CA line: the certificate decides whether it is the one. */
	if (q->want_ca && q->ca_check != NULL) {
		if (q->ca_check(q->ca_arg, opts, loc, &final) != 0) {
			authopts_free(final);
			goto out;
		}
		if (final != NULL) {
			authopts_free(opts);
			opts = final;
		}
	}
	if (!q->want_ca)
		verbose("Accepted key %s %s found at %s", type, fp, loc);
	*optsp = opts;
	opts = NULL;
	r = 1;
out:
	authopts_free(opts);
	sshkey_free(found);
	sshkey_sk_free(found_sk);
	return r;
}

/*
 * The next line of a user's file into line (AUTHKEYS_LINE_MAX + 2 bytes),
 * without its newline: 1, or 0 at the end. A longer line is skipped and
 * logged; what lies past AUTHKEYS_FILE_MAX bytes is ignored, logged once.
 * A line's length is the bytes read up to its newline, a NUL byte or not:
 * the parsers stop at a NUL (as sshd ignores the rest of such a line),
 * and what follows it never starts a line of its own.
 */
static int
next_line(FILE *f, char *line, const char *label, unsigned long *lineno)
{
	size_t len;
	int c;

	for (;;) {
		for (len = 0; (c = getc_unlocked(f)) != EOF && c != '\n';) {
			if (len <= AUTHKEYS_LINE_MAX)
				line[len] = (char)c;
			if (++len % 4096 == 0 && ftello(f) > AUTHKEYS_FILE_MAX)
				goto too_big;
		}
		/* A read error: no line, not the part of one read so far. */
		if (c == EOF && (len == 0 || ferror(f)))
			return 0;
		if (ftello(f) > AUTHKEYS_FILE_MAX)
			goto too_big;
		(*lineno)++;
		if (len <= AUTHKEYS_LINE_MAX) {
			line[len] = '\0';
			return 1;
		}
		error("%s line %lu exceeds size limit", label, *lineno);
	}
too_big:
	error("%s exceeds the size limit of %ld bytes; the rest is ignored",
	    label, AUTHKEYS_FILE_MAX);
	return 0;
}

/* Read the file line by line; 0, *linep and *optsp on the first match. */
static int
scan_file(FILE *f, const struct authkeys_query *q, const char *label,
    int can_apply, unsigned long *linep, struct authopts **optsp)
{
	char *line, loc[PATH_MAX + 32];
	const char *cp;
	unsigned long lineno = 0;
	int r = ERR_NOT_FOUND, m;

	/* Room for the longest line, its newline and the NUL. */
	if ((line = malloc(AUTHKEYS_LINE_MAX + 2)) == NULL)
		return ERR_ALLOC;
	while (next_line(f, line, label, &lineno)) {
		cp = line + strspn(line, " \t");
		if (*cp == '\0' || *cp == '#' || *cp == '\r')
			continue;
		snprintf(loc, sizeof(loc), "%s:%lu", label, lineno);
		if ((m = check_line(q, cp, loc, can_apply, optsp)) < 0) {
			r = m;
			break;
		}
		if (m == 1) {
			if (linep != NULL)
				*linep = lineno;
			r = 0;
			break;
		}
	}
	if (r == ERR_NOT_FOUND && ferror(f)) {
		error("%s: read %s: %s", __func__, label, strerror(errno));
		r = ERR_SYSTEM;
	}
	free(line);
	return r;
}

/*
 * Open a file of the user's (what: "authorized keys", "authorized
 * principals") and check it as OpenSSH's auth_openfile() does; called with
 * the user's privileges in effect. 0 and *fp, or ERR_NOT_FOUND (logged
 * unless the file does not exist), ERR_PERM, ERR_SYSTEM.
 */
static int
open_user_file(const struct passwd *pw, const char *path, int strict_modes,
    const char *what, FILE **fp)
{
	char err[PATH_MAX + 128];
	struct stat st;
	int fd, flags;

	*fp = NULL;
	/* O_NONBLOCK: a FIFO planted in place of the file must not hang us. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			debug("Could not open user '%.255s' %s '%s': %s",
			    pw->pw_name, what, path, strerror(errno));
		else
			logit("Could not open user '%.255s' %s '%s': %s",
			    pw->pw_name, what, path, strerror(errno));
		return ERR_NOT_FOUND;
	}
	if (fstat(fd, &st) == -1) {
		error("%s: fstat %s: %s", __func__, path, strerror(errno));
		close(fd);
		return ERR_SYSTEM;
	}
	if (!S_ISREG(st.st_mode)) {
		logit("User '%.255s' %s '%s' is not a regular file",
		    pw->pw_name, what, path);
		close(fd);
		return ERR_PERM;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		error("%s: fcntl %s: %s", __func__, path, strerror(errno));
		close(fd);
		return ERR_SYSTEM;
	}
	if (strict_modes && secure_path(fd, path, pw, err, sizeof(err)) != 0) {
		logit("Authentication refused: %s", err);
		close(fd);
		return ERR_PERM;
	}
	if ((*fp = fdopen(fd, "r")) == NULL) {
		error("%s: fdopen %s: %s", __func__, path, strerror(errno));
		close(fd);
		return ERR_SYSTEM;
	}
	return 0;
}

/* Open, check and scan; called with the user's privileges in effect. */
static int
find_as_user(const struct authkeys_query *q, int can_apply,
    unsigned long *linep, struct authopts **optsp)
{
	FILE *f;
	int r;

	if ((r = open_user_file(
	         q->pw, q->path, q->strict_modes, "authorized keys", &f)) != 0)
		return r;
	debug("trying public key file %s", q->path);
	r = scan_file(f, q, q->path, can_apply, linep, optsp);
	fclose(f);
	return r;
}

int
authkeys_find_opts(const struct authkeys_query *q, unsigned long *linep,
    struct authopts **optsp)
{
	struct authopts *opts = NULL;
	struct privs_saved ids;
	int r;

	if (linep != NULL)
		*linep = 0;
	if (optsp != NULL)
		*optsp = NULL;
	if ((r = privs_become_user(
	         q->pw->pw_name, q->pw->pw_uid, q->pw->pw_gid, &ids)) != 0)
		return r;
	r = find_as_user(q, optsp != NULL, linep, &opts);
	privs_restore(&ids);
	if (r == 0 && optsp != NULL)
		*optsp = opts;
	else
		authopts_free(opts);
	return r;
}

int
authkeys_find_stream(const struct authkeys_query *q, FILE *f, const char *label,
    unsigned long *linep, struct authopts **optsp)
{
	struct authopts *opts = NULL;
	int r;

	if (linep != NULL)
		*linep = 0;
	if (optsp != NULL)
		*optsp = NULL;
	r = scan_file(f, q, label, optsp != NULL, linep, &opts);
	if (r == 0 && optsp != NULL)
		*optsp = opts;
	else
		authopts_free(opts);
	return r;
}

int
authkeys_find(const struct passwd *pw, const char *path,
    const struct sshkey *key, int strict_modes, unsigned long *linep)
{
	struct authkeys_query q;

	memset(&q, 0, sizeof(q));
	q.pw = pw;
	q.path = path;
	q.key = key;
	q.strict_modes = strict_modes;
	return authkeys_find_opts(&q, linep, NULL);
}

/*
 * One line of a principals file (comment already cut): 1 if its principal
 * is one of cert's, with *optsp its options; 0 if not; an ERR_* code.
 */
static int
principal_line(char *cp, const struct sshcert *cert, const char *loc,
    struct authopts **optsp)
{
	const char *why = NULL;
	char *end, *name, *opts = NULL;
	int r;

	*optsp = NULL;
	/* As sshd, a CR is not blank: "bob\r" (a CRLF file) is not bob. */
	end = cp + strlen(cp);
	while (
	    end > cp && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		*--end = '\0';
	/*
	 * Inner blanks: the options come first, the principal is last. As
	 * sshd, the principal follows the last space, or the last tab when
	 * there is no space (a tab after a quoted value with a space in it
	 * is not where the principal starts).
	 */
	if ((name = strrchr(cp, ' ')) != NULL ||
	    (name = strrchr(cp, '\t')) != NULL) {
		name += strspn(name, " \t");
		opts = cp;
	} else
		name = cp;
	if ((r = authopts_parse(opts, optsp, &why)) != 0) {
		if (r == ERR_ALLOC)
			return r;
		debug("%s: bad principals options: %s", loc, why);
		return 0;
	}
	if (!sshcert_has_principal(cert, name)) {
		authopts_free(*optsp);
		*optsp = NULL;
		return 0;
	}
	debug3("%s: matched principal \"%.100s\"", loc, name);
	return 1;
}

/* Read the principals file; 0, *linep and *optsp for the first match. */
static int
scan_principals(FILE *f, const struct sshcert *cert, const char *label,
    unsigned long *linep, struct authopts **optsp)
{
	char *line, *cp, *hash, loc[PATH_MAX + 32];
	unsigned long lineno = 0, nonblank = 0;
	int r = ERR_NOT_FOUND, m;

	if ((line = malloc(AUTHKEYS_LINE_MAX + 2)) == NULL)
		return ERR_ALLOC;
	while (next_line(f, line, label, &lineno)) {
		/* As sshd: the whole file is read, the first match counts. */
		if (r == 0)
			continue;
		cp = line + strspn(line, " \t");
		if ((hash = strchr(cp, '#')) != NULL)
			*hash = '\0';
		if (*cp == '\0' || *cp == '\n')
			continue;
		nonblank++;
		snprintf(loc, sizeof(loc), "%s:%lu", label, lineno);
		if ((m = principal_line(cp, cert, loc, optsp)) < 0) {
			r = m;
			break;
		}
		if (m == 1) {
			if (linep != NULL)
				*linep = lineno;
			r = 0;
		}
	}
	if (r == ERR_NOT_FOUND && ferror(f)) {
		error("%s: read %s: %s", __func__, label, strerror(errno));
		r = ERR_SYSTEM;
	}
	debug2("%s: %s: processed %lu/%lu lines", __func__, label, nonblank,
	    lineno);
	free(line);
	return r;
}

int
authkeys_find_principal_stream(FILE *f, const char *label,
    const struct sshcert *cert, unsigned long *linep, struct authopts **optsp)
{
	struct authopts *opts = NULL;
	int r;

	if (linep != NULL)
		*linep = 0;
	*optsp = NULL;
	if ((r = scan_principals(f, cert, label, linep, &opts)) == 0)
		*optsp = opts;
	else
		authopts_free(opts);
	return r;
}

int
authkeys_find_principal(const struct passwd *pw, const char *path,
    int strict_modes, const struct sshcert *cert, unsigned long *linep,
    struct authopts **optsp)
{
	struct authopts *opts = NULL;
	struct privs_saved ids;
	FILE *f = NULL;
	int r;

	if (linep != NULL)
		*linep = 0;
	*optsp = NULL;
	if ((r = privs_become_user(
	         pw->pw_name, pw->pw_uid, pw->pw_gid, &ids)) != 0)
		return r;
	debug("trying authorized principals file %s", path);
	if ((r = open_user_file(
	         pw, path, strict_modes, "authorized principals", &f)) == 0) {
		r = scan_principals(f, cert, path, linep, &opts);
		fclose(f);
	}
	privs_restore(&ids);
	if (r == 0)
		*optsp = opts;
	else
		authopts_free(opts);
	return r;
}

/* Append s to out (size PATH_MAX) at *op; -1 if it would not fit. */
static int
path_append(char *out, size_t *op, const char *s)
{
	size_t n = strlen(s);

	if (n >= PATH_MAX - *op)
		return -1;
	memcpy(out + *op, s, n + 1);
	*op += n;
	return 0;
}

void
authkeys_percent_error(char c)
{
	if (c == '\0')
		error("vdollar_percent_expand: invalid format");
	else
		error("vdollar_percent_expand: unknown key %%%c", c);
}

void
authkeys_percent_fatal(char c)
{
	authkeys_percent_error(c);
	fatal("percent_expand: failed");
}

char *
authkeys_expand_path(const char *pattern, const struct passwd *pw)
{
	char out[PATH_MAX], full[PATH_MAX], uid[32], one[2] = {0, 0};
	const char *p, *ins;
	size_t o = 0;

	out[0] = '\0';
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)pw->pw_uid);
	for (p = pattern; *p != '\0'; p++) {
		if (*p != '%') {
			one[0] = *p;
			ins = one;
		} else {
			switch (*++p) {
			case '%':
				ins = "%";
				break;
			case 'h':
				ins = pw->pw_dir;
				break;
			case 'u':
				ins = pw->pw_name;
				break;
			case 'U':
				ins = uid;
				break;
			default:
				authkeys_percent_fatal(*p);
			}
		}
		if (path_append(out, &o, ins) != 0)
			return NULL;
	}
	if (out[0] == '/')
		return strdup(out);
	/* Relative to the home directory, as OpenSSH does. */
	o = 0;
	full[0] = '\0';
	if (path_append(full, &o, pw->pw_dir) != 0 ||
	    path_append(full, &o, "/") != 0 || path_append(full, &o, out) != 0)
		return NULL;
	return strdup(full);
}
