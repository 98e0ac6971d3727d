/*
 * publickey.so: the "publickey" method (RFC 4252 s7) for plain keys, FIDO
 * security keys (PROTOCOL.u2f) and OpenSSH user certificates
 * (PROTOCOL.certkeys), judged as OpenSSH's sshd judges them:
 * authorized_keys with every option, cert-authority lines,
 * TrustedUserCAKeys, AuthorizedPrincipalsFile, RevokedKeys. Runs in the
 * monitor; the signed data is rebuilt here from the monitor's session id.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alglist.h"
#include "authcert.h"
#include "authkeys.h"
#include "authopts.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "krl.h"
#include "log.h"
#include "match.h"
#include "modules/postern_module.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"

#define SSH2_MSG_USERAUTH_REQUEST 50
#define HOSTBOUND_METHOD "publickey-hostbound-v00@openssh.com"
#define SSH2_MSG_USERAUTH_PK_OK 60
#define PK_MAX_MESSAGE (256 * 1024)
#define PK_MIN_RSA_BITS 1024 /* OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE */
#define PK_LOG_MAX 256
/* AuthorizedKeysCommand and AuthorizedPrincipalsCommand: postern's bounds
 * on what one run may print and how long it may take (sshd has none). */
#define PK_CMD_MAX_OUTPUT (1024 * 1024)
#define PK_CMD_TIMEOUT_MS (30 * 1000)
#define PK_CMD_MAX_ARGS 256
#define PK_CMD_MAX_LEN 8192
#define PK_KEYS_CMD_TOKENS "CDfhktUu"
#define PK_PRINCIPALS_CMD_TOKENS "CDFfhiKksTtUu"

/* Request algorithms postern verifies (PubkeyAcceptedAlgorithms picks). */
static const char *const implemented_algs[] = {"ssh-ed25519",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", SSHKEY_SK_ED25519_NAME,
    SSHKEY_SK_ECDSA_NAME, "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com"};

/* The key of one request: exactly one of key, sk and cert is set. */
struct userkey {
	struct sshkey *key;
	struct sshkey_sk *sk;
	struct sshcert *cert;
	const struct sshkey *plain; /* key, or the certified key */
	const char *type;           /* "ED25519", "ED25519-SK", "RSA-CERT" */
	char fp[SSHKEY_FP_LEN];     /* of the plain or certified key */
	char ca_fp[SSHKEY_FP_LEN];  /* certificates: of the CA key */
	const uint8_t *blob;        /* as the request carried it */
	size_t bloblen;
};

/* The configuration one request is judged by. */
struct pk_conf {
	const char *accepted;   /* PubkeyAcceptedAlgorithms, resolved */
	const char *ca_algs;    /* CASignatureAlgorithms, resolved */
	const char *trusted_ca; /* TrustedUserCAKeys; NULL: none */
	const char *revoked;    /* RevokedKeys; NULL: none */
	const char *principals; /* AuthorizedPrincipalsFile; NULL: none */
	unsigned min_rsa_bits;  /* RequiredRSASize, at least 1024 */
	int touch_required;     /* PubkeyAuthOptions */
	int verify_required;
	int strict_modes;
};

/* What the cert-authority line check needs (authkeys_query.ca_check). */
struct ca_line_ctx {
	const struct pm_conn *c;
	const struct userkey *uk;
	time_t now;
};

static void
userkey_free(struct userkey *uk)
{
	sshkey_free(uk->key);
	sshkey_sk_free(uk->sk);
	sshcert_free(uk->cert);
	memset(uk, 0, sizeof(*uk));
}

static int
implemented(const char *alg)
{
	size_t i;

	for (i = 0; i < sizeof(implemented_algs) / sizeof(implemented_algs[0]);
	     i++)
		if (strcmp(alg, implemented_algs[i]) == 0)
			return 1;
	return 0;
}

/* A setting, or NULL for an unset one or "none" in any case. */
static const char *
setting_file(const struct pm_conn *c, const char *kw)
{
	const char *v = c->setting(c, kw, 0);

	return v == NULL || strcasecmp(v, "none") == 0 ? NULL : v;
}

static void
read_conf(const struct pm_conn *c, struct pk_conf *cf)
{
	const char *v;
	long bits;

	memset(cf, 0, sizeof(*cf));
	v = c->setting(c, "pubkeyacceptedalgorithms", 0);
	cf->accepted = v != NULL ? v : ALGLIST_PUBKEY_DEFAULT;
	v = c->setting(c, "casignaturealgorithms", 0);
	cf->ca_algs = v != NULL ? v : ALGLIST_CA_SIG_DEFAULT;
	cf->trusted_ca = setting_file(c, "trustedusercakeys");
	cf->revoked = setting_file(c, "revokedkeys");
	cf->principals = setting_file(c, "authorizedprincipalsfile");
	v = c->setting(c, "requiredrsasize", 0);
	bits = v != NULL ? strtol(v, NULL, 10) : 0;
	cf->min_rsa_bits = bits > PK_MIN_RSA_BITS && bits < 1L << 20
	    ? (unsigned)bits
	    : PK_MIN_RSA_BITS;
	v = c->setting(c, "pubkeyauthoptions", 0);
	cf->touch_required = v != NULL && strstr(v, "touch-required") != NULL;
	cf->verify_required = v != NULL && strstr(v, "verify-required") != NULL;
	v = c->setting(c, "strictmodes", 0);
	cf->strict_modes = v != NULL && strcmp(v, "yes") == 0;
}

