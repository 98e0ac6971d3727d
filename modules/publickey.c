/*
 * publickey.so: the "publickey" method (RFC 4252 s7) against the user's
 * authorized_keys files, with every option they can carry. Runs in the
 * monitor; the signed data is rebuilt here from the monitor's session id.
 */
#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authkeys.h"
#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "modules/postern_module.h"
#include "sshkey.h"

#define SSH2_MSG_USERAUTH_REQUEST 50
#define SSH2_MSG_USERAUTH_PK_OK 60
#define PK_MAX_MESSAGE (256 * 1024)

static const char *const accepted_algs[] = {"ssh-ed25519",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-256", "rsa-sha2-512"};

static int
accepted_alg(const char *alg)
{
	size_t i;

	for (i = 0; i < sizeof(accepted_algs) / sizeof(accepted_algs[0]); i++)
		if (strcmp(alg, accepted_algs[i]) == 0)
			return 1;
	return 0;
}

static int
setting_yes(const struct pm_conn *c, const char *kw)
{
	const char *v = c->setting(c, kw, 0);

	return v != NULL && strcmp(v, "yes") == 0;
}

/*
 * 1 if key is listed in one of the user's authorized_keys files; *optsp
 * gets the matching line's options (from= and expiry-time already met).
 */
static int
key_authorized(
    const struct pm_conn *c, const struct sshkey *key, struct authopts **optsp)
{
	struct passwd pw;
	struct authkeys_query q;
	unsigned long line;
	const char *pattern;
	char *path;
	size_t i;
	int r;

	*optsp = NULL;
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = (char *)c->user;
	pw.pw_dir = (char *)c->home;
	pw.pw_uid = (uid_t)c->uid;
	pw.pw_gid = (gid_t)c->gid;
	for (i = 0; (pattern = c->setting(c, "authorizedkeysfile", i)) != NULL;
	     i++) {
		if (strcmp(pattern, "none") == 0)
			continue;
		if ((path = authkeys_expand_path(pattern, &pw)) == NULL)
			continue;
		memset(&q, 0, sizeof(q));
		q.pw = &pw;
		q.path = path;
		q.key = key;
		q.strict_modes = setting_yes(c, "strictmodes");
		q.remote_addr = c->client_addr;
		r = authkeys_find_opts(&q, &line, optsp);
		free(path);
		/* An invalid user takes the same path and never matches. */
		if (r == 0 && c->user_valid)
			return 1;
		authopts_free(*optsp);
		*optsp = NULL;
	}
	return 0;
}

/* The data a publickey signature covers (RFC 4252 s7). */
static int
signed_data(struct buf *d, const struct pm_conn *c, const char *alg,
    const uint8_t *blob, size_t bloblen)
{
	int r;

	if ((r = buf_put_string(d, c->session_id, c->session_id_len)) != 0 ||
	    (r = buf_put_u8(d, SSH2_MSG_USERAUTH_REQUEST)) != 0 ||
	    (r = buf_put_cstring(d, c->user)) != 0 ||
	    (r = buf_put_cstring(d, c->service)) != 0 ||
	    (r = buf_put_cstring(d, "publickey")) != 0 ||
	    (r = buf_put_bool(d, 1)) != 0 ||
	    (r = buf_put_cstring(d, alg)) != 0 ||
	    (r = buf_put_string(d, blob, bloblen)) != 0)
		return r;
	return 0;
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
	const uint8_t *blob, *sig = NULL;
	size_t bloblen, siglen = 0;
	struct buf *m = NULL, *out = NULL;
	struct sshkey *key = NULL;
	struct authopts *opts = NULL;
	char *alg = NULL, safe[128], fp[SSHKEY_FP_LEN];
	int has_sig, ok, r;

	res->verdict = PM_FAILURE;
	if ((m = buf_from(data, len)) == NULL ||
	    (out = buf_new(PK_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_bool(m, &has_sig)) != 0 ||
	    (r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &blob, &bloblen)) != 0 ||
	    (has_sig && (r = buf_get_string_direct(m, &sig, &siglen)) != 0) ||
	    (r = buf_end(m)) != 0) {
		error("userauth_pubkey: malformed request: %s", err_str(r));
		r = ERR_PROTOCOL;
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
	snprintf(res->detail, sizeof(res->detail), "%s %s",
	    sshkey_type_short(key), fp);
	snprintf(res->credential, sizeof(res->credential), "%s", fp);
	ok = key_authorized(c, key, &opts);
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
	if ((r = signed_data(out, c, alg, blob, bloblen)) != 0)
		goto out;
	if (ok &&
	    sshkey_verify(
	        key, sig, siglen, buf_ptr(out), buf_len(out), alg, 1024) == 0) {
		buf_reset(out);
		if ((r = authopts_serialize(opts, out)) != 0 ||
		    (r = give(out, &res->opts, &res->opts_len)) != 0)
			goto out;
		res->verdict = PM_SUCCESS;
	}
	r = 0;
out:
	authopts_free(opts);
	sshkey_free(key);
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
