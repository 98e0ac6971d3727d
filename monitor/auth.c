/*
 * auth.c: userauth decisions, made only in the monitor (RFC 4252). The
 * preauth process relays requests; everything here re-parses them and
 * treats them as hostile. Invalid users take the same path as valid ones.
 */
#include <sys/types.h>

#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "authcmd.h"
#include "login.h"
#include "authkeys.h"
#include "buf.h"
#include "err.h"
#include "fwdpolicy.h"
#include "ipc.h"
#include "log.h"
#include "match.h"
#include "monitor.h"
#include "monitor/grace.h"
#include "monitor/pam.h"
#include "monitor/startup.h"
#include "policy/access.h"
#include "authopts.h"
#include "proctitle.h"
#include "pkauth.h"
#include "sshcert.h"
#include "sshkey.h"
#include "transport.h"

#define HOSTBOUND_METHOD "publickey-hostbound-v00@openssh.com"

/* Method names in the order OpenSSH offers them; modules provide them. */
static const char *const all_methods[] = {
    "publickey", "password", "keyboard-interactive"};

void
auth_init(struct authctxt *a, struct server_config *c,
    const struct config_source *src, const struct conn_info *ci,
    const struct module_set *mods)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->src = src;
	a->ci = ci;
	a->mods = mods;
}

static void
pw_free(struct passwd *pw)
{
	free(pw->pw_name);
	free(pw->pw_dir);
	free(pw->pw_shell);
	free(pw->pw_passwd);
	free(pw->pw_gecos);
	memset(pw, 0, sizeof(*pw));
}

/* As sshd: an invalid user is a failed login (btmp) when first named. */
static void
btmp_flush(struct authctxt *a)
{
	if (a->btmp_pending) {
		a->btmp_pending = 0;
		login_failed_record(a->user, a->ci);
	}
}

void
auth_reply_sent(struct authctxt *a)
{
	btmp_flush(a);
}

void
auth_free(struct authctxt *a)
{
	size_t i;

	btmp_flush(a); /* a connection that ended before its reply */
	for (i = 0; a->mods != NULL && i < a->mods->n; i++)
		if (a->started[i] && a->mods->mods[i]->finish != NULL)
			a->mods->mods[i]->finish(a->states[i]);
	free(a->user);
	free(a->wire_user);
	free(a->fail_text);
	free(a->service);
	free(a->approved_blob);
	free(a->auth_info);
	pw_free(&a->pw);
	pamctx_end(a->pam);
	authchain_free(&a->chain);
	authopts_free(a->opts);
	memset(a, 0, sizeof(*a));
}

const char *
auth_invalid_prefix(const struct authctxt *a)
{
	return a->valid ? "" : "invalid user ";
}

/*
 * OpenSSH's allowed_user() checks before the access lists. With UsePAM no
 * (only then: with UsePAM yes PAM's account phase judges expiry, and a
 * locked password does not stop a key), an expired account, or a password
 * hash (the shadow entry's, else the passwd entry's) with Linux's lock
 * prefix "!", is refused; an expired one is
 * logged as expired and then as locked, as sshd does. A login shell that
 * cannot run is refused unless ChrootDirectory is set.
 */
static int
account_allowed(const struct server_config *c, const struct passwd *pw)
{
	struct spwd *sp = NULL;
	struct stat st;
	const char *shell, *hash;
	long today;
	int expired = 0;

	if (!c->use_pam) {
		/* Without a shadow entry, the passwd entry's hash (sshd's). */
		hash = pw->pw_passwd;
		if ((sp = getspnam(pw->pw_name)) != NULL) {
			today = (long)(time(NULL) / 86400);
			/* Expired once the day it names has passed. */
			expired = sp->sp_expire != -1 && sp->sp_expire < today;
			if (expired)
				logit(
				    "Account %.100s has expired", pw->pw_name);
			hash = sp->sp_pwdp;
		}
		if (expired || (hash != NULL && hash[0] == '!')) {
			logit("User %.100s not allowed because account is "
			      "locked",
			    pw->pw_name);
			return 0;
		}
	}
	if (c->chroot_directory != NULL)
		return 1;
	shell = pw->pw_shell[0] != '\0' ? pw->pw_shell : "/bin/sh";
	if (stat(shell, &st) != 0) {
		logit("User %.100s not allowed because shell %.100s does not "
		      "exist",
		    pw->pw_name, shell);
		return 0;
	}
	if (!S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IXOTH | S_IXUSR | S_IXGRP)) == 0) {
		logit("User %.100s not allowed because shell %.100s is not "
		      "executable",
		    pw->pw_name, shell);
		return 0;
	}
	return 1;
}

/*
 * OpenSSH's auth_shadow_pwexpired() (UsePAM no, password method): 1 if
 * the shadow password must be changed before the login goes on.
 */
static int
shadow_password_expired(const char *user)
{
	struct spwd *sp;
	long today = (long)(time(NULL) / 86400);

	if ((sp = getspnam(user)) == NULL) {
		error("Could not get shadow information for %.100s", user);
		return 0;
	}
	if (sp->sp_lstchg == 0) {
		logit("User %.100s password has expired (root forced)", user);
		return 1;
	}
	if (sp->sp_max >= 0 && sp->sp_lstchg > 0 &&
	    today > sp->sp_lstchg + sp->sp_max) {
		logit("User %.100s password has expired (password aged)", user);
		return 1;
	}
	return 0;
}

/*
 * As sshd with UsePAM no: the expiry is looked at once a connection, at
 * the first password checked, right or wrong (none_empty_password's
 * empty one too). An invalid user's is its fake account's, NOUSER,
 * which has no shadow entry: sshd logs that.
 */
static void
password_expiry_once(struct authctxt *a)
{
	if (a->c->use_pam || a->pwexp_checked)
		return;
	a->pwexp_checked = 1;
	/* As sshd's auth_password(), the change is due from this check on,
	 * whether this password is right or not and whichever method then
	 * completes the login (a wrong password, then a key). */
	if (shadow_password_expired(a->pw.pw_name) && a->valid)
		a->force_pwchange = 1;
}

/*
 * A password request (its method fields), as sshd's monitor sees its
 * auth_password calls: each is counted, and the first, when empty, is
 * logged as "none", since sshd's monitor cannot tell it from
 * userauth_none's; the expiry is looked at unless the password is
 * refused before any check (over PM_PASSWORD_MAX bytes, or empty and not
 * permitted). 1 for a change request, which sshd's preauth child refuses
 * itself: its monitor neither logs nor records it.
 */
static int
password_request_seen(struct authctxt *a, const struct buf *req)
{
	struct buf tmp = *req;
	const uint8_t *pw;
	size_t len;
	int change, nul;

	if (buf_get_bool(&tmp, &change) != 0)
		return 0;
	if (change)
		return 1;
	if (buf_get_string_direct(&tmp, &pw, &len) != 0)
		return 0;
	nul = buf_cstring_trim(pw, &len);
	a->password_logs_none = ++a->password_checks == 1 && len == 0;
	if (buf_end(&tmp) == 0 && nul == 0 && len <= PM_PASSWORD_MAX &&
	    (len > 0 || a->c->permit_empty_passwords == 1))
		password_expiry_once(a);
	return 0;
}

/*
 * 1 if this password verdict goes by sshd's monitor's word "none" (an
 * empty first password, password_request_seen): a failure always; a
 * success only without AuthenticationMethods, under which it ends sshd
 * 9.2 ("method not in AuthenticationMethods") and stays "password" here.
 */
static int
named_none(const struct authctxt *a, const char *method, int success)
{
	return a->password_logs_none && strcmp(method, "password") == 0 &&
	    (!success || a->chain.any);
}

/*
 * The word sshd's monitor logs a verdict of this method by: its
 * auth_password() names an empty password "none" only when it is the
 * connection's first check (named_none), so userauth_none()'s check is
 * "password" after an earlier password request.
 */
static const char *
logged_method(const struct authctxt *a, const char *method, int success)
{
	if (named_none(a, method, success))
		return "none";
	if (a->none_logs_password && strcmp(method, "none") == 0)
		return "password";
	return method;
}

/*
 * Look the user up once, apply the Match blocks that now match, then
 * OpenSSH's allowed_user() checks. Invalid and refused users get a fake
 * entry and take the same path as valid ones.
 */