/* The fake or real passwd entry the lookups read files as. */
static void
conn_pw(const struct pm_conn *c, struct passwd *pw)
{
	memset(pw, 0, sizeof(*pw));
	pw->pw_name = (char *)c->user;
	pw->pw_dir = (char *)c->home;
	pw->pw_uid = (uid_t)c->uid;
	pw->pw_gid = (gid_t)c->gid;
}

/* Parse the key blob as the request's algorithm says it is. */
static int
userkey_parse(
    const char *alg, const uint8_t *blob, size_t len, struct userkey *uk)
{
	int r;

	memset(uk, 0, sizeof(*uk));
	uk->blob = blob;
	uk->bloblen = len;
	if (sshcert_is_cert_name(alg)) {
		if ((r = sshcert_from_blob(blob, len, &uk->cert)) != 0)
			return r;
		uk->plain = uk->cert->key;
		uk->type = authcert_type_short(uk->cert);
		if ((r = sshkey_fingerprint(
		         uk->cert->ca_key, uk->ca_fp, sizeof(uk->ca_fp))) != 0)
			return r;
		return sshkey_fingerprint(uk->plain, uk->fp, sizeof(uk->fp));
	}
	if (sshkey_sk_is_type_name(alg)) {
		if ((r = sshkey_sk_from_blob(blob, len, &uk->sk)) != 0)
			return r;
		uk->type = sshkey_sk_type_short(uk->sk);
		return sshkey_sk_fingerprint(uk->sk, uk->fp, sizeof(uk->fp));
	}
	if ((r = sshkey_from_blob(blob, len, &uk->key)) != 0)
		return r;
	uk->plain = uk->key;
	uk->type = sshkey_type_short(uk->key);
	return sshkey_fingerprint(uk->key, uk->fp, sizeof(uk->fp));
}

/* 1 if the request's algorithm fits the key it carries. */
static int
userkey_alg_ok(const struct userkey *uk, const char *alg)
{
	if (uk->cert != NULL)
		return sshcert_alg_ok(uk->cert, alg);
	if (uk->sk != NULL)
		return sshkey_sk_sig_alg_ok(uk->sk, alg);
	return sshkey_sig_alg_ok(uk->key, alg, 1);
}

/*
 * OpenSSH's auth_key_is_revoked(): 1 if RevokedKeys lists the key (for a
 * certificate: its key, its serial or ID, or its CA), or if the file
 * cannot be read or parsed, which refuses every key.
 */
