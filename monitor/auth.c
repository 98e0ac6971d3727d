/*
 * auth.c: userauth decisions, made only in the monitor (RFC 4252). The
 * preauth process relays requests; everything here re-parses them and
 * treats them as hostile. Invalid users take the same path as valid ones.
 */
#include <sys/types.h>

#include <sys/stat.h>

#include <pwd.h>
#include <shadow.h>
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
#include "sshkey.h"
#include "transport.h"

#define AUTH_METHODS_OFFERED "publickey"

void
auth_init(struct authctxt *a)
{
	memset(a, 0, sizeof(*a));
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

/* Look the user up once; invalid users get a fake entry (same path). */
static int
lookup_user(struct authctxt *a, const struct conn_info *ci)
{
	struct passwd *pw;
	char safe[256];
	int refused = 0;

	pw = getpwnam(a->user);
	/* Not running as root: we can serve only ourselves. */
	if (pw != NULL && getuid() != 0 && pw->pw_uid != getuid())
		pw = NULL;
	/* A refused account goes on as an invalid one, without that line. */
	if (pw != NULL && !account_allowed(pw)) {
		refused = 1;
		pw = NULL;
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

/* OpenSSH's auth_log(): which level, and the exact wording. */
static void
auth_log(struct authctxt *a, const struct server_config *c,
    const struct conn_info *ci, const char *verdict, const char *method,
    int authenticated)
{
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

/* 1 if key is listed in one of the user's authorized_keys files. */
static int
key_authorized(
    struct authctxt *a, const struct server_config *c, const struct sshkey *key)
{
	unsigned long line;
	size_t i;
	char *path;
	int r;

	for (i = 0; i < c->nauthorized_keys_files; i++) {
		if (strcmp(c->authorized_keys_files[i], "none") == 0)
			continue;
		if ((path = authkeys_expand_path(
		         c->authorized_keys_files[i], &a->pw)) == NULL)
			continue;
		r = authkeys_find(&a->pw, path, key, c->strict_modes, &line);
		if (r == 0 && a->valid) {
			free(path);
			return 1;
		}
		free(path);
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

static int
reply_put(struct buf *reply, uint32_t verdict, const char *methods,
    const struct buf *extra)
{
	int r;

	if ((r = buf_put_u32(reply, verdict)) != 0 ||
	    (r = buf_put_cstring(reply, methods)) != 0)
		return r;
	return extra ? buf_put_stringb(reply, extra)
	             : buf_put_string(reply, NULL, 0);
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

/*
 * publickey: returns the verdict. A query (no signature) gives PK_OK for
 * an authorized key; a signed request must verify over data the monitor
 * builds itself from its own session id.
 */
static int
auth_pubkey(struct authctxt *a, const struct server_config *c,
    const struct conn_info *ci, const uint8_t *sid, size_t sidlen,
    struct buf *m, struct buf *extra, int *verdict, int *postponed)
{
	const uint8_t *blob, *sig = NULL;
	size_t bloblen, siglen = 0;
	struct sshkey *key = NULL;
	struct buf *data = NULL;
	char *alg = NULL, fp[SSHKEY_FP_LEN], safe[128];
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
	if (!c->pubkey_authentication) {
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
	if (sshkey_fingerprint(key, fp, sizeof(fp)) != 0)
		snprintf(fp, sizeof(fp), "(unknown)");
	snprintf(
	    a->detail, sizeof(a->detail), "%s %s", sshkey_type_short(key), fp);
	ok = key_authorized(a, c, key);
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
	    sshkey_verify(
	        key, sig, siglen, buf_ptr(data), buf_len(data), alg, 1024) == 0)
		*verdict = AUTH_SUCCESS;
	r = 0;
out:
	buf_free(data);
	sshkey_free(key);
	free(alg);
	return r;
}

int
auth_request(struct authctxt *a, const struct server_config *c,
    const struct conn_info *ci, const uint8_t *sid, size_t sidlen,
    struct buf *req, struct buf *reply)
{
	char *user = NULL, *service = NULL, *method = NULL;
	char su[128], ss[64], sm[64];
	struct buf *m = NULL, *extra = NULL;
	int verdict = AUTH_FAILURE, postponed = 0, r;

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
			r = reply_put(
			    reply, AUTH_DENIED, "bad service request", NULL);
			logit("userauth: unsupported service %s", ss);
			goto out;
		}
		a->user = user;
		a->service = service;
		user = service = NULL;
		if ((r = lookup_user(a, ci)) != 0)
			goto out;
	} else if (strcmp(a->user, user) != 0 ||
	    strcmp(a->service, service) != 0) {
		sanitise(su, sizeof(su), user);
		sanitise(ss, sizeof(ss), service);
		a->disconnect = 1;
		r = reply_put(reply, AUTH_DENIED,
		    "Change of username or service not allowed", NULL);
		logit("Change of username or service not allowed: (%s,%s) -> "
		      "(%s,%s) [preauth]",
		    a->user, a->service, su, ss);
		goto out;
	}
	a->attempts++;
	a->detail[0] = '\0';
	if (strcmp(method, "publickey") == 0) {
		if ((r = auth_pubkey(a, c, ci, sid, sidlen, m, extra, &verdict,
		         &postponed)) != 0)
			goto out;
	} else if (strcmp(method, "none") != 0) {
		sanitise(sm, sizeof(sm), method);
		debug("userauth: unsupported method %s", sm);
	}
	if (verdict == AUTH_SUCCESS) {
		a->authenticated = 1;
		snprintf(a->method, sizeof(a->method), "%s", method);
		auth_log(a, c, ci, "Accepted", method, 1);
		r = reply_put(reply, AUTH_SUCCESS, "", NULL);
		goto out;
	}
	if (postponed) {
		auth_log(a, c, ci, "Postponed", method, 0);
		r = reply_put(reply, AUTH_PK_OK, "", extra);
		goto out;
	}
	if (strcmp(method, "none") != 0 || a->attempts > 1) {
		auth_log(a, c, ci, "Failed", method, 0);
		a->failures++;
	}
	if (a->failures >= c->max_auth_tries) {
		sanitise(su, sizeof(su), a->user);
		error("maximum authentication attempts exceeded for %s%.100s "
		      "from %.200s port %d ssh2 [preauth]",
		    auth_invalid_prefix(a), su, ci->client_addr,
		    ci->client_port);
		a->disconnect = 1;
		r = reply_put(reply, AUTH_TOO_MANY, "", NULL);
		goto out;
	}
	r = reply_put(reply, AUTH_FAILURE, AUTH_METHODS_OFFERED, NULL);
out:
	free(user);
	free(service);
	free(method);
	buf_free(m);
	buf_free(extra);
	return r;
}
