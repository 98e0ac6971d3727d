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
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "authkeys.h"
#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "monitor.h"
#include "policy/access.h"
#include "authopts.h"
#include "sshkey.h"
#include "transport.h"

/* Methods postern implements, in the order OpenSSH lists them. */
static const char *const all_methods[] = {"publickey"};

void
auth_init(struct authctxt *a, struct server_config *c,
    const struct config_source *src, const struct conn_info *ci)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->src = src;
	a->ci = ci;
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

void
auth_free(struct authctxt *a)
{
	free(a->user);
	free(a->service);
	free(a->approved_blob);
	pw_free(&a->pw);
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
 * OpenSSH's allowed_user() checks that need no configuration (UsePAM is
 * not implemented, so these apply as with UsePAM no): an expired or
 * locked account, or a login shell that cannot run, is refused.
 */
static int
account_allowed(const struct passwd *pw)
{
	struct spwd *sp;
	struct stat st;
	const char *shell;
	long today;

	if ((sp = getspnam(pw->pw_name)) != NULL) {
		today = (long)(time(NULL) / 86400);
		if (sp->sp_expire != -1 && today >= sp->sp_expire) {
			logit("Account %.100s has expired", pw->pw_name);
			return 0;
		}
		if (sp->sp_pwdp != NULL &&
		    (sp->sp_pwdp[0] == '!' ||
		        strcmp(sp->sp_pwdp, "*LK*") == 0)) {
			logit("User %.100s not allowed because account is "
			      "locked",
			    pw->pw_name);
			return 0;
		}
	}
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
	char safe[256];
	int refused = 0, r;

	pw = getpwnam(a->user);
	/* Not running as root: we can serve only ourselves. */
	if (pw != NULL && getuid() != 0 && pw->pw_uid != getuid())
		pw = NULL;
	memset(&mc, 0, sizeof(mc));
	mc.user = a->user;
	mc.host = ci->client_addr; /* UseDNS no */
	mc.addr = ci->client_addr;
	mc.laddr = ci->server_addr;
	mc.lport = ci->server_port;
	mc.invalid_user = pw == NULL;
	if ((r = config_apply_match(a->c, a->src, &mc)) != 0) {
		error("Match configuration for %s could not be applied: %s",
		    ci->client_addr, err_str(r));
		return r;
	}
	/* getpwnam's buffer may have been reused (Match Group lookups). */
	if (pw != NULL && (pw = getpwnam(a->user)) == NULL)
		return ERR_NOT_FOUND;
	/* A refused account goes on as an invalid one, without that line. */
	if (pw != NULL &&
	    (!account_allowed(pw) ||
	        !access_user_allowed(a->c, pw->pw_name, pw->pw_gid,
	            ci->client_addr, ci->client_addr))) {
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
		sanitise(safe, sizeof(safe), a->user);
		if (!refused)
			logit("Invalid user %.100s from %s port %d", safe,
			    ci->client_addr, ci->client_port);
		a->valid = 0;
		a->pw.pw_name = strdup(a->user);
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

/* OpenSSH's auth_root_allowed(): PermitRootLogin for this method. */
static int
root_allowed(
    struct authctxt *a, const char *method, const struct authopts *opts)
{
	switch (a->c->permit_root_login) {
	case PERMIT_YES:
		return 1;
	case PERMIT_NO_PASSWD:
		if (strcmp(method, "publickey") == 0)
			return 1;
		break;
	case PERMIT_FORCED_ONLY:
		if (opts != NULL && opts->force_command != NULL) {
			logit("Root login accepted for forced command.");
			return 1;
		}
		break;
	}
	logit("ROOT LOGIN REFUSED FROM %.200s port %d", a->ci->client_addr,
	    a->ci->client_port);
	return 0;
}

/* The methods a failure reply offers: enabled, and able to continue. */
static void
methods_left(const struct authctxt *a, char *out, size_t outlen)
{
	const char *enabled[sizeof(all_methods) / sizeof(all_methods[0])];
	size_t i, n = 0;

	for (i = 0; i < sizeof(all_methods) / sizeof(all_methods[0]); i++) {
		if (strcmp(all_methods[i], "publickey") == 0 &&
		    !a->c->pubkey_authentication)
			continue;
		enabled[n++] = all_methods[i];
	}
	authchain_methods(&a->chain, enabled, n, out, outlen);
}

/* The Banner file's text (read as root, as OpenSSH), or NULL. */
static char *
read_banner(const struct authctxt *a, size_t *lenp)
{
	FILE *f;
	char *text;
	size_t n;

	*lenp = 0;
	if (a->c->banner == NULL)
		return NULL;
	if ((f = fopen(a->c->banner, "r")) == NULL) {
		error("Banner %s: %s", a->c->banner, strerror(errno));
		return NULL;
	}
	if ((text = malloc(AUTH_BANNER_MAX)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(text, 1, AUTH_BANNER_MAX, f);
	fclose(f);
	*lenp = n;
	return text;
}

/* OpenSSH's auth_log(): which level, and the exact wording. */
static void
auth_log(struct authctxt *a, const char *verdict, const char *method,
    int authenticated)
{
	const struct server_config *c = a->c;
	const struct conn_info *ci = a->ci;
	char safe[256];
	enum log_level level = LL_VERBOSE;

	if (authenticated || !a->valid || a->failures >= c->max_auth_tries / 2)
		level = LL_INFO;
	sanitise(safe, sizeof(safe), a->user);
	log_msg(level, __func__, 0,
	    "%s %s for %s%.100s from %.200s port %d "
	    "ssh2%s%s",
	    verdict, method, auth_invalid_prefix(a), safe, ci->client_addr,
	    ci->client_port, a->detail[0] ? ": " : "", a->detail);
}

/*
 * 1 if key is listed in one of the user's authorized_keys files; *optsp
 * gets the matching line's options (from= and expiry-time already met).
 */
static int
key_authorized(
    struct authctxt *a, const struct sshkey *key, struct authopts **optsp)
{
	const struct server_config *c = a->c;
	struct authkeys_query q;
	unsigned long line;
	size_t i;
	char *path;
	int r;

	*optsp = NULL;
	for (i = 0; i < c->nauthorized_keys_files; i++) {
		if (strcmp(c->authorized_keys_files[i], "none") == 0)
			continue;
		if ((path = authkeys_expand_path(
		         c->authorized_keys_files[i], &a->pw)) == NULL)
			continue;
		memset(&q, 0, sizeof(q));
		q.pw = &a->pw;
		q.path = path;
		q.key = key;
		q.strict_modes = c->strict_modes;
		q.remote_addr = a->ci->client_addr;
		r = authkeys_find_opts(&q, &line, optsp);
		free(path);
		if (r == 0 && a->valid)
			return 1;
		authopts_free(*optsp);
		*optsp = NULL;
	}
	return 0;
}

/* The data a publickey signature covers (RFC 4252 s7), rebuilt here. */
static int
signed_data(struct buf *d, const uint8_t *sid, size_t sidlen,
    const struct authctxt *a, const char *alg, const uint8_t *blob,
    size_t bloblen)
{
	int r;

	if ((r = buf_put_string(d, sid, sidlen)) != 0 ||
	    (r = buf_put_u8(d, SSH2_MSG_USERAUTH_REQUEST)) != 0 ||
	    (r = buf_put_cstring(d, a->user)) != 0 ||
	    (r = buf_put_cstring(d, a->service)) != 0 ||
	    (r = buf_put_cstring(d, "publickey")) != 0 ||
	    (r = buf_put_bool(d, 1)) != 0 ||
	    (r = buf_put_cstring(d, alg)) != 0 ||
	    (r = buf_put_string(d, blob, bloblen)) != 0)
		return r;
	return 0;
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

static int
accepted_alg(const char *alg)
{
	static const char *const algs[] = {"ssh-ed25519", "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-256",
	    "rsa-sha2-512"};
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i]) == 0)
			return 1;
	return 0;
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
 * publickey: a query (no signature) gives PK_OK for an authorized key; a
 * signed request must verify over data the monitor builds itself from its
 * own session id. *fp gets the key's fingerprint.
 */
static int
auth_pubkey(struct authctxt *a, const uint8_t *sid, size_t sidlen,
    struct buf *m, struct buf *extra, int *verdict, int *postponed, char *fp,
    size_t fplen, struct authopts **optsp)
{
	struct authopts *opts = NULL;
	const uint8_t *blob, *sig = NULL;
	size_t bloblen, siglen = 0;
	struct sshkey *key = NULL;
	struct buf *data = NULL;
	char *alg = NULL, safe[128];
	int has_sig, r, ok;

	*verdict = AUTH_FAILURE;
	if ((r = buf_get_bool(m, &has_sig)) != 0 ||
	    (r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &blob, &bloblen)) != 0 ||
	    (has_sig && (r = buf_get_string_direct(m, &sig, &siglen)) != 0) ||
	    (r = buf_end(m)) != 0) {
		error("userauth_pubkey: malformed request: %s", err_str(r));
		goto out;
	}
	if (!a->c->pubkey_authentication ||
	    !authchain_allowed(&a->chain, "publickey", NULL)) {
		r = 0;
		goto out;
	}
	if ((r = sshkey_from_blob(blob, bloblen, &key)) != 0) {
		error("userauth_pubkey: cannot decode key: %s", err_str(r));
		r = 0;
		goto out;
	}
	if (!accepted_alg(alg) || !sshkey_sig_alg_ok(key, alg, 0)) {
		sanitise(safe, sizeof(safe), alg);
		verbose("userauth_pubkey: signature algorithm %s not in "
		        "PubkeyAcceptedAlgorithms [preauth]",
		    safe);
		r = 0;
		goto out;
	}
	if (sshkey_fingerprint(key, fp, fplen) != 0)
		snprintf(fp, fplen, "(unknown)");
	snprintf(
	    a->detail, sizeof(a->detail), "%s %s", sshkey_type_short(key), fp);
	/* "publickey,publickey" means two different keys. */
	if (key_used(a, fp)) {
		logit(
		    "refusing previously-used %s key", sshkey_type_short(key));
		r = 0;
		goto out;
	}
	ok = key_authorized(a, key, &opts);
	if (!has_sig) {
		if (ok) {
			free(a->approved_blob);
			if ((a->approved_blob = malloc(bloblen)) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
			memcpy(a->approved_blob, blob, bloblen);
			a->approved_len = bloblen;
			if ((r = buf_put_cstring(extra, alg)) != 0 ||
			    (r = buf_put_string(extra, blob, bloblen)) != 0)
				goto out;
			*verdict = AUTH_PK_OK;
			*postponed = 1;
		}
		r = 0;
		goto out;
	}
	if ((data = buf_new(IPC_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = signed_data(data, sid, sidlen, a, alg, blob, bloblen)) != 0)
		goto out;
	if (ok &&
	    sshkey_verify(key, sig, siglen, buf_ptr(data), buf_len(data), alg,
	        1024) == 0) {
		*verdict = AUTH_SUCCESS;
		*optsp = opts;
		opts = NULL;
	}
	r = 0;
out:
	authopts_free(opts);
	buf_free(data);
	sshkey_free(key);
	free(alg);
	return r;
}

/*
 * A method succeeded for this step: PermitRootLogin, then the chain.
 * Returns AUTH_SUCCESS, AUTH_PARTIAL or AUTH_FAILURE.
 */
static int
step_succeeded(struct authctxt *a, const char *method, const char *fp,
    struct authopts *opts)
{
	struct authopts *merged;

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
	if (a->pw.pw_uid == 0 && !root_allowed(a, method, merged)) {
		authopts_free(merged);
		return AUTH_FAILURE;
	}
	authopts_free(a->opts);
	a->opts = merged;
	if (fp != NULL && a->nused_keys < AUTH_MAX_USED_KEYS)
		snprintf(a->used_keys[a->nused_keys++], sizeof(a->used_keys[0]),
		    "%s", fp);
	return authchain_success(&a->chain, method, NULL) ? AUTH_SUCCESS
	                                                  : AUTH_PARTIAL;
}

int
auth_request(struct authctxt *a, const uint8_t *sid, size_t sidlen,
    struct buf *req, struct buf *reply)
{
	const struct conn_info *ci = a->ci;
	char *user = NULL, *service = NULL, *method = NULL, *banner = NULL;
	char su[128], ss[64], sm[64], fp[SSHKEY_FP_LEN], left[256];
	struct authopts *opts = NULL;
	struct buf *m = NULL, *extra = NULL;
	int verdict = AUTH_FAILURE, postponed = 0, r;
	size_t bannerlen = 0;

	fp[0] = '\0';
	m = buf_new(IPC_MAX_MESSAGE);
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
	if (a->user == NULL) {
		if (strcmp(service, "ssh-connection") != 0) {
			sanitise(ss, sizeof(ss), service);
			a->disconnect = 1;
			r = reply_put(reply, AUTH_DENIED, "bad service request",
			    NULL, NULL, 0);
			logit("userauth: unsupported service %s", ss);
			goto out;
		}
		a->user = user;
		a->service = service;
		user = service = NULL;
		if ((r = lookup_user(a)) != 0)
			goto out;
		/* The Banner goes out with the reply to the first request. */
		banner = read_banner(a, &bannerlen);
	} else if (strcmp(a->user, user) != 0 ||
	    strcmp(a->service, service) != 0) {
		sanitise(su, sizeof(su), user);
		sanitise(ss, sizeof(ss), service);
		a->disconnect = 1;
		r = reply_put(reply, AUTH_DENIED,
		    "Change of username or service not allowed", NULL, NULL, 0);
		logit("Change of username or service not allowed: (%s,%s) -> "
		      "(%s,%s) [preauth]",
		    a->user, a->service, su, ss);
		goto out;
	}
	a->attempts++;
	a->detail[0] = '\0';
	if (strcmp(method, "publickey") == 0) {
		if ((r = auth_pubkey(a, sid, sidlen, m, extra, &verdict,
		         &postponed, fp, sizeof(fp), &opts)) != 0)
			goto out;
	} else if (strcmp(method, "none") != 0) {
		sanitise(sm, sizeof(sm), method);
		debug("userauth: unsupported method %s", sm);
	}
	if (verdict == AUTH_SUCCESS) {
		verdict = step_succeeded(a, method, fp[0] ? fp : NULL, opts);
		opts = NULL;
	}
	if (verdict == AUTH_SUCCESS) {
		a->authenticated = 1;
		snprintf(a->method, sizeof(a->method), "%s", method);
		auth_log(a, "Accepted", method, 1);
		r = reply_put(reply, AUTH_SUCCESS, "", NULL, banner, bannerlen);
		goto out;
	}
	methods_left(a, left, sizeof(left));
	if (verdict == AUTH_PARTIAL) {
		auth_log(a, "Partial", method, 0);
		r = reply_put(
		    reply, AUTH_PARTIAL, left, NULL, banner, bannerlen);
		goto out;
	}
	if (postponed) {
		auth_log(a, "Postponed", method, 0);
		r = reply_put(reply, AUTH_PK_OK, "", extra, banner, bannerlen);
		goto out;
	}
	if (strcmp(method, "none") != 0 || a->attempts > 1) {
		auth_log(a, "Failed", method, 0);
		a->failures++;
	}
	if (a->failures >= a->c->max_auth_tries) {
		sanitise(su, sizeof(su), a->user);
		error("maximum authentication attempts exceeded for %s%.100s "
		      "from %.200s port %d ssh2 [preauth]",
		    auth_invalid_prefix(a), su, ci->client_addr,
		    ci->client_port);
		a->disconnect = 1;
		r = reply_put(reply, AUTH_TOO_MANY, "", NULL, NULL, 0);
		goto out;
	}
	r = reply_put(reply, AUTH_FAILURE, left, NULL, banner, bannerlen);
out:
	authopts_free(opts);
	free(banner);
	free(user);
	free(service);
	free(method);
	buf_free(m);
	buf_free(extra);
	return r;
}