static int
lookup_user(struct authctxt *a)
{
	const struct conn_info *ci = a->ci;
	struct match_conn mc;
	struct passwd *pw;
	int refused = 0, r;

	pw = getpwnam(a->user);
	/* Not running as root: we can serve only ourselves. */
	if (pw != NULL && getuid() != 0 && pw->pw_uid != getuid())
		pw = NULL;
	memset(&mc, 0, sizeof(mc));
	mc.user = a->user;
	mc.host = ci->client_host; /* UseDNS: the name, else the address */
	mc.addr = ci->client_addr;
	mc.laddr = ci->server_addr;
	mc.lport = ci->server_port;
	mc.rdomain = ci->has_rdomain ? ci->rdomain : NULL;
	mc.invalid_user = pw == NULL;
	if ((r = config_apply_match(a->c, a->src, &mc)) != 0) {
		/* ERR_CONFIG: the config engine logged the line and value. */
		if (r == ERR_CONFIG) {
			a->match_failed = 1;
			return r;
		}
		error("Match configuration for %s could not be applied: %s",
		    ci->client_addr, err_str(r));
		return r;
	}
	/* LogLevel may differ per user or address. */
	log_set_level((enum log_level)a->c->log_level);
	/* getpwnam's buffer may have been reused (Match Group lookups). */
	if (pw != NULL && (pw = getpwnam(a->user)) == NULL)
		return ERR_NOT_FOUND;
	/* A refused account goes on as an invalid one, without that line. */
	if (pw != NULL &&
	    (!account_allowed(a->c, pw) ||
	        !access_user_allowed(a->c, pw->pw_name, pw->pw_gid,
	            ci->client_host, ci->client_addr))) {
		refused = 1;
		pw = NULL;
	}
	/*
	 * UsePAM: a PAM handle for every user, valid or not, under the name
	 * the client sent, as OpenSSH's start_pam(): its cost does not tell
	 * them apart. Only a valid user's is ever used.
	 */
	if (ci->ip)
		snprintf(a->ssh_connection, sizeof(a->ssh_connection),
		    "%s %d %s %d", ci->client_addr, ci->client_port,
		    ci->server_addr, ci->server_port);
	if (a->c->use_pam &&
	    pamctx_start(&a->pam, a->c->pam_service_name, a->user,
	        ci->client_host, ci->ip ? a->ssh_connection : NULL) != 0 &&
	    pw != NULL) {
		refused = 1;
		pw = NULL;
	}
	if ((r = authchain_init(
	         &a->chain, a->c->auth_methods, a->c->nauth_methods)) != 0) {
		error("bad AuthenticationMethods");
		return r;
	}
	if (pw != NULL) {
		a->valid = 1;
		a->pw.pw_name = strdup(pw->pw_name);
		a->pw.pw_dir = strdup(pw->pw_dir);
		a->pw.pw_shell = strdup(pw->pw_shell);
		a->pw.pw_uid = pw->pw_uid;
		a->pw.pw_gid = pw->pw_gid;
	} else {
		if (!refused) {
			logit("Invalid user %.100s from %s port %d", a->user,
			    ci->client_addr, ci->client_port);
			a->btmp_pending = 1;
		}
		a->valid = 0;
		/*
		 * As sshd's audit trail: a failed login when its monitor's
		 * lookup finds no such user, and another when its preauth
		 * child cannot serve the user (refused accounts too).
		 */
		if (!refused)
			audit_login_failed(a);
		audit_login_failed(a);
		/* OpenSSH's fake account: never the client's name in a path
		 * (%u); log lines use a->user. */
		a->pw.pw_name = strdup("NOUSER");
		a->pw.pw_dir = strdup("/nonexist");
		a->pw.pw_shell = strdup("/bin/false");
		/* As OpenSSH's fake user: the privsep account's ids. */
		if ((pw = getpwnam(POSTERN_PRIVSEP_USER)) != NULL) {
			a->pw.pw_uid = pw->pw_uid;
			a->pw.pw_gid = pw->pw_gid;
		} else {
			a->pw.pw_uid = 65534;
			a->pw.pw_gid = 65534;
		}
	}
	a->pw.pw_passwd = strdup("*");
	a->pw.pw_gecos = strdup("");
	if (a->pw.pw_name == NULL || a->pw.pw_dir == NULL ||
	    a->pw.pw_shell == NULL || a->pw.pw_passwd == NULL ||
	    a->pw.pw_gecos == NULL)
		return ERR_ALLOC;
	return 0;
}

/*
 * The policy modules' word on a step that succeeded (rootpolicy.so holds
 * PermitRootLogin). Without any policy module root is refused: a missing
 * rootpolicy.so must not open root logins.
 */
static int
policy_allowed(struct authctxt *a, const char *method, const char *submethod,
    const struct authopts *opts)
{
	struct pm_step step;
	struct buf *b = NULL;
	size_t i;
	int ok = 0;

	if (a->mods->npolicies == 0) {
		if (a->pw.pw_uid != 0)
			return 1;
		error("no policy module loaded to apply PermitRootLogin");
		goto refuse_root;
	}
	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL ||
	    authopts_serialize(opts, b) != 0)
		goto out;
	memset(&step, 0, sizeof(step));
	step.method = method;
	step.submethod = submethod;
	step.opts = buf_ptr(b);
	step.opts_len = buf_len(b);
	step.forced_command = opts->force_command;
	for (i = 0; i < a->mods->npolicies; i++)
		if (a->mods->policies[i]->check_method(&a->conn, &step) !=
		    PM_SUCCESS)
			goto out;
	ok = 1;
out:
	buf_free(b);
	return ok;
refuse_root:
	logit("ROOT LOGIN REFUSED FROM %.200s port %d", a->ci->client_addr,
	    a->ci->client_port);
	return 0;
}

/* 1 if method is switched on by the configuration. */
static int
method_enabled(const struct authctxt *a, const char *method)
{
	if (strcmp(method, "publickey") == 0)
		return a->c->pubkey_authentication;
	/* PAM_MAXTRIES turns both off for the connection, as sshd's
	 * sshpam_set_maxtries_reached(). */
	if (strcmp(method, "keyboard-interactive") == 0)
		return a->c->kbd_interactive_authentication && !a->pam_maxtries;
	if (strcmp(method, "password") == 0)
		return a->c->password_authentication && !a->pam_maxtries;
	return 0;
}

/* A line sshd's monitor logs and then its preauth child (" [preauth]"). */
static void __attribute__((format(printf, 3, 4)))
log_as_preauth(int preauth, enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (preauth)
		log_emit_preauth(level, msg);
	else
		log_emit(level, msg);
}

/*
 * As OpenSSH's auth2_setup_methods_lists(), once the user is known (and
 * the Match blocks applied): an AuthenticationMethods list naming a
 * method that is not enabled is dropped, in sshd's words, which its
 * monitor and then its preauth child each log. -1 when none is left: the
 * connection ends ("no authentication methods enabled").
 */
static int
drop_disabled_lists(struct authctxt *a)
{
	char off[AUTHCHAIN_MAX_LISTS][64];
	int dropped[AUTHCHAIN_MAX_LISTS] = {0}, pass;
	size_t n = a->chain.nlists, k, j, ndropped = 0;

	if (a->chain.any)
		return 0;
	if (n > a->c->nauth_methods)
		n = a->c->nauth_methods;
	for (k = 0; k < n; k++) {
		const struct authchain_list *l = &a->chain.lists[k];

		for (j = 0; j < l->nsteps && !dropped[k]; j++) {
			snprintf(off[k], sizeof(off[k]), "%.*s",
			    (int)strcspn(l->steps[j], ":"), l->steps[j]);
			dropped[k] = !method_enabled(a, off[k]);
		}
		ndropped += dropped[k] != 0;
	}
	if (ndropped == 0)
		return 0;
	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < n; k++) {
			if (!dropped[k])
				continue;
			log_as_preauth(pass, LL_ERROR,
			    "Disabled method \"%s\" in AuthenticationMethods "
			    "list \"%s\"",
			    off[k], a->c->auth_methods[k]);
			log_as_preauth(pass, LL_INFO,
			    "Authentication methods list \"%s\" contains "
			    "disabled method, skipping",
			    a->c->auth_methods[k]);
		}
		if (ndropped == a->chain.nlists)
			log_as_preauth(pass, LL_ERROR,
			    "No AuthenticationMethods left after eliminating "
			    "disabled methods");
	}
	for (k = n; k-- > 0;)
		if (dropped[k])
			authchain_drop_list(&a->chain, k);
	return a->chain.nlists > 0 ? 0 : -1;
}