static int
revoked(const struct pk_conf *cf, const struct userkey *uk)
{
	struct krl *krl = NULL;
	struct buf *b = NULL;
	char why[PK_LOG_MAX];
	int r;

	if (cf->revoked == NULL)
		return 0;
	if ((r = krl_load(cf->revoked, &krl)) != 0) {
		snprintf(why, sizeof(why), "%s",
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
		error("Error checking authentication key %s %s in revoked "
		      "keys file %s: %s",
		    uk->type, uk->fp, cf->revoked, why);
		return 1;
	}
	if (uk->sk != NULL) {
		if ((b = buf_new(PK_MAX_MESSAGE)) == NULL)
			r = ERR_ALLOC;
		else if ((r = sshkey_sk_to_blob(uk->sk, b)) == 0)
			r = krl_check_blob(krl, buf_ptr(b), buf_len(b));
		buf_free(b);
	} else
		r = krl_check_key(krl, uk->key, uk->cert);
	krl_free(krl);
	if (r == ERR_PERM) {
		error("Authentication key %s %s revoked by file %s", uk->type,
		    uk->fp, cf->revoked);
		return 1;
	}
	if (r != 0) {
		error("Error checking authentication key %s %s in revoked "
		      "keys file %s: %s",
		    uk->type, uk->fp, cf->revoked, err_str(r));
		return 1;
	}
	return 0;
}

/* OpenSSH's refusal for a certificate used from outside source-address. */
static int
cert_source_ok(
    const struct pm_conn *c, const struct sshcert *cert, const char *loc)
{
	char user[PK_LOG_MAX];

	if (sshcert_check_source(cert, c->client_addr))
		return 1;
	sanitise(user, sizeof(user), c->user);
	logit("%s: Authentication tried for %.100s with valid certificate but "
	      "not from a permitted source address (%.200s).",
	    loc, user, c->client_addr);
	return 0;
}

/*
 * A cert-authority line of authorized_keys whose key signed the
 * certificate: OpenSSH's auth_check_authkey_line() for certificates. The
 * certificate's options, merged with the line's; principals= or else the
 * user name among its principals; its validity.
 */
static int
ca_line_check(void *arg, const struct authopts *line, const char *loc,
    struct authopts **optsp)
{
	const struct ca_line_ctx *x = arg;
	const struct sshcert *cert = x->uk->cert;
	struct authopts *certopts = NULL, *final = NULL;
	const char *reason = NULL;
	char id[PK_LOG_MAX];

	*optsp = NULL;
	if (authcert_opts(cert, &certopts) != 0) {
		reason = "Invalid certificate options";
		goto fail;
	}
	if (!cert_source_ok(x->c, cert, loc)) {
		reason = "Refused by certificate options";
		goto fail;
	}
	/* The merge logs why it fails. */
	if ((final = authopts_merge(line, certopts)) == NULL)
		goto out;
	if (line->principals != NULL &&
	    !sshcert_principal_in_list(cert, line->principals)) {
		reason = SSHCERT_R_NO_AUTH_PRINCIPAL;
		goto fail;
	}
	if (sshcert_check_user(cert,
	        line->principals == NULL ? x->c->user : NULL, x->now,
	        &reason) != 0)
		goto fail;
	sanitise(id, sizeof(id), cert->key_id);
	verbose("Accepted certificate ID \"%s\" (serial %" PRIu64 ") signed "
	        "by CA %s %s found at %s",
	    id, cert->serial, sshkey_type_short(cert->ca_key), x->uk->ca_fp,
	    loc);
	authopts_free(certopts);
	*optsp = final;
	return 0;
fail:
	error("%s", reason);
out:
	authopts_free(certopts);
	authopts_free(final);
	return -1;
}

/*
 * The user's authorized_keys files: the key itself on a plain line, or
 * for a certificate its CA on a cert-authority line. 1 and *optsp (the
 * options to apply) if one allows it; origin gets its "FILE:LINE".
 */
static int
authorized_keys_allow(const struct pm_conn *c, const struct pk_conf *cf,
    const struct userkey *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	struct passwd pw;
	struct authkeys_query q;
	struct ca_line_ctx x;
	const char *pattern;
	char *path;
	unsigned long line = 0;
	size_t i;
	int r;

	*optsp = NULL;
	conn_pw(c, &pw);
	x.c = c;
	x.uk = uk;
	x.now = time(NULL);
	for (i = 0; (pattern = c->setting(c, "authorizedkeysfile", i)) != NULL;
	     i++) {
		if (strcasecmp(pattern, "none") == 0)
			continue;
		if ((path = authkeys_expand_path(pattern, &pw)) == NULL)
			continue;
		memset(&q, 0, sizeof(q));
		q.pw = &pw;
		q.path = path;
		q.strict_modes = cf->strict_modes;
		q.remote_addr = c->client_addr;
		if (uk->cert != NULL) {
			q.key = uk->cert->ca_key;
			q.want_ca = 1;
			q.ca_check = ca_line_check;
			q.ca_arg = &x;
		} else if (uk->sk != NULL)
			q.sk_key = uk->sk;
		else
			q.key = uk->key;
		r = authkeys_find_opts(&q, &line, optsp);
		if (r == 0)
			snprintf(origin, originlen, "%s:%lu", path, line);
		free(path);
		/* An invalid user takes the same path and never matches. */
		if (r == 0 && c->user_valid)
			return 1;
		origin[0] = '\0';
		authopts_free(*optsp);
		*optsp = NULL;
	}
	return 0;
}

/* OpenSSH's auth_authorise_keyopts() for a principals file's options. */
static int
principal_opts_ok(
    const struct pm_conn *c, const struct authopts *o, const char *loc)
{
	char when[64], user[PK_LOG_MAX], from[PK_LOG_MAX];
	int r;

	if (!authopts_check_expiry(o, time(NULL))) {
		authopts_format_time(o->expiry, when, sizeof(when));
		debug("%s: entry expired at %s", loc, when);
		return 0;
	}
	if (o->principals != NULL && !o->cert_authority) {
		debug("%s: principals on non-CA key", loc);
		return 0;
	}
	if (o->cert_authority) {
		debug("%s: cert-authority flag invalid here", loc);
		return 0;
	}
	if (o->nfrom == 0 ||
	    (r = authopts_check_from(o, NULL, c->client_addr)) == 1)
		return 1;
	if (r == -1)
		debug("%s: invalid from criteria", loc);
	sanitise(user, sizeof(user), c->user);
	sanitise(from, sizeof(from), o->from[0]);
	logit("%s: Authentication tried for %.100s with correct key but not "
	      "from a permitted host (host=%.200s, ip=%.200s, "
	      "required=%.200s).",
	    loc, user, c->client_addr, c->client_addr, from);
	return 0;
}

/* --- AuthorizedKeysCommand, AuthorizedPrincipalsCommand ------------------ */

/* The values of the % tokens, by letter. */
struct cmd_tokens {
	const char *v[128];
};

/* One command run: its words and how it is named in log lines. */
struct cmd_run {
	const char *tag; /* "AuthorizedKeysCommand" */
	char *av[PK_CMD_MAX_ARGS + 2];
	int ac;
	char printable[PK_CMD_MAX_LEN];
};

static void
cmd_run_free(struct cmd_run *cr)
{
	int i;

	for (i = 0; i < cr->ac; i++)
		free(cr->av[i]);
	cr->ac = 0;
}

/*
 * Split a command line into words as OpenSSH's argv_split(): blanks
 * separate words, '...' and "..." quote, and a backslash escapes a blank,
 * a quote or itself. 0, or -1 after logging.
 */
static int
cmd_split(const char *s, struct cmd_run *cr)
{
	char *w;
	size_t n;
	int quote;

	if ((w = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (cr->ac >= PK_CMD_MAX_ARGS) {
			error("%s: too many arguments", cr->tag);
			goto fail;
		}
		for (n = 0, quote = 0; *s != '\0'; s++) {
			if (quote == 0 && (*s == ' ' || *s == '\t'))
				break;
			if (*s == '\\' &&
			    (s[1] == '\\' || s[1] == '\'' || s[1] == '"' ||
			        s[1] == ' ' || s[1] == '\t')) {
				w[n++] = *++s;
				continue;
			}
			if (quote == 0 && (*s == '\'' || *s == '"')) {
				quote = *s;
				continue;
			}
			if (quote != 0 && *s == quote) {
				quote = 0;
				continue;
			}
			w[n++] = *s;
		}
		if (quote != 0) {
			error("%s: unterminated quote", cr->tag);
			goto fail;
		}
		w[n] = '\0';
		if ((cr->av[cr->ac] = strdup(w)) == NULL)
			goto fail;
		cr->ac++;
	}
	free(w);
	return 0;
fail:
	free(w);
	cmd_run_free(cr);
	return -1;
}

/* s with the tokens of `allowed' expanded; malloc'd, or NULL (logged). */
static char *
cmd_expand(const char *tag, const char *s, const struct cmd_tokens *tk,
    const char *allowed)
{
	char *out;
	const char *v;
	size_t n = 0, vl;

	if ((out = malloc(PK_CMD_MAX_LEN)) == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		v = NULL;
		if (*s == '%') {
			s++;
			if (*s == '%')
				v = "%";
			else if (*s != '\0' && (unsigned char)*s < 128 &&
			    strchr(allowed, *s) != NULL)
				v = tk->v[(unsigned char)*s];
			if (v == NULL) {
				error("%s: unknown or unavailable token "
				      "%%%c",
				    tag, *s != '\0' ? *s : '?');
				free(out);
				return NULL;
			}
		}
		vl = v != NULL ? strlen(v) : 1;
		if (n + vl >= PK_CMD_MAX_LEN) {
			error("%s: expanded argument too long", tag);
			free(out);
			return NULL;
		}
		memcpy(out + n, v != NULL ? v : s, vl);
		n += vl;
	}
	out[n] = '\0';
	return out;
}

/*
 * OpenSSH's safe_path() for a command run as root's choice: the program a
 * regular file, it and every directory above it owned by root and not
 * writable by group or others. 0, or -1 with err set.
 */
static int
cmd_safe_path(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], *slash;
	struct stat st;

	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "realpath %s failed: %s", path,
		    strerror(errno));
		return -1;
	}
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", real);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		snprintf(
		    err, errlen, "bad ownership or modes for file %s", real);
		return -1;
	}
	for (;;) {
		if ((slash = strrchr(real, '/')) == NULL)
			break;
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st) == -1 || st.st_uid != 0 ||
		    (st.st_mode & 022) != 0) {
			snprintf(err, errlen,
			    "bad ownership or modes for directory %s", real);
			return -1;
		}
		if (strcmp(real, "/") == 0)
			break;
	}
	return 0;
}

