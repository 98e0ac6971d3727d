/*
 * authkeys.h: authorized_keys lookup for the root monitor, read with the
 * user's privileges and checked as OpenSSH's StrictModes does.
 */
#ifndef POSTERN_AUTHKEYS_H
#define POSTERN_AUTHKEYS_H

#include <pwd.h>
#include <stdio.h>
#include <time.h>

struct authopts;
struct sshcert;
struct sshkey;
struct sshkey_sk;

/*
 * Longest line considered. sshd reads lines of any length (a generated
 * from= list can run to tens of kilobytes); this bounds only the buffer.
 */
#define AUTHKEYS_LINE_MAX (1024 * 1024)
/*
 * Most bytes read of a user's authorized_keys or principals file (the root
 * monitor reads it): generous for large key sets, the rest is ignored.
 */
#define AUTHKEYS_FILE_MAX (64L * 1024 * 1024)

/* One authorized_keys lookup. */
struct authkeys_query {
	const struct passwd *pw;
	const char *path;
	/*
	 * want_ca 0: key is the user's key and only lines without
	 * cert-authority match. want_ca 1: key is the CA key that signed the
	 * user's certificate and only cert-authority lines match; checking
	 * the certificate (principals=, validity, its own options) is left
	 * to the caller.
	 */
	const struct sshkey *key;
	/* A FIDO security key to look for instead of key (a user's key, or
	 * with want_ca 1 the CA that signed the certificate). */
	const struct sshkey_sk *sk_key;
	int want_ca;
	int strict_modes;
	/* The client: canonical host name (NULL with UseDNS no) and address. */
	const char *remote_host;
	const char *remote_addr;
	time_t now; /* for expiry-time=; 0 means time(NULL) */
	/*
	 * AUTHOPTS_LOG_* for each accepted line's "key options:" lines
	 * (authopts_log). With AUTHOPTS_LOG_REMOTE the client is also told,
	 * as sshd tells it, why a line holding the key was refused
	 * (lib/authdebug.h); a cert-authority line's own lines are then
	 * ca_check's to keep, once the certificate passed.
	 */
	unsigned log_flags;
	/*
	 * want_ca: called for each cert-authority line whose key is q->key
	 * and whose own options passed (from=, expiry-time=), with those
	 * options and the line's "FILE:LINE" for log lines, to judge the
	 * certificate by them. 0 accepts the line, and *optsp, if set, holds
	 * the options to return instead of the line's; anything else goes
	 * on with the next line, as sshd does. Runs with the user's
	 * privileges in effect. NULL: every such line is accepted.
	 */
	int (*ca_check)(void *arg, const struct authopts *line_opts,
	    const char *loc, struct authopts **optsp);
	void *ca_arg;
};

/*
 * authkeys_find_opts: look for q->key in the authorized_keys file q->path
 * of user q->pw, applying each candidate line's options as OpenSSH's sshd
 * does at lookup time: a line whose expiry-time= has passed, whose from=
 * does not admit the client, or that has principals= without
 * cert-authority is refused (logged with OpenSSH's words) and the search
 * goes on. A line with an unterminated quote or malformed options is
 * skipped with a log line naming file and line. Returns 0 for the first
 * line that matches and passes, with *linep (if non-NULL) its 1-based
 * number and *optsp (if non-NULL) its parsed options for the caller to
 * apply (free with authopts_free). With optsp NULL, a line whose options
 * restrict the session (command=, no-pty, restrict, permitopen= ...; see
 * authopts_is_unrestricted()) does not match, since the caller could not
 * apply them. ERR_NOT_FOUND when no line matches or the file is missing
 * or unreadable; ERR_PERM when StrictModes (q->strict_modes) refuses the
 * file or a directory above it, or when it is not a regular file;
 * ERR_ALLOC. When running as root the file is opened, checked and read
 * with the user's uid, gid and groups, and root is restored before
 * returning; failing to restore is fatal.
 */
int authkeys_find_opts(const struct authkeys_query *q, unsigned long *linep,
    struct authopts **optsp);

/*
 * authkeys_find_principal: OpenSSH's match_principals_file() for an
 * AuthorizedPrincipalsFile: read path, of user pw, with the user's
 * privileges and (strict_modes) StrictModes' checks as for authorized_keys,
 * for a line naming one of cert's principals. On each line a '#' starts a
 * comment, surrounding blanks are dropped, and a line with blanks inside
 * carries authorized_keys options before the principal, which is what
 * follows the last space (the last tab if the line has no space), as sshd
 * reads it.
 * Returns 0 for the first line that names one, with *linep (if non-NULL)
 * its number and *optsp its options (defaults when it has none; free with
 * authopts_free); a line whose options do not parse is skipped (logged).
 * ERR_NOT_FOUND when no line matches or the file is missing or
 * unreadable; ERR_PERM when StrictModes refuses it or it is not a regular
 * file; ERR_ALLOC.
 */
int authkeys_find_principal(const struct passwd *pw, const char *path,
    int strict_modes, const struct sshcert *cert, unsigned long *linep,
    struct authopts **optsp);

/*
 * authkeys_find_stream: authkeys_find_opts over lines already read (an
 * AuthorizedKeysCommand's output), with label (the command) naming them
 * in log lines as "LABEL:LINE". No file or privilege checks; q->path and
 * q->strict_modes are not used.
 */
int authkeys_find_stream(const struct authkeys_query *q, FILE *f,
    const char *label, unsigned long *linep, struct authopts **optsp);

/*
 * authkeys_find_principal_stream: authkeys_find_principal over lines
 * already read (an AuthorizedPrincipalsCommand's output), named label in
 * log lines.
 */
int authkeys_find_principal_stream(FILE *f, const char *label,
    const struct sshcert *cert, unsigned long *linep, struct authopts **optsp);

/*
 * authkeys_find: authkeys_find_opts for a plain user key with no client
 * address and no options returned: lines with from= or with options that
 * restrict the session never match.
 */
int authkeys_find(const struct passwd *pw, const char *path,
    const struct sshkey *key, int strict_modes, unsigned long *linep);

/*
 * authkeys_percent_error: log sshd's vdollar_percent_expand() line for an
 * unknown % token c, whatever byte it is (the log escapes it, as sshd's
 * does), or for '\0': a trailing %. Also ChrootDirectory's (policy/).
 */
void authkeys_percent_error(char c);

/*
 * authkeys_percent_fatal: an unknown % token c (or '\0': a trailing %) in
 * AuthorizedKeysFile, AuthorizedPrincipalsFile or their commands ends the
 * connection as sshd's monitor does: its percent_expand()'s lines, then
 * fatal() (the monitor's cleanup kills preauth).
 */
void authkeys_percent_fatal(char c) __attribute__((noreturn));

/*
 * authkeys_expand_path: expand an AuthorizedKeysFile or
 * AuthorizedPrincipalsFile pattern: %% %h (home) %u (user name) %U
 * (numeric uid); a relative result is taken relative to
 * the home directory. An unknown or truncated % token is
 * authkeys_percent_fatal. Returns a malloc'd path, or NULL for an
 * over-long result or allocation failure.
 */
char *authkeys_expand_path(const char *pattern, const struct passwd *pw);

/*
 * authkeys_private_group: whether group gid is private to user uid (Debian's
 * secure_permissions()): every account whose primary group it is is uid,
 * its member list is empty or names only owner (the file's owner), and it
 * has one member at least. A file or directory writable by such a group
 * is as safe as one writable by its owner alone.
 */
int authkeys_private_group(gid_t gid, uid_t uid, uid_t owner);

#endif