/* The methods a failure reply offers: loaded, enabled, able to continue. */
static void
methods_left(const struct authctxt *a, char *out, size_t outlen)
{
	const char *enabled[sizeof(all_methods) / sizeof(all_methods[0])];
	size_t i, n = 0;

	for (i = 0; i < sizeof(all_methods) / sizeof(all_methods[0]); i++) {
		if (!method_enabled(a, all_methods[i]) ||
		    modules_find(a->mods, all_methods[i], NULL) == NULL)
			continue;
		enabled[n++] = all_methods[i];
	}
	authchain_methods(&a->chain, enabled, n, out, outlen);
}

/* The Banner file's text (read as root, as OpenSSH), or NULL. */
static char *
read_banner(const struct authctxt *a, size_t *lenp)
{
	struct stat st;
	FILE *f;
	char *text;
	size_t n;

	*lenp = 0;
	if (a->c->banner == NULL)
		return NULL;
	if ((f = fopen(a->c->banner, "r")) == NULL) {
		/* sshd says nothing: the login goes on without one. */
		debug("Banner %s: %s", a->c->banner, strerror(errno));
		return NULL;
	}
	/*
	 * As sshd: an empty file (or a device, whose size is 0) or one over
	 * 1 MiB is no banner; postern cuts one over AUTH_BANNER_MAX.
	 */
	if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 ||
	    st.st_size > AUTH_BANNER_FILE_MAX) {
		debug("Banner %s: empty, not a file or over %d bytes: none",
		    a->c->banner, AUTH_BANNER_FILE_MAX);
		fclose(f);
		return NULL;
	}
	if ((text = malloc(AUTH_BANNER_MAX)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(text, 1, AUTH_BANNER_MAX, f);
	fclose(f);
	/*
	 * As sshd, whose banner is a C string: it ends at a NUL byte (the
	 * OpenSSH client refuses a banner holding one: "invalid format"),
	 * and nothing before it is no banner.
	 */
	n = strnlen(text, n);
	if (n == 0) {
		free(text);
		return NULL;
	}
	/* Cut short only when no NUL ended it first. */
	if (st.st_size > AUTH_BANNER_MAX && n == AUTH_BANNER_MAX)
		logit("Banner %s: %lld bytes, the first %d sent", a->c->banner,
		    (long long)st.st_size, AUTH_BANNER_MAX);
	*lenp = n;
	return text;
}

/*
 * sshd's line for a connection it ends in preauth: "Disconnecting
 * authenticating user USER ADDR port P: REASON [preauth]" ("invalid
 * user" for an invalid one), the reason cut at 100 bytes as sshd cuts it.
 */
static void __attribute__((format(printf, 2, 3)))
log_disconnecting(const struct authctxt *a, const char *fmt, ...)
{
	char reason[512], id[LOG_CONN_ID_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_conn_id(id, sizeof(id),
	    a->valid ? "authenticating user" : "invalid user", a->user,
	    a->ci->client_addr, a->ci->client_port);
	logit_preauth("Disconnecting %s: %.100s", id, reason);
}

/* OpenSSH's auth_log(): which level, and the exact wording. */
static void
auth_log(struct authctxt *a, const char *verdict, const char *method,
    int authenticated)
{
	const struct server_config *c = a->c;
	const struct conn_info *ci = a->ci;
	enum log_level level = LL_VERBOSE;
	int postponed = strcmp(verdict, "Postponed") == 0;

	/*
	 * As sshd 9.2: its monitor logs the verdicts at INFO for a password,
	 * an invalid user, a success, or once the failures it decided
	 * itself (judged_failures) reach half MaxAuthTries; its preauth
	 * child logs "Postponed", which its own failure count raises, without
	 * the key and with " [preauth]".
	 */
	if (authenticated || !a->valid || strcmp(method, "password") == 0 ||
	    (postponed && a->failures >= c->max_auth_tries / 2) ||
	    (!postponed && a->judged_failures >= c->max_auth_tries / 2))
		level = LL_INFO;
	/*
	 * A second factor through PAM (sshd) logs "error: PAM:
	 * Authentication failure for U from A" at each failure, which
	 * fail2ban counts; postern's own devices (totp, logged without the
	 * "/pam") have no such line, so each of their failures is INFO.
	 */
	if (strcmp(verdict, "Failed") == 0 &&
	    strcmp(method, "keyboard-interactive") == 0)
		level = LL_INFO;
	if (postponed)
		log_msg_preauth(level,
		    "%s %s for %s%.100s from %.200s port %d ssh2", verdict,
		    method, auth_invalid_prefix(a), a->user, ci->client_addr,
		    ci->client_port);
	else
		log_msg(level, __func__, 0,
		    "%s %s for %s%.100s from %.200s port %d ssh2%s%s", verdict,
		    method, auth_invalid_prefix(a), a->user, ci->client_addr,
		    ci->client_port, a->detail[0] ? ": " : "", a->detail);
	/* As sshd: a failed password or keyboard-interactive try is a
	 * failed login (btmp); a key that did not fit is not. */
	if (strcmp(verdict, "Failed") == 0 &&
	    (strcmp(method, "password") == 0 ||
	        strncmp(method, "keyboard-interactive", 20) == 0)) {
		/* The invalid user's own record first, as sshd; the failure
		 * delay holds this reply anyway. */
		btmp_flush(a);
		login_failed_record(a->user, ci);
	}
}

/* IPC_AUTH_REPLY: verdict, methods, extra, banner (see docs/ipc.md). */
static int
reply_put(struct buf *reply, uint32_t verdict, const char *methods,
    const struct buf *extra, const char *banner, size_t bannerlen)
{
	int r;

	if ((r = buf_put_u32(reply, verdict)) != 0 ||
	    (r = buf_put_cstring(reply, methods)) != 0 ||
	    (r = extra ? buf_put_stringb(reply, extra)
	               : buf_put_string(reply, NULL, 0)) != 0)
		return r;
	return buf_put_string(reply, banner, banner ? bannerlen : 0);
}

/* 1 if a key with this fingerprint already completed a step. */
static int
key_used(const struct authctxt *a, const char *fp)
{
	size_t i;

	for (i = 0; i < a->nused_keys; i++)
		if (strcmp(a->used_keys[i], fp) == 0)
			return 1;
	return 0;
}

/*
 * "publickey,publickey" needs two keys: a key that completed a step is
 * refused before any lookup, where and as sshd's preauth process refuses
 * it (auth2_key_already_used). Not judged (no "Failed" line, no audit
 * record), but a failure for MaxAuthTries, as there.
 */
static int
pubkey_reused(const struct authctxt *a, const struct buf *m)
{
	char fp[SSHKEY_FP_LEN], type[64];

	if (a->nused_keys == 0 ||
	    pkauth_request_key(m, fp, sizeof(fp), type, sizeof(type)) != 0 ||
	    !key_used(a, fp))
		return 0;
	logit_preauth("refusing previously-used %s key", type);
	return 1;
}

/* The per-connection view a module gets (see postern_module.h). */
static const char *
conn_setting(const struct pm_conn *conn, const char *kw, size_t idx)
{
	const struct authctxt *a = conn->host;
	const struct server_config *c = a->c;

	if (strcmp(kw, "authorizedkeysfile") == 0)
		return idx < c->nauthorized_keys_files
		    ? c->authorized_keys_files[idx]
		    : NULL;
	if (idx > 0)
		return NULL;
	if (strcmp(kw, "strictmodes") == 0)
		return c->strict_modes ? "yes" : "no";
	if (strcmp(kw, "pubkeyauthentication") == 0)
		return c->pubkey_authentication ? "yes" : "no";
	if (strcmp(kw, "kbdinteractiveauthentication") == 0)
		return c->kbd_interactive_authentication ? "yes" : "no";
	if (strcmp(kw, "passwordauthentication") == 0)
		return c->password_authentication ? "yes" : "no";
	if (strcmp(kw, "totpusersfile") == 0)
		return c->totp_users_file;
	if (strcmp(kw, "totpwindow") == 0) {
		static char window[16];

		snprintf(window, sizeof(window), "%d", c->totp_window);
		return window;
	}
	if (strcmp(kw, "permitemptypasswords") == 0)
		return c->permit_empty_passwords ? "yes" : "no";
	if (strcmp(kw, "usepam") == 0)
		return c->use_pam ? "yes" : "no";
	if (strcmp(kw, "permitrootlogin") == 0) {
		static const char *const prl[] = {
		    "no", "forced-commands-only", "prohibit-password", "yes"};

		return c->permit_root_login >= PERMIT_NO &&
		        c->permit_root_login <= PERMIT_YES
		    ? prl[c->permit_root_login]
		    : "no";
	}
	if (strcmp(kw, "pamservicename") == 0)
		return c->pam_service_name;
	/* Public keys and certificates, as sshd -T prints them. */
	if (strcmp(kw, "pubkeyacceptedalgorithms") == 0)
		return c->pubkey_accepted_algos;
	if (strcmp(kw, "casignaturealgorithms") == 0)
		return c->ca_sign_algorithms;
	if (strcmp(kw, "trustedusercakeys") == 0)
		return c->trusted_user_ca_keys != NULL ? c->trusted_user_ca_keys
		                                       : "none";
	if (strcmp(kw, "revokedkeys") == 0)
		return c->revoked_keys_file != NULL ? c->revoked_keys_file
		                                    : "none";
	if (strcmp(kw, "authorizedprincipalsfile") == 0)
		return c->authorized_principals_file != NULL
		    ? c->authorized_principals_file
		    : "none";
	if (strcmp(kw, "authorizedkeyscommand") == 0)
		return c->authorized_keys_command;
	if (strcmp(kw, "authorizedkeyscommanduser") == 0)
		return c->authorized_keys_command_user;
	if (strcmp(kw, "authorizedprincipalscommand") == 0)
		return c->authorized_principals_command;
	if (strcmp(kw, "authorizedprincipalscommanduser") == 0)
		return c->authorized_principals_command_user;
	if (strcmp(kw, "connection") == 0) {
		/* Not a keyword: the %C token's value, for the commands. */
		static char conn_str[208];

		snprintf(conn_str, sizeof(conn_str), "%s %d %s %d",
		    a->ci->client_addr, a->ci->client_port, a->ci->server_addr,
		    a->ci->server_port);
		return conn_str;
	}
	if (strcmp(kw, "rdomain") == 0)
		/* Not a keyword: the %D token's value (Match RDomain's). */
		return a->ci->has_rdomain ? a->ci->rdomain : "";
	if (strcmp(kw, "requiredrsasize") == 0) {
		/* The module copies it before asking for another value. */
		static char rsa_size[16];

		snprintf(
		    rsa_size, sizeof(rsa_size), "%d", c->required_rsa_size);
		return rsa_size;
	}
	/* What the "key options:" lines show (lib/pkauth.c). */
	if (strcmp(kw, "permituserenvironment") == 0)
		return c->permit_user_env != NULL ? c->permit_user_env : "no";
	if (strcmp(kw, "allowtcpforwarding") == 0) {
		static const char *const atf[] = {
		    "no", "local", "remote", "yes"};

		return atf[c->fwd.allow_tcp_forwarding & FWD_ALL];
	}
	if (strcmp(kw, "pubkeyauthoptions") == 0) {
		static const char *const pao[] = {"none", "touch-required",
		    "verify-required", "touch-required verify-required"};

		return pao[c->pubkey_auth_options & 3];
	}
	return NULL;
}

/* ABI 6: PAM's authentication's messages and environment, kept. */
static void
conn_login_message(const struct pm_conn *conn, const char *text)
{
	struct authctxt *a = conn->host;

	if (text != NULL)
		pamctx_keep_message(a->pam, text);
}

static void
conn_pam_env(const struct pm_conn *conn, const char *nameval)
{
	struct authctxt *a = conn->host;

	/* Only what a valid user's own authentication set. */
	if (nameval != NULL && a->valid)
		pamctx_putenv(a->pam, nameval);
}

static int
conn_pam_password(const struct pm_conn *conn, const char *password, int flags)
{
	struct authctxt *a = conn->host;

	return pamctx_password(a->pam, password, flags);
}

/* pm_conn's forget_secrets, in a child a module forked. */
static void
conn_forget_secrets(const struct pm_conn *pc)
{
	struct authctxt *a = pc->host;

	if (a->hostkeys != NULL)
		hostkeys_free((struct hostkeys *)a->hostkeys);
	wipe(a->timing_key, sizeof(a->timing_key));
}

static void
conn_fill(struct authctxt *a, const uint8_t *sid, size_t sidlen)
{
	struct pm_conn *pc = &a->conn;

	memset(pc, 0, sizeof(*pc));
	pc->user = a->user;
	pc->wire_user = a->wire_user;
	pc->user_valid = a->valid;
	pc->uid = a->pw.pw_uid;
	pc->gid = a->pw.pw_gid;
	pc->home = a->pw.pw_dir;
	pc->service = a->service;
	pc->client_addr = a->ci->client_addr;
	pc->client_port = a->ci->client_port;
	pc->client_host = a->ci->client_host;
	pc->ssh_connection = a->ci->ip ? a->ssh_connection : NULL;
	pc->auth_info = a->auth_info != NULL ? a->auth_info : "";
	pc->session_id = sid;
	pc->session_id_len = sidlen;
	pc->setting = conn_setting;
	pc->login_message = conn_login_message;
	pc->pam_env = conn_pam_env;
	pc->pam_password = conn_pam_password;
	pc->forget_secrets = conn_forget_secrets;
	pc->host = a;
}

/* The module's state for this connection, started on first use. */
static int
module_state(struct authctxt *a, const struct pm_module *m, void **statep)
{
	size_t i;
	int r;

	for (i = 0; i < a->mods->n; i++) {
		if (a->mods->mods[i] != m)
			continue;
		if (!a->started[i]) {
			if (m->start != NULL &&
			    (r = m->start(&a->conn, &a->states[i])) != 0)
				return r;
			a->started[i] = 1;
		}
		*statep = a->states[i];
		return 0;
	}
	return ERR_INTERNAL;
}

/* 1 if this kbd-int device may serve at this point of the chain. */
static int
kbdint_eligible(const struct authctxt *a, const struct pm_module *m)
{
	return strcmp(m->method, "keyboard-interactive") == 0 &&
	    m->submethod != NULL && m->response != NULL &&
	    authchain_allowed(&a->chain, m->method, m->submethod) &&
	    (strcmp(m->submethod, "pam") == 0 ||
	        authchain_names(&a->chain, m->method, m->submethod));
}

/*
 * keyboard-interactive picks its device (submethod) among the loaded
 * ones that AuthenticationMethods allows at this point. A device other
 * than PAM's (totp, a third party's) serves only where a list's next step
 * names it (keyboard-interactive:totp): a bare keyboard-interactive, or
 * any, is PAM's, as sshd's only device. As sshd's kbdint_next_device():
 * with no submethods (RFC 4256 s3.1) the first such device; else the
 * client's comma-separated entries in order, each naming the devices of
 * which it is a prefix ("p" and "pam" name pam), the first entry that
 * names one deciding, an empty entry ending the search; none named, none
 * serves (the request fails, as there).
 */
static const struct pm_module *
pick_kbdint(struct authctxt *a, const uint8_t *data, size_t len)
{
	const struct pm_module *m, *pick = NULL;
	struct buf *b;
	char *lang = NULL, *subs = NULL;
	const char *e;
	size_t i, elen;

	if ((b = buf_from(data, len)) != NULL &&
	    buf_get_cstring(b, &lang, NULL) == 0)
		(void)buf_get_cstring(b, &subs, NULL);
	buf_free(b);
	for (i = 0; pick == NULL && i < a->mods->n; i++) {
		m = a->mods->mods[i];
		if ((subs == NULL || subs[0] == '\0') && kbdint_eligible(a, m))
			pick = m;
	}
	for (e = subs; pick == NULL && e != NULL && e[0] != '\0';) {
		if ((elen = strcspn(e, ",")) == 0)
			break;
		for (i = 0; pick == NULL && i < a->mods->n; i++) {
			m = a->mods->mods[i];
			if (kbdint_eligible(a, m) &&
			    strncmp(e, m->submethod, elen) == 0 &&
			    strlen(m->submethod) >= elen)
				pick = m;
		}
		e = e[elen] == ',' ? e + elen + 1 : NULL;
	}
	free(lang);
	free(subs);
	return pick;
}

/*
 * publickey: the module that judges the request's algorithm (cert.so
 * takes certificates, publickey.so plain keys; docs/modules.md).
 */
static const struct pm_module *
pick_pubkey(struct authctxt *a, const struct buf *m)
{
	struct buf tmp = *m;
	const struct pm_module *mod;
	char *alg = NULL;
	int has_sig;

	/* A malformed request goes to any publickey module, which says so. */
	if (buf_get_bool(&tmp, &has_sig) != 0 ||
	    buf_get_cstring(&tmp, &alg, NULL) != 0)
		return modules_find(a->mods, "publickey", NULL);
	if ((mod = modules_find_key(a->mods, alg)) == NULL) {
		debug("userauth_pubkey: no module judges %.63s keys", alg);
	}
	free(alg);
	return mod;
}

/* Run a module call; map its result onto the monitor's verdicts. */
static int
run_module(struct authctxt *a, const struct pm_module *m, int response,
    const uint8_t *data, size_t len, int *verdict, struct buf *extra,
    struct authopts **optsp, char *cred, size_t credlen)
{
	struct pm_result res;
	struct buf *ob = NULL;
	void *st;
	int r;

	memset(&res, 0, sizeof(res));
	*verdict = AUTH_FAILURE;
	if ((r = module_state(a, m, &st)) != 0)
		return r;
	r = response ? m->response(st, &a->conn, data, len, &res)
	             : m->request(st, &a->conn, data, len, &res);
	if (r != 0)
		goto out;
	res.detail[sizeof(res.detail) - 1] = '\0';
	res.credential[sizeof(res.credential) - 1] = '\0';
	res.detail_long[sizeof(res.detail_long) - 1] = '\0';
	snprintf(a->detail, sizeof(a->detail), "%s",
	    res.detail_long[0] != '\0' ? res.detail_long : res.detail);
	res.origin[sizeof(res.origin) - 1] = '\0';
	snprintf(a->origin, sizeof(a->origin), "%s", res.origin);
	snprintf(cred, credlen, "%s", res.credential);
	/* PAM_MAXTRIES: no more password or keyboard-interactive (ABI 6). */
	if (m->abi >= 6 && res.maxtries && res.verdict == PM_FAILURE)
		a->pam_maxtries = 1;
	/* The account stack's refusal, kept for the connection (ABI 9). */
	if (m->abi >= 9 && res.account_refused && res.verdict == PM_FAILURE)
		a->pam_account_refused = 1;
	/* keyboard-interactive:pam's words for a failure (ABI 6). */
	free(a->fail_text);
	a->fail_text = NULL;
	if (m->abi >= 6 && res.banner != NULL && res.verdict == PM_FAILURE) {
		a->fail_text = res.banner;
		res.banner = NULL;
	}
	/* Refused as sshd's preauth process refuses it: not logged. */
	if (m->abi >= 6 && res.unjudged && res.verdict == PM_FAILURE)
		a->judged = 0;
	/* A key's proof that failed: judged and counted, as sshd's. */
	a->sig_refused =
	    m->abi >= 8 && res.sig_refused && res.verdict == PM_FAILURE;
	switch (res.verdict) {
	case PM_SUCCESS:
		/*
		 * Whatever a module says, an invalid user never succeeds:
		 * the attempt fails as any other, and the monitor ends the
		 * connection after the reply (a->disconnect).
		 */
		if (!a->valid) {
			error("INTERNAL ERROR: module %s%s%s accepted invalid "
			      "user %.127s from %s port %d: connection ended",
			    m->method, m->submethod != NULL ? ":" : "",
			    m->submethod != NULL ? m->submethod : "", a->user,
			    a->ci->client_addr, a->ci->client_port);
			a->disconnect = 1;
			break;
		}
		if (res.opts != NULL &&
		    ((ob = buf_from(res.opts, res.opts_len)) == NULL ||
		        (r = authopts_deserialize(ob, optsp)) != 0)) {
			error("module %s: bad options", m->method);
			r = ERR_FORMAT;
			goto out;
		}
		*verdict = AUTH_SUCCESS;
		break;
	case PM_CONTINUE:
		/* Only PK_OK / INFO_REQUEST (both 60) may be relayed. */
		if (res.msg_type != SSH2_MSG_USERAUTH_PK_OK ||
		    res.msg == NULL) {
			r = ERR_FORMAT;
			goto out;
		}
		if ((r = buf_put_u8(extra, res.msg_type)) != 0 ||
		    (r = buf_put(extra, res.msg, res.msg_len)) != 0)
			goto out;
		*verdict = AUTH_CONTINUE;
		break;
	default:
		break;
	}
out:
	buf_free(ob);
	free(res.msg);
	if (m->abi >= 6)
		free(res.banner);
	freezero(res.opts, res.opts_len);
	return r;
}

/*
 * A method succeeded for this step: options, PermitRootLogin, then the
 * chain. Returns AUTH_SUCCESS, AUTH_PARTIAL or AUTH_FAILURE.
 */
static int
step_succeeded(struct authctxt *a, const char *method, const char *submethod,
    const char *cred, struct authopts *opts)
{
	struct authopts *merged;

	/* "publickey,publickey" means two different keys. */
	if (cred[0] != '\0' && key_used(a, cred)) {
		logit("refusing previously-used credential %s", cred);
		authopts_free(opts);
		return AUTH_FAILURE;
	}
	/* A later step never lifts a restriction from an earlier one. */
	if (opts == NULL && (opts = authopts_new(1)) == NULL)
		return AUTH_FAILURE;
	merged = a->opts == NULL ? authopts_copy(opts)
	                         : authopts_merge(a->opts, opts);
	authopts_free(opts);
	if (merged == NULL) {
		logit("%s: options of this step conflict with earlier ones",
		    method);
		return AUTH_FAILURE;
	}
	if (!policy_allowed(a, method, submethod, merged)) {
		a->root_refused = a->pw.pw_uid == 0;
		authopts_free(merged);
		return AUTH_FAILURE;
	}
	/* rootpolicy.so logged the monitor's "Root login accepted". */
	a->root_forced = a->pw.pw_uid == 0 &&
	    a->c->permit_root_login == PERMIT_FORCED_ONLY &&
	    merged->force_command != NULL;
	authopts_free(a->opts);
	a->opts = merged;
	if (cred[0] != '\0' && a->nused_keys < AUTH_MAX_USED_KEYS)
		snprintf(a->used_keys[a->nused_keys++], sizeof(a->used_keys[0]),
		    "%s", cred);
	a->auth_info_before = a->auth_info != NULL ? strlen(a->auth_info) : 0;
	/* As sshd writes a device: "keyboard-interactive/pam"; an empty
	 * first password as its monitor names it. */
	login_auth_info_add(&a->auth_info,
	    submethod != NULL && strcmp(submethod, "pam") == 0
	        ? "keyboard-interactive/pam"
	        : logged_method(a, method, 1),
	    a->step_req);
	if (a->auth_info != NULL)
		a->conn.auth_info = a->auth_info; /* moved as it grew */
	return authchain_success(&a->chain, method, submethod) ? AUTH_SUCCESS
	                                                       : AUTH_PARTIAL;
}

/* 1 if "none" checks an empty password (none_empty_password below). */
static int
none_tries_password(const struct authctxt *a)
{
	return a->c->permit_empty_passwords == 1 &&
	    a->c->password_authentication == 1 && a->chain.any;
}

/*
 * MaxAuthTries failures, or AUTH_MAX_ATTEMPTS requests: OpenSSH's
 * auth_maxtries_exceeded(), its lines and a disconnect.
 */
static int
too_many(struct authctxt *a, struct buf *reply)
{
	error_preauth("maximum authentication attempts exceeded for %s%.100s "
	              "from %.200s port %d ssh2",
	    auth_invalid_prefix(a), a->user, a->ci->client_addr,
	    a->ci->client_port);
	audit_auth_maxtries(a);
	log_disconnecting(a, "Too many authentication failures");
	a->disconnect = 1;
	return reply_put(reply, AUTH_TOO_MANY, "", NULL, NULL, 0);
}

/*
 * reply_put with a banner of the Banner file's text (the first reply's)
 * and then text, cut to AUTH_BANNER_MAX in all; without text, the
 * Banner's alone.
 */
static int
reply_put_text(struct buf *reply, uint32_t verdict, const char *methods,
    const char *banner, size_t bannerlen, const char *text, size_t tl)
{
	size_t room =
	    bannerlen < AUTH_BANNER_MAX ? AUTH_BANNER_MAX - bannerlen : 0;
	struct buf *b = NULL;
	int r;

	if (tl > room)
		tl = room;
	if (tl > 0 &&
	    ((b = buf_new(bannerlen + tl)) == NULL ||
	        (bannerlen > 0 && buf_put(b, banner, bannerlen) != 0) ||
	        buf_put(b, text, tl) != 0)) {
		buf_free(b);
		b = NULL;
	}
	r = reply_put(reply, verdict, methods, NULL,
	    b != NULL ? (const char *)buf_ptr(b) : banner,
	    b != NULL ? buf_len(b) : bannerlen);
	buf_free(b);
	return r;
}

/* A failure's reply: the module's words for it (a->fail_text) too. */
static int
reply_put_failure(struct authctxt *a, struct buf *reply, const char *left,
    const char *banner, size_t bannerlen)
{
	return reply_put_text(reply, AUTH_FAILURE, left, banner, bannerlen,
	    a->fail_text, a->fail_text != NULL ? strlen(a->fail_text) : 0);
}

/*
 * A reply that ends authentication: its banner also carries what PAM's
 * modules said that no banner has shown yet, as sshd sends its loginmsg
 * after the account check, for every method.
 */
static int
reply_put_final(struct authctxt *a, struct buf *reply, int verdict,
    const char *methods, const char *banner, size_t bannerlen)
{
	const char *msg = pamctx_loginmsg(a->pam);
	size_t mlen = strlen(msg), shown = a->loginmsg_shown;

	a->loginmsg_shown = mlen;
	return reply_put_text(reply, (uint32_t)verdict, methods, banner,
	    bannerlen, msg + (shown < mlen ? shown : mlen),
	    shown < mlen ? mlen - shown : 0);
}

/* The client's reason when PAM's account stack refused the user. */
#define PAM_ACCOUNT_DENIED "Access denied by PAM account configuration"

/* sshd's fatal line for PAM's account refusal; the connection ends. */
static void
pam_account_denied(struct authctxt *a)
{
	log_msg_preauth(LL_FATAL,
	    "Access denied for user %.127s by PAM account configuration",
	    a->user);
	a->disconnect = 1;
}

/*
 * The verdict of one method call, as OpenSSH's userauth_finish() words and
 * counts it; appends the IPC_AUTH_REPLY payload to reply.
 */
static int
finish(struct authctxt *a, const char *method, const char *submethod,
    int verdict, const char *cred, struct authopts *opts,
    const struct buf *extra, const char *banner, size_t bannerlen,
    struct buf *reply)
{
	const struct conn_info *ci = a->ci;
	char left[256], logm[128];
	int pr = 0;

	/*
	 * OpenSSH logs its kbd-int device, "keyboard-interactive/pam", which
	 * fail2ban's filters know; postern's own devices log the method.
	 */
	snprintf(logm, sizeof(logm), "%s%s%s",
	    logged_method(a, method, verdict == AUTH_SUCCESS),
	    submethod != NULL && strcmp(submethod, "pam") == 0 ? "/" : "",
	    submethod != NULL && strcmp(submethod, "pam") == 0 ? submethod
	                                                       : "");
	if (verdict == AUTH_SUCCESS)
		verdict = step_succeeded(a, method, submethod, cred, opts);
	else
		authopts_free(opts);
	/*
	 * keyboard-interactive/pam ran the account stack itself, after its
	 * authentication (where an expired password is changed); as sshd,
	 * which keeps that answer, it is not run again for this connection.
	 */
	if ((verdict == AUTH_SUCCESS || verdict == AUTH_PARTIAL) &&
	    strcmp(method, "keyboard-interactive") == 0 && submethod != NULL &&
	    strcmp(submethod, "pam") == 0) {
		a->pam_account_done = 1;
		pamctx_mark_authenticated(a->pam);
		/* sshd's preauth child holds PAM's success back for one
		 * more round, and logs it so: as its first round, without
		 * the device, when PAM asked nothing (an empty password). */
		auth_log(a, "Postponed",
		    a->step_req != NULL && a->conn.method != NULL
		        ? a->conn.method
		        : logm,
		    0);
	}
	/*
	 * UsePAM: the account phase decides last, as in OpenSSH, which has
	 * not yet added this last step to SSH_AUTH_INFO_0.
	 */
	if (verdict == AUTH_SUCCESS && a->pam != NULL && !a->pam_account_done) {
		/* As sshd's do_pam_account(): a refusal stands for the rest
		 * of the connection (a stack whose answer changes, an LDAP
		 * server that times out once, lets no one in later). */
		if (a->pam_account_refused)
			pr = ERR_PERM;
		else {
			pamctx_expose_auth_info(a->pam, "do_pam_account",
			    a->auth_info, a->auth_info_before);
			pr = pamctx_account(a->pam);
		}
	}
	if (pr == PAMCTX_PWCHANGE) {
		logit("User %.127s password has expired (PAM): it must be "
		      "changed at login",
		    a->user);
		a->force_pwchange = 1;
	} else if (verdict == AUTH_SUCCESS && a->pam != NULL && pr != 0) {
		/* As sshd's monitor: this attempt failed, then the denial. */
		auth_log(a, "Failed", logm, 0);
		pam_account_denied(a);
		audit_auth(a, method, submethod, cred, AUTH_FAILURE);
		audit_login_failed(a);
		/* sshd shows PAM's words (pam_nologin's text) first. */
		return reply_put_final(
		    a, reply, AUTH_DENIED, PAM_ACCOUNT_DENIED, NULL, 0);
	}
	if (verdict == AUTH_SUCCESS && a->force_pwchange && a->opts != NULL) {
		/* As OpenSSH's sshpam_password_change_required(). */
		a->opts->permit_port_forwarding = 0;
		a->opts->permit_agent_forwarding = 0;
		a->opts->permit_x11_forwarding = 0;
	}
	if (verdict == AUTH_SUCCESS) {
		grace_claim(); /* past LoginGraceTime: never "Accepted" */
		a->authenticated = 1;
		a->active = NULL;
		snprintf(a->method, sizeof(a->method), "%s", method);
		auth_log(a, "Accepted", logm, 1);
		/* sshd's preauth child allows root once more, in its words. */
		if (a->root_forced)
			logit_preauth(
			    "Root login accepted for forced command.");
		audit_auth(a, method, submethod, cred, AUTH_SUCCESS);
		return reply_put_final(
		    a, reply, AUTH_SUCCESS, "", banner, bannerlen);
	}
	methods_left(a, left, sizeof(left));
	if (verdict == AUTH_PARTIAL) {
		a->active = NULL;
		auth_log(a, "Partial", logm, 0);
		audit_auth(a, method, submethod, cred, AUTH_PARTIAL);
		return reply_put(
		    reply, AUTH_PARTIAL, left, NULL, banner, bannerlen);
	}
	if (verdict == AUTH_CONTINUE) {
		/* sshd's preauth child names the request's method as sent
		 * (publickey-hostbound-v00@openssh.com too); its kbd-int
		 * device from the first answer on. */
		auth_log(a, "Postponed",
		    a->step_req != NULL && a->conn.method != NULL
		        ? a->conn.method
		        : logm,
		    0);
		return reply_put(
		    reply, AUTH_CONTINUE, "", extra, banner, bannerlen);
	}
	a->active = NULL;
	/*
	 * sshd logs the failures its monitor judged: not a method that no
	 * module ran (disabled, unknown, keyboard-interactive without a
	 * device), nor a key of an invalid user (never looked up).
	 */
	if (strcmp(method, "none") != 0 || a->attempts > 1) {
		if (a->judged &&
		    (a->valid || strcmp(method, "publickey") != 0)) {
			auth_log(a, "Failed", logm, 0);
			/* sshd's audit event for each Failed it logs. */
			audit_login_failed(a);
		}
		a->failures++;
		startup_note_authfail();
	} else if (none_tries_password(a)) {
		auth_log(a, "Failed", logm, 0); /* logged, not counted */
		audit_login_failed(a);
	}
	/* sshd's monitor counts the failures it decides: passwords (the
	 * first "none"'s too), keyboard-interactive and an authorized key's
	 * signature that fails (its keyverify), not refused keys. */
	if (a->judged && (strcmp(method, "publickey") != 0 || a->sig_refused))
		a->judged_failures++;
	/*
	 * Audited as sshd audits: what its monitor judged. Not a "none"
	 * that checks no password, a method no module ran, nor a request
	 * refused before any lookup (aureport would count each login's
	 * first "none" as a failed authentication).
	 */
	if (a->judged)
		audit_auth(a, method, submethod, cred, AUTH_FAILURE);
	/* sshd's preauth child refuses root once more, in its own words. */
	if (a->root_refused)
		logit_preauth("ROOT LOGIN REFUSED FROM %.200s port %d",
		    ci->client_addr, ci->client_port);
	a->root_refused = 0;
	/*
	 * As sshd's ensure_minimum_time_since() for every failed request
	 * but "none": a refused key of a user who exists takes no longer to
	 * refuse than one of a user who does not.
	 */
	if (strcmp(method, "none") != 0)
		auth_fail_delay(a);
	if (a->failures >= a->c->max_auth_tries)
		return too_many(a, reply);
	/* keyboard-interactive:pam's words for this failure, shown with it;
	 * a password's stay for the login, as sshd's. */
	return reply_put_failure(a, reply, left, banner, bannerlen);
}

/* A C string field (one final NUL allowed), as sshbuf_get_cstring. */
static int
skip_cstring(struct buf *v)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(v, &p, &len)) != 0)
		return r;
	return buf_cstring_trim(p, &len) != 0 ? ERR_FORMAT : 0;
}