/* In the child: become the user, plumb stdio, exec. Never returns. */
static void
cmd_child(const struct cmd_run *cr, const struct passwd *runas, int out)
{
	char *const envp[] = {NULL};
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	(void)setsid(); /* no controlling terminal */
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1 ||
	    dup2(fd, 2) == -1 || dup2(out, 1) == -1)
		_exit(127);
	closefrom(3);
	if (geteuid() == 0) {
		if (initgroups(runas->pw_name, runas->pw_gid) == -1 ||
		    setresgid(runas->pw_gid, runas->pw_gid, runas->pw_gid) ==
		        -1 ||
		    setresuid(runas->pw_uid, runas->pw_uid, runas->pw_uid) ==
		        -1)
			_exit(127);
	} else if (runas->pw_uid != getuid())
		_exit(127);
	execve(cr->av[0], cr->av, envp);
	_exit(127);
}

/*
 * Read the child's output until EOF, the size bound or the deadline. 0,
 * or -1 (logged) when a bound was hit.
 */
static int
cmd_read(const struct cmd_run *cr, int fd, char **outp, size_t *lenp)
{
	struct timespec start, now;
	struct pollfd pfd;
	char *out;
	size_t len = 0;
	ssize_t n;
	long left;

	if ((out = malloc(PK_CMD_MAX_OUTPUT + 1)) == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = PK_CMD_TIMEOUT_MS -
		    ((now.tv_sec - start.tv_sec) * 1000 +
		        (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			error("%s %s timed out after %d seconds; killed",
			    cr->tag, cr->printable, PK_CMD_TIMEOUT_MS / 1000);
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			error("%s: poll: %s", cr->tag, strerror(errno));
			goto fail;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, out + len, PK_CMD_MAX_OUTPUT + 1 - len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1) {
			error("%s: read: %s", cr->tag, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > PK_CMD_MAX_OUTPUT) {
			error("%s %s printed more than %d bytes; killed",
			    cr->tag, cr->printable, PK_CMD_MAX_OUTPUT);
			goto fail;
		}
	}
	out[len] = '\0';
	*outp = out;
	*lenp = len;
	return 0;
fail:
	free(out);
	return -1;
}

/*
 * Run the command line `cmdline' as user `runas' (OpenSSH's subprocess()
 * and exited_cleanly()): tokens expanded in its arguments, the user name
 * as the only argument when it has none. 0 with its output (malloc'd,
 * NUL-terminated) when it ran and exited 0; -1 otherwise, logged.
 */
static int
cmd_run(struct cmd_run *cr, const char *cmdline, const char *runas_name,
    const struct cmd_tokens *tk, const char *allowed, const char *user,
    char **outp, size_t *lenp)
{
	struct passwd *pw, runas;
	char err[PATH_MAX + 64], *x, *runas_copy = NULL;
	size_t n;
	pid_t pid;
	int i, p[2], status, ok;

	*outp = NULL;
	*lenp = 0;
	if (runas_name == NULL) {
		error("No user for %s specified, skipping", cr->tag);
		return -1;
	}
	if (cmd_split(cmdline, cr) != 0)
		return -1;
	if (cr->ac == 0) {
		error("%s: no command", cr->tag);
		return -1;
	}
	for (i = 1; i < cr->ac; i++) {
		if ((x = cmd_expand(cr->tag, cr->av[i], tk, allowed)) == NULL)
			goto fail;
		free(cr->av[i]);
		cr->av[i] = x;
	}
	if (cr->ac == 1 && (cr->av[cr->ac++] = strdup(user)) == NULL)
		goto fail;
	cr->av[cr->ac] = NULL;
	cr->printable[0] = '\0';
	for (i = 0, n = 0; i < cr->ac && n < sizeof(cr->printable); i++)
		n += (size_t)snprintf(cr->printable + n,
		    sizeof(cr->printable) - n, "%s%s", i > 0 ? " " : "",
		    cr->av[i]);
	sanitise(err, sizeof(err), cr->printable);
	snprintf(cr->printable, sizeof(cr->printable), "%s", err);
	errno = 0;
	if ((pw = getpwnam(runas_name)) == NULL) {
		sanitise(err, sizeof(err), runas_name);
		error("%sUser \"%s\" not found: %s", cr->tag, err,
		    errno != 0 ? strerror(errno) : "no such user");
		goto fail;
	}
	if ((runas_copy = strdup(pw->pw_name)) == NULL)
		goto fail;
	memset(&runas, 0, sizeof(runas));
	runas.pw_name = runas_copy;
	runas.pw_uid = pw->pw_uid;
	runas.pw_gid = pw->pw_gid;
	if (cr->av[0][0] != '/') {
		error("%s path is not absolute", cr->tag);
		goto fail;
	}
	if (cmd_safe_path(cr->av[0], err, sizeof(err)) != 0) {
		error("Unsafe %s \"%s\": %s", cr->tag, cr->av[0], err);
		goto fail;
	}
	debug("Running %s: \"%s\" as \"%s\"", cr->tag, cr->printable,
	    runas.pw_name);
	if (pipe2(p, O_CLOEXEC) == -1) {
		error("%s: pipe: %s", cr->tag, strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		error("%s: fork: %s", cr->tag, strerror(errno));
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	if (pid == 0) {
		close(p[0]);
		cmd_child(cr, &runas, p[1]);
	}
	close(p[1]);
	ok = cmd_read(cr, p[0], outp, lenp) == 0;
	close(p[0]);
	if (!ok)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (ok && WIFSIGNALED(status)) {
		error("%s %s exited on signal %d", cr->tag, cr->printable,
		    WTERMSIG(status));
		ok = 0;
	} else if (ok && WEXITSTATUS(status) != 0) {
		logit("%s %s failed, status %d", cr->tag, cr->printable,
		    WEXITSTATUS(status));
		ok = 0;
	}
	free(runas_copy);
	if (ok)
		return 0;
	free(*outp);
	*outp = NULL;
	*lenp = 0;
	return -1;
fail:
	free(runas_copy);
	return -1;
}

/* Base64 of a key's blob into a malloc'd string, or NULL. */
static char *
key_base64(const uint8_t *blob, size_t len)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	char *s;

	if ((s = malloc(n)) == NULL)
		return NULL;
	if (base64_encode(blob, len, s, n) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The tokens every command takes: %C %D %h %U %u, and the key's. */
static void
cmd_tokens_fill(const struct pm_conn *c, const struct userkey *uk,
    const char *key_b64, char *uid, size_t uidlen, struct cmd_tokens *tk)
{
	memset(tk, 0, sizeof(*tk));
	snprintf(uid, uidlen, "%lu", c->uid);
	tk->v['C'] = c->setting(c, "connection", 0);
	tk->v['D'] = "";
	tk->v['h'] = c->home;
	tk->v['U'] = uid;
	tk->v['u'] = c->user;
	tk->v['f'] = uk->fp;
	tk->v['k'] = key_b64;
	if (uk->cert != NULL)
		tk->v['t'] = uk->cert->type_name;
	else if (uk->sk != NULL)
		tk->v['t'] = sshkey_sk_type_name(uk->sk);
	else
		tk->v['t'] = sshkey_type_name(uk->key);
}

/* A command setting, or NULL when unset or "none". */
static const char *
setting_command(const struct pm_conn *c, const char *kw)
{
	return setting_file(c, kw);
}

/*
 * AuthorizedPrincipalsCommand for a certificate through TrustedUserCAKeys:
 * 0 and *optsp when its output names one of the certificate's principals.
 */
static int
principals_command_find(const struct pm_conn *c, const struct userkey *uk,
    const char *cmdline, char *origin, size_t originlen,
    struct authopts **optsp)
{
	struct cmd_run cr;
	struct cmd_tokens tk;
	struct buf *b = NULL;
	const struct sshcert *cert = uk->cert;
	char uid[32], serial[32], *k64 = NULL, *ca64 = NULL, *out = NULL;
	char id[PK_LOG_MAX];
	unsigned long line = 0;
	size_t len;
	FILE *f;
	int r = ERR_NOT_FOUND;

	*optsp = NULL;
	memset(&cr, 0, sizeof(cr));
	cr.tag = "AuthorizedPrincipalsCommand";
	if ((b = buf_new(PK_MAX_MESSAGE)) == NULL ||
	    sshkey_to_blob(cert->ca_key, b) != 0 ||
	    (ca64 = key_base64(buf_ptr(b), buf_len(b))) == NULL ||
	    (k64 = key_base64(uk->blob, uk->bloblen)) == NULL)
		goto out;
	cmd_tokens_fill(c, uk, k64, uid, sizeof(uid), &tk);
	snprintf(serial, sizeof(serial), "%" PRIu64, cert->serial);
	sanitise(id, sizeof(id), cert->key_id);
	tk.v['F'] = uk->ca_fp;
	tk.v['i'] = id;
	tk.v['K'] = ca64;
	tk.v['s'] = serial;
	tk.v['T'] = sshkey_type_name(cert->ca_key);
	if (cmd_run(&cr, cmdline,
	        c->setting(c, "authorizedprincipalscommanduser", 0), &tk,
	        PK_PRINCIPALS_CMD_TOKENS, c->user, &out, &len) != 0)
		goto out;
	if (len == 0 || (f = fmemopen(out, len, "r")) == NULL)
		goto out;
	r = authkeys_find_principal_stream(f, "(command)", cert, &line, optsp);
	fclose(f);
	if (r == 0)
		snprintf(origin, originlen, "%.400s:%lu", cr.printable, line);
out:
	cmd_run_free(&cr);
	buf_free(b);
	free(k64);
	free(ca64);
	free(out);
	return r;
}

/*
 * OpenSSH's user_cert_trusted_ca(): a certificate whose CA is listed in
 * TrustedUserCAKeys, for a principal the AuthorizedPrincipalsFile names
 * (or, without one, the user name). 1 and *optsp if it allows the login;
 * origin gets the principals file's "FILE:LINE", or the CA file.
 */
static int
trusted_ca_allow(const struct pm_conn *c, const struct pk_conf *cf,
    const struct userkey *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	unsigned long line = 0;
	const struct sshcert *cert = uk->cert;
	struct authopts *popts = NULL, *certopts = NULL, *final = NULL;
	struct passwd pw;
	const char *reason = NULL;
	const char *pcmd;
	char *pfile = NULL, id[PK_LOG_MAX], cmd_origin[512];
	int r, ok = 0, found = 0;

	*optsp = NULL;
	if (cf->trusted_ca == NULL)
		return 0;
	if ((r = authcert_ca_listed(cf->trusted_ca, cert->ca_key)) != 0) {
		debug2("CA %s %s is not listed in %s: %s",
		    sshkey_type_short(cert->ca_key), uk->ca_fp, cf->trusted_ca,
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
		return 0;
	}
	conn_pw(c, &pw);
	pcmd = setting_command(c, "authorizedprincipalscommand");
	if (cf->principals != NULL) {
		if ((pfile = authkeys_expand_path(cf->principals, &pw)) == NULL)
			goto out;
		if (authkeys_find_principal(
		        &pw, pfile, cf->strict_modes, cert, &line, &popts) == 0)
			found = 1;
	}
	/* As sshd: the command is asked when the file names none. */
	if (!found && pcmd != NULL && c->user_valid &&
	    principals_command_find(
	        c, uk, pcmd, cmd_origin, sizeof(cmd_origin), &popts) == 0)
		found = 2;
	if (!found && (cf->principals != NULL || pcmd != NULL)) {
		reason = SSHCERT_R_NO_AUTH_PRINCIPAL;
		goto fail;
	}
	if (sshcert_check_user(cert,
	        cf->principals != NULL || pcmd != NULL ? NULL : c->user,
	        time(NULL), &reason) != 0)
		goto fail;
	if (authcert_opts(cert, &certopts) != 0) {
		reason = "Invalid certificate options";
		goto fail;
	}
	if (!cert_source_ok(c, cert, "cert")) {
		reason = "Refused by certificate options";
		goto fail;
	}
	if (popts != NULL) {
		if (!principal_opts_ok(c, popts, "principals")) {
			reason = "Refused by certificate principals options";
			goto fail;
		}
		/* The merge logs why it fails. */
		if ((final = authopts_merge(popts, certopts)) == NULL)
			goto out;
	} else {
		final = certopts;
		certopts = NULL;
	}
	sanitise(id, sizeof(id), cert->key_id);
	verbose("Accepted certificate ID \"%s\" (serial %" PRIu64 ") signed "
	        "by %s CA %s via %s",
	    id, cert->serial, sshkey_type_short(cert->ca_key), uk->ca_fp,
	    cf->trusted_ca);
	*optsp = final;
	final = NULL;
	ok = c->user_valid;
	if (ok && found == 2)
		snprintf(origin, originlen, "%.500s", cmd_origin);
	else if (ok && found == 1)
		snprintf(origin, originlen, "%s:%lu", pfile, line);
	else if (ok)
		snprintf(origin, originlen, "%s", cf->trusted_ca);
	goto out;
fail:
	error("%s", reason);
out:
	authopts_free(popts);
	authopts_free(certopts);
	authopts_free(final);
	free(pfile);
	if (!ok) {
		authopts_free(*optsp);
		*optsp = NULL;
	}
	return ok;
}

/*
 * OpenSSH's user_key_command_allowed2(): AuthorizedKeysCommand's output
 * read as an authorized_keys file. 1 and *optsp if a line allows the key.
 */
static int
keys_command_allow(const struct pm_conn *c, const struct userkey *uk,
    struct authopts **optsp, char *origin, size_t originlen)
{
	struct authkeys_query q;
	struct passwd pw;
	struct ca_line_ctx x;
	struct cmd_run cr;
	struct cmd_tokens tk;
	const char *cmdline;
	char uid[32], *k64 = NULL, *out = NULL;
	unsigned long line = 0;
	size_t len;
	FILE *f;
	int ok = 0;

	*optsp = NULL;
	if ((cmdline = setting_command(c, "authorizedkeyscommand")) == NULL ||
	    !c->user_valid)
		return 0;
	memset(&cr, 0, sizeof(cr));
	cr.tag = "AuthorizedKeysCommand";
	if ((k64 = key_base64(uk->blob, uk->bloblen)) == NULL)
		return 0;
	cmd_tokens_fill(c, uk, k64, uid, sizeof(uid), &tk);
	if (cmd_run(&cr, cmdline, c->setting(c, "authorizedkeyscommanduser", 0),
	        &tk, PK_KEYS_CMD_TOKENS, c->user, &out, &len) != 0 ||
	    len == 0 || (f = fmemopen(out, len, "r")) == NULL)
		goto out;
	conn_pw(c, &pw);
	x.c = c;
	x.uk = uk;
	x.now = time(NULL);
	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.path = cmdline;
	q.remote_addr = c->client_addr;
	if (uk->cert != NULL) {
		q.key = uk->cert->ca_key;
		q.want_ca = 1;
		q.ca_check = ca_line_check;
		q.ca_arg = &x;
	} else if (uk->sk != NULL)
		q.sk_key = uk->sk;
	else
		q.key = uk->key;
	if (authkeys_find_stream(&q, f, cmdline, &line, optsp) == 0) {
		snprintf(origin, originlen, "%s:%lu", cmdline, line);
		ok = 1;
	}
	fclose(f);
out:
	cmd_run_free(&cr);
	free(k64);
	free(out);
	return ok;
}

/* OpenSSH's user_key_allowed(): RevokedKeys, then each source in order. */
static int
key_allowed(const struct pm_conn *c, const struct pk_conf *cf,
    const struct userkey *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	*optsp = NULL;
	if (revoked(cf, uk))
		return 0;
	if (authorized_keys_allow(c, cf, uk, optsp, origin, originlen))
		return 1;
	if (uk->cert != NULL &&
	    trusted_ca_allow(c, cf, uk, optsp, origin, originlen))
		return 1;
	if (keys_command_allow(c, uk, optsp, origin, originlen))
		return 1;
	return 0;
}

/*
 * The data a publickey signature covers (RFC 4252 s7); the host-bound
 * form (OpenSSH PROTOCOL s2.5) names its method and adds the host key.
 */
static int
signed_data(struct buf *d, const struct pm_conn *c, const char *alg,
    const uint8_t *blob, size_t bloblen, const uint8_t *hostkey,
    size_t hostkeylen)
{
	int r;

	if ((r = buf_put_string(d, c->session_id, c->session_id_len)) != 0 ||
	    (r = buf_put_u8(d, SSH2_MSG_USERAUTH_REQUEST)) != 0 ||
	    (r = buf_put_cstring(d, c->user)) != 0 ||
	    (r = buf_put_cstring(d, c->service)) != 0 ||
	    (r = buf_put_cstring(
	         d, hostkey != NULL ? HOSTBOUND_METHOD : "publickey")) != 0 ||
	    (r = buf_put_bool(d, 1)) != 0 ||
	    (r = buf_put_cstring(d, alg)) != 0 ||
	    (r = buf_put_string(d, blob, bloblen)) != 0 ||
	    (hostkey != NULL &&
	        (r = buf_put_string(d, hostkey, hostkeylen)) != 0))
		return r;
	return 0;
}

/*
 * A security key's signature: its flags against PubkeyAuthOptions and the
 * key options, as OpenSSH's userauth_pubkey() checks them, one refusal
 * logged. 1 if they are met.
 */
static int
sk_flags_ok(const struct pm_conn *c, const struct pk_conf *cf,
    const struct userkey *uk, const struct authopts *opts, uint8_t flags)
{
	const char *reason = NULL;
	char user[PK_LOG_MAX];
	int touch, verify;

	touch = cf->touch_required || opts == NULL ||
	    !opts->no_require_user_presence;
	verify = cf->verify_required || (opts != NULL && opts->require_verify);
	if (sshkey_sk_check_flags(flags, touch, 0, &reason) == 0 &&
	    sshkey_sk_check_flags(flags, 0, verify, &reason) == 0)
		return 1;
	sanitise(user, sizeof(user), c->user);
	error(SSHKEY_SK_REJECT_FMT " [preauth]", uk->type, uk->fp,
	    c->user_valid ? "" : "invalid user ", user, c->client_addr,
	    c->client_port, reason);
	return 0;
}

/* Verify the signature; 1 if it is good (and, for sk keys, its flags). */
static int
signature_ok(const struct pm_conn *c, const struct pk_conf *cf,
    const struct userkey *uk, const struct authopts *opts, const char *alg,
    const uint8_t *sig, size_t siglen, const struct buf *data,
    struct pm_result *res)
{
	size_t n;
	uint32_t counter;
	uint8_t flags;

	if (uk->sk != NULL) {
		if (sshkey_sk_verify(uk->sk, sig, siglen, buf_ptr(data),
		        buf_len(data), &flags, &counter) != 0)
			return 0;
		debug("userauth_pubkey: sk_counter = %" PRIu32
		      ", sk_flags = 0x%02x",
		    counter, flags);
		/* OpenSSH's log lines carry the counter from here on. */
		n = strlen(res->detail);
		snprintf(res->detail + n, sizeof(res->detail) - n,
		    ", signature count = %" PRIu32, counter);
		return sk_flags_ok(c, cf, uk, opts, flags);
	}
	if (uk->cert != NULL)
		alg = sshcert_sig_alg_for(alg);
	return sshkey_verify(uk->plain, sig, siglen, buf_ptr(data),
	           buf_len(data), alg, cf->min_rsa_bits) == 0;
}

/* Hand a buffer's bytes to the monitor as a malloc'd copy. */
static int
give(const struct buf *b, uint8_t **out, size_t *lenp)
{
	if ((*out = malloc(buf_len(b) > 0 ? buf_len(b) : 1)) == NULL)
		return ERR_ALLOC;
	memcpy(*out, buf_ptr(b), buf_len(b));
	*lenp = buf_len(b);
	return 0;
}

/*
 * The checks OpenSSH's userauth_pubkey() makes before it looks the key
 * up (in its preauth process, hence the suffix). 1 if the key may be
 * tried.
 */
static int
precheck(const struct pk_conf *cf, const struct userkey *uk, const char *alg)
{
	char safe[PK_LOG_MAX];

	if (!userkey_alg_ok(uk, alg)) {
		sanitise(safe, sizeof(safe), alg);
		error("userauth_pubkey: type mismatch for decoded key "
		      "(received %s, expected %s) [preauth]",
		    uk->type, safe);
		return 0;
	}
	if (match_pattern_list(alg, cf->accepted, 0) != 1 ||
	    !implemented(alg)) {
		sanitise(safe, sizeof(safe), alg);
		logit("userauth_pubkey: signature algorithm %s not in "
		      "PubkeyAcceptedAlgorithms [preauth]",
		    safe);
		return 0;
	}
	if (uk->cert != NULL &&
	    sshcert_check_ca_sig_alg(uk->cert, cf->ca_algs) != 0) {
		sanitise(safe, sizeof(safe), uk->cert->ca_sig_alg);
		logit("userauth_pubkey: certificate signature algorithm %s: "
		      "signature algorithm not supported [preauth]",
		    safe);
		return 0;
	}
	if (uk->plain != NULL && sshkey_type(uk->plain) == KEY_RSA &&
	    sshkey_bits(uk->plain) < cf->min_rsa_bits) {
		logit(
		    "refusing %s key: Invalid key length [preauth]", uk->type);
		return 0;
	}
	return 1;
}

static int
pk_start(const struct pm_conn *conn, void **state)
{
	*state = NULL;
	return 0;
}

static int
pk_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	const uint8_t *blob, *sig = NULL, *hostkey = NULL;
	size_t bloblen, siglen = 0, hostkeylen = 0;
	struct buf *m = NULL, *out = NULL;
	struct userkey uk;
	/* The monitor checked the host key of a host-bound request. */
	int hostbound =
	    c->method != NULL && strcmp(c->method, HOSTBOUND_METHOD) == 0;
	struct pk_conf cf;
	struct authopts *opts = NULL;
	char *alg = NULL, safe[PK_LOG_MAX];
	int has_sig, ok, r;

	memset(&uk, 0, sizeof(uk));
	res->verdict = PM_FAILURE;
	if ((m = buf_from(data, len)) == NULL ||
	    (out = buf_new(PK_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_bool(m, &has_sig)) != 0 ||
	    (r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &blob, &bloblen)) != 0 ||
	    (hostbound &&
	        (r = buf_get_string_direct(m, &hostkey, &hostkeylen)) != 0) ||
	    (has_sig && (r = buf_get_string_direct(m, &sig, &siglen)) != 0) ||
	    (r = buf_end(m)) != 0) {
		error("userauth_pubkey: malformed request: %s", err_str(r));
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = userkey_parse(alg, blob, bloblen, &uk)) != 0) {
		sanitise(safe, sizeof(safe), alg);
		error("userauth_pubkey: cannot decode key: %s: %s [preauth]",
		    safe, err_str(r));
		r = 0;
		goto out;
	}
	read_conf(c, &cf);
	if (uk.cert != NULL)
		authcert_describe(uk.cert, res->detail, sizeof(res->detail));
	else
		snprintf(
		    res->detail, sizeof(res->detail), "%s %s", uk.type, uk.fp);
	/* The key, not the certificate: "publickey,publickey" needs two. */
	snprintf(res->credential, sizeof(res->credential), "%s", uk.fp);
	if (!precheck(&cf, &uk, alg)) {
		r = 0;
		goto out;
	}
	ok = key_allowed(c, &cf, &uk, &opts, res->origin, sizeof(res->origin));
	if (!has_sig) {
		/* A query: say whether this key would do (USERAUTH_PK_OK). */
		if (ok) {
			if ((r = buf_put_cstring(out, alg)) != 0 ||
			    (r = buf_put_string(out, blob, bloblen)) != 0 ||
			    (r = give(out, &res->msg, &res->msg_len)) != 0)
				goto out;
			res->msg_type = SSH2_MSG_USERAUTH_PK_OK;
			res->verdict = PM_CONTINUE;
		}
		r = 0;
		goto out;
	}
	/* blob and sig point into m: build the signed data in out. */
	if ((r = signed_data(
	         out, c, alg, blob, bloblen, hostkey, hostkeylen)) != 0)
		goto out;
	if (ok && signature_ok(c, &cf, &uk, opts, alg, sig, siglen, out, res)) {
		buf_reset(out);
		if ((r = authopts_serialize(opts, out)) != 0 ||
		    (r = give(out, &res->opts, &res->opts_len)) != 0)
			goto out;
		res->verdict = PM_SUCCESS;
	}
	r = 0;
out:
	authopts_free(opts);
	userkey_free(&uk);
	free(alg);
	buf_free(m);
	buf_free(out);
	return r;
}

static void
pk_finish(void *state)
{
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "publickey",
    .submethod = NULL,
    .start = pk_start,
    .request = pk_request,
    .response = NULL,
    .finish = pk_finish,
};