/*
 * The method's fields (m) parsed as sshd's userauth_none, userauth_passwd,
 * userauth_kbdint and userauth_pubkey parse them, before any lookup
 * (RFC 4252 s5, s7, s8; RFC 4256 s3.1; OpenSSH PROTOCOL s2.5 for the
 * host-bound key): 0, or the words of sshd's fatal_fr() for a request cut
 * short or with bytes left over, in why. A publickey request's signature
 * and end (rest) are read only once the key has passed sshd's checks
 * before its lookup, which the module makes (its ERR_PROTOCOL).
 */
static int
request_fault(
    const char *method, const struct buf *m, int rest, char *why, size_t whylen)
{
	struct buf v = *m; /* a view: a password is not copied */
	const char *fn, *what = "parse packet";
	const uint8_t *blob, *hk;
	struct sshkey *key = NULL;
	struct sshcert *cert = NULL;
	size_t bloblen, hklen;
	char whatbuf[96];
	uint8_t flag;
	int r = 0, hostbound = strcmp(method, HOSTBOUND_METHOD) == 0;

	if (strcmp(method, "none") == 0) {
		fn = "userauth_none";
		r = buf_end(&v);
	} else if (strcmp(method, "password") == 0) {
		/* A change of password (flag set) carries the new one too. */
		fn = "userauth_passwd";
		if ((r = buf_get_u8(&v, &flag)) == 0 &&
		    (r = skip_cstring(&v)) == 0 &&
		    (flag == 0 || (r = skip_cstring(&v)) == 0))
			r = buf_end(&v);
	} else if (strcmp(method, "keyboard-interactive") == 0) {
		fn = "userauth_kbdint";
		if ((r = skip_cstring(&v)) == 0 && (r = skip_cstring(&v)) == 0)
			r = buf_end(&v);
	} else if (strcmp(method, "publickey") == 0 || hostbound) {
		fn = "userauth_pubkey";
		snprintf(whatbuf, sizeof(whatbuf), "parse %s packet", method);
		what = whatbuf;
		if ((r = buf_get_u8(&v, &flag)) != 0 ||
		    (r = skip_cstring(&v)) != 0 ||
		    (r = buf_get_string_direct(&v, &blob, &bloblen)) != 0)
			goto out;
		/* The host key it is bound to: a key (a host certificate
		 * too), or the connection ends. */
		if (hostbound &&
		    ((r = buf_get_string_direct(&v, &hk, &hklen)) != 0 ||
		        ((r = sshkey_from_blob(hk, hklen, &key)) != 0 &&
		            sshcert_from_blob(hk, hklen, &cert) != 0))) {
			snprintf(whatbuf, sizeof(whatbuf), "parse %s hostkey",
			    method);
			goto out;
		}
		sshkey_free(key);
		sshcert_free(cert);
		r = 0;
		if (!rest)
			return 0;
		what = flag ? "parse signature packet" : "parse packet";
		if (flag == 0 || (r = buf_skip_string(&v)) == 0)
			r = buf_end(&v);
	} else
		return 0;
out:
	if (r != 0)
		snprintf(
		    why, whylen, "%s: %s: %s", fn, what, err_sshd_words(r));
	return r;
}

/*
 * A request_fault: sshd's fatal line; the client is told the same words
 * (sshd's preauth child closes without a word) and the connection ends.
 */
static int
request_fault_reply(struct authctxt *a, const char *why, struct buf *reply)
{
	log_msg_preauth(LL_FATAL, "%s", why);
	a->disconnect = 1;
	return reply_put(reply, AUTH_DENIED, why, NULL, NULL, 0);
}

/* 1 if a publickey-hostbound request names this connection's host key. */
static int
hostbound_key_ok(const struct authctxt *a, const struct buf *m)
{
	struct buf tmp = *m;
	const uint8_t *hk;
	size_t hklen;
	int has_sig, ok = 0;

	if (buf_get_bool(&tmp, &has_sig) != 0 || buf_skip_string(&tmp) != 0 ||
	    buf_skip_string(&tmp) != 0 ||
	    buf_get_string_direct(&tmp, &hk, &hklen) != 0)
		goto out;
	ok = a->kex_hostkey_blob != NULL && hklen == a->kex_hostkey_len &&
	    memcmp(hk, a->kex_hostkey_blob, hklen) == 0;
out:
	if (!ok)
		log_msg_preauth(LL_FATAL,
		    "userauth_pubkey: %s packet contained wrong host key",
		    HOSTBOUND_METHOD);
	return ok;
}

/*
 * "none" as OpenSSH's userauth_none(): with PermitEmptyPasswords and
 * PasswordAuthentication yes (and no AuthenticationMethods), the password
 * method's check of an empty password, which logs in an account whose
 * password is empty.
 */
static int
none_empty_password(struct authctxt *a, int *verdict, struct buf *extra,
    struct authopts **optsp, char *cred, size_t credlen)
{
	static const uint8_t empty[] = {0, 0, 0, 0, 0}; /* FALSE, "" */
	const struct pm_module *pw;

	*verdict = AUTH_FAILURE;
	if (!none_tries_password(a) ||
	    (pw = modules_find(a->mods, "password", NULL)) == NULL)
		return 0;
	password_expiry_once(a);
	a->none_logs_password = ++a->password_checks > 1;
	return run_module(a, pw, 0, empty, sizeof(empty), verdict, extra, optsp,
	    cred, credlen);
}

int
auth_request(struct authctxt *a, const uint8_t *sid, size_t sidlen,
    struct buf *req, struct buf *reply)
{
	const char *canon;
	const struct pm_module *mod = NULL;
	char *user = NULL, *service = NULL, *method = NULL, *banner = NULL;
	char cred[96], why[256];
	struct buf *m = NULL, *extra = NULL;
	struct authopts *opts = NULL;
	int verdict = AUTH_FAILURE, usable, parsed, r;
	size_t bannerlen = 0;

	cred[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &a->tstart);
	authcmd_clock_reset();
	/* The method's fields may hold a password: wiped when freed. */
	m = buf_new_secret(IPC_MAX_MESSAGE);
	extra = buf_new(IPC_MAX_MESSAGE);
	if (m == NULL || extra == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring(req, &user, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &service, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &method, NULL)) != 0 ||
	    (r = buf_get_stringb(req, m)) != 0 || (r = buf_end(req)) != 0)
		goto out;
	if (a->authenticated || a->disconnect) {
		r = ERR_BAD_STATE;
		goto out;
	}
	/* A later request's ":STYLE" is dropped too (see below). */
	if (a->user != NULL)
		user[strcspn(user, ":")] = '\0';
	if (a->user == NULL) {
		if (strcmp(service, "ssh-connection") != 0) {
			a->disconnect = 1;
			r = reply_put(reply, AUTH_DENIED, "bad service request",
			    NULL, NULL, 0);
			logit("userauth: unsupported service %.63s", service);
			goto out;
		}
		/*
		 * As sshd's input_userauth_request(): "USER:STYLE" names USER
		 * (the style is BSD auth's, which Linux does not have); the
		 * first request's style stays in what signatures cover.
		 */
		if ((a->wire_user = strdup(user)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		user[strcspn(user, ":")] = '\0';
		a->user = user;
		a->service = service;
		user = service = NULL;
		if ((r = lookup_user(a)) != 0)
			goto out;
		conn_fill(a, sid, sidlen);
		/* As OpenSSH's monitor names itself once the user is known. */
		proctitle_set(
		    "%s [priv]", a->valid ? a->pw.pw_name : "unknown");
		/* The Banner goes out with the reply to the first request. */
		banner = read_banner(a, &bannerlen);
		if (drop_disabled_lists(a) != 0) {
			a->disconnect = 1;
			log_disconnecting(
			    a, "no authentication methods enabled");
			r = reply_put(reply, AUTH_DENIED,
			    "no authentication methods enabled", NULL, banner,
			    bannerlen);
			goto out;
		}
	} else if (strcmp(a->user, user) != 0 ||
	    strcmp(a->service, service) != 0) {
		/* As sshd: the client is told both pairs too. */
		a->disconnect = 1;
		snprintf(why, sizeof(why),
		    "Change of username or service not allowed: "
		    "(%.40s,%.20s) -> (%.40s,%.20s)",
		    a->user, a->service, user, service);
		r = reply_put(reply, AUTH_DENIED, why, NULL, NULL, 0);
		log_disconnecting(a,
		    "Change of username or service not allowed: "
		    "(%.127s,%.63s) -> (%.127s,%.63s)",
		    a->user, a->service, user, service);
		goto out;
	}
	/*
	 * Requests that end in no failure (a key query answered PK_OK, a
	 * keyboard-interactive exchange left at its first prompt) are not
	 * counted by MaxAuthTries; as sshd, no connection gets more than
	 * AUTH_MAX_ATTEMPTS, each of which may read files, run
	 * AuthorizedKeysCommand or start PAM as root.
	 */
	if (a->attempts >= AUTH_MAX_ATTEMPTS) {
		a->active = NULL;
		r = too_many(a, reply);
		goto out;
	}
	/*
	 * A new request abandons a keyboard-interactive exchange. sshd's
	 * monitor, told to free PAM's context, judges that one failed: its
	 * line, audit event and count.
	 */
	if (a->active != NULL && a->active->submethod != NULL &&
	    strcmp(a->active->submethod, "pam") == 0) {
		auth_log(a, "Failed", "keyboard-interactive/pam", 0);
		audit_login_failed(a);
		audit_auth(a, a->active->method, a->active->submethod, "",
		    AUTH_FAILURE);
		a->judged_failures++;
	}
	a->active = NULL;
	a->attempts++;
	a->judged = 0;
	free(a->fail_text);
	a->fail_text = NULL;
	a->password_logs_none = 0;
	a->none_logs_password = 0;
	a->sig_refused = 0;
	a->detail[0] = '\0';
	a->origin[0] = '\0';
	/*
	 * publickey-hostbound-v00@openssh.com is publickey bound to this
	 * connection's host key (OpenSSH PROTOCOL s2.5): the monitor checks
	 * that key itself, then it is publickey for every other purpose.
	 */
	a->conn.method = method;
	canon = method;
	if (strcmp(method, HOSTBOUND_METHOD) == 0)
		canon = "publickey";
	/*
	 * A method sshd would run (enabled; "none" until its first call)
	 * parses its fields first: one cut short or with bytes left over
	 * ends the connection, with sshd's fatal line (its preauth child
	 * closes without a word; the client is told why here).
	 */
	if (strcmp(canon, "none") == 0)
		parsed = !a->none_done && a->chain.any;
	else
		parsed = method_enabled(a, canon) &&
		    authchain_allows_method(&a->chain, canon);
	if (parsed && request_fault(method, m, 0, why, sizeof(why)) != 0) {
		r = request_fault_reply(a, why, reply);
		goto out;
	}
	/* Checked inside sshd's userauth_pubkey, so only when it runs. */
	if (parsed && strcmp(method, HOSTBOUND_METHOD) == 0) {
		if (!hostbound_key_ok(a, m)) {
			/* As sshd, which ends the connection. */
			a->disconnect = 1;
			r = reply_put(reply, AUTH_DENIED, "wrong host key",
			    NULL, NULL, 0);
			goto out;
		}
		debug("userauth: %s: the key is bound to this host key",
		    HOSTBOUND_METHOD);
	}
	if (strcmp(canon, "keyboard-interactive") == 0)
		mod = pick_kbdint(a, buf_ptr(m), buf_len(m));
	else if (strcmp(canon, "publickey") == 0)
		mod = pick_pubkey(a, m);
	else if (strcmp(canon, "none") != 0)
		mod = modules_find(a->mods, canon, NULL);
	usable = mod != NULL && method_enabled(a, canon) &&
	    authchain_allowed(&a->chain, canon, mod->submethod);
	if (usable && a->pam_account_refused && mod->submethod != NULL &&
	    strcmp(mod->submethod, "pam") == 0) {
		/*
		 * PAM's account stack refused this user: sshd's monitor no
		 * longer permits a PAM conversation and the connection ends
		 * (its "monitor_read: unpermitted request"); none runs here
		 * either, so the stack is not asked again.
		 */
		pam_account_denied(a);
		r = reply_put(
		    reply, AUTH_DENIED, PAM_ACCOUNT_DENIED, NULL, NULL, 0);
		goto out;
	}
	if (usable && strcmp(canon, "publickey") == 0 && pubkey_reused(a, m)) {
		/* refused, as sshd's preauth process refuses it */
	} else if (usable) {
		/* UsePAM no: pam.so fails at once, where sshd has no kbd-int
		 * device and logs nothing. */
		a->judged = mod->submethod == NULL ||
		    strcmp(mod->submethod, "pam") != 0 || a->c->use_pam;
		if (strcmp(canon, "password") == 0 &&
		    password_request_seen(a, m))
			a->judged = 0;
		r = run_module(a, mod, 0, buf_ptr(m), buf_len(m), &verdict,
		    extra, &opts, cred, sizeof(cred));
		/* publickey's rest, read after the module's checks. */
		if (r == ERR_PROTOCOL && strcmp(canon, "publickey") == 0 &&
		    request_fault(method, m, 1, why, sizeof(why)) != 0) {
			r = request_fault_reply(a, why, reply);
			goto out;
		}
		if (r != 0)
			goto out;
		if (verdict == AUTH_CONTINUE && mod->response != NULL)
			a->active = mod;
	} else if (strcmp(canon, "none") == 0) {
		/* sshd's userauth_none() runs once: its first call disables
		 * the method, so a later "none" is neither checked nor
		 * logged. */
		a->judged = none_tries_password(a) && !a->none_done;
		if (!a->none_done &&
		    (r = none_empty_password(
		         a, &verdict, extra, &opts, cred, sizeof(cred))) != 0)
			goto out;
		a->none_done = 1;
	} else {
		debug("userauth: method %.63s not available", method);
	}
	a->step_req = m;
	r = finish(a, canon, mod ? mod->submethod : NULL, verdict, cred, opts,
	    extra, banner, bannerlen, reply);
	a->step_req = NULL;
	opts = NULL;
out:
	/*
	 * method is freed here: modules see, until the next request, the
	 * method of the exchange still open (its INFO_RESPONSEs, the policy
	 * check of its success), else none.
	 */
	a->conn.method = a->active != NULL ? a->active->method : NULL;
	authopts_free(opts);
	free(banner);
	free(user);
	free(service);
	free(method);
	buf_free(m);
	buf_free(extra);
	/* Nothing of the request outlives its judgement. */
	buf_reset(req);
	return r;
}

int
auth_response(struct authctxt *a, struct buf *req, struct buf *reply)
{
	const struct pm_module *mod = a->active;
	struct buf *m = NULL, *extra = NULL;
	struct authopts *opts = NULL;
	int verdict = AUTH_FAILURE, r;
	char cred[96];

	cred[0] = '\0';
	if (mod == NULL || a->authenticated || a->disconnect)
		return ERR_BAD_STATE;
	clock_gettime(CLOCK_MONOTONIC, &a->tstart);
	authcmd_clock_reset();
	m = buf_new_secret(IPC_MAX_MESSAGE);
	extra = buf_new(IPC_MAX_MESSAGE);
	if (m == NULL || extra == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_stringb(req, m)) != 0 || (r = buf_end(req)) != 0)
		goto out;
	if ((r = run_module(a, mod, 1, buf_ptr(m), buf_len(m), &verdict, extra,
	         &opts, cred, sizeof(cred))) != 0)
		goto out;
	r = finish(a, mod->method, mod->submethod, verdict, cred, opts, extra,
	    NULL, 0, reply);
	opts = NULL;
out:
	authopts_free(opts);
	buf_free(m);
	buf_free(extra);
	buf_reset(req);
	return r;
}
