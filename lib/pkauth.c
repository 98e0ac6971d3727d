/*
 * pkauth.c: the publickey method as OpenSSH's userauth_pubkey() judges
 * it (RFC 4252 s7, OpenSSH PROTOCOL s2.5 host-bound requests, PROTOCOL.u2f
 * security keys): the request parsed and re-checked, RevokedKeys, the
 * authorized_keys files and AuthorizedKeysCommand, the signature. Shared
 * by publickey.so and cert.so, which say where else a key may be found.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
#include "pkauth.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"

#define SSH2_MSG_USERAUTH_REQUEST 50
#define SSH2_MSG_USERAUTH_PK_OK 60
#define HOSTBOUND_METHOD "publickey-hostbound-v00@openssh.com"
#define PK_MIN_RSA_BITS 1024 /* OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE */
#define PKAUTH_KEYS_CMD_TOKENS "CDfhktUu"
#define PKAUTH_ALG_MAX 64

static void
pk_key_free(struct pk_key *uk)
{
	sshkey_free(uk->key);
	sshkey_sk_free(uk->sk);
	sshcert_free(uk->cert);
	memset(uk, 0, sizeof(*uk));
}

static int
implemented(const struct pk_ops *ops, const char *alg)
{
	size_t i;

	for (i = 0; i < ops->nalgs; i++)
		if (strcmp(alg, ops->algs[i]) == 0)
			return 1;
	return 0;
}

/* A setting, or NULL for an unset one or "none" in any case. */
const char *
pkauth_setting_file(const struct pm_conn *c, const char *kw)
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
	cf->trusted_ca = pkauth_setting_file(c, "trustedusercakeys");
	cf->revoked = pkauth_setting_file(c, "revokedkeys");
	cf->principals = pkauth_setting_file(c, "authorizedprincipalsfile");
	v = c->setting(c, "requiredrsasize", 0);
	bits = v != NULL ? strtol(v, NULL, 10) : 0;
	/* Above any key's size, it refuses every RSA key (as sshd). */
	cf->min_rsa_bits = bits <= PK_MIN_RSA_BITS ? PK_MIN_RSA_BITS
	    : bits < 1L << 20                      ? (unsigned)bits
	                                           : 1U << 20;
	v = c->setting(c, "pubkeyauthoptions", 0);
	cf->touch_required = v != NULL && strstr(v, "touch-required") != NULL;
	cf->verify_required = v != NULL && strstr(v, "verify-required") != NULL;
	v = c->setting(c, "strictmodes", 0);
	cf->strict_modes = v != NULL && strcmp(v, "yes") == 0;
}

/* The fake or real passwd entry the lookups read files as. */
void
pkauth_conn_pw(const struct pm_conn *c, struct passwd *pw)
{
	memset(pw, 0, sizeof(*pw));
	/* An invalid user's name never reaches a path (%u): OpenSSH's. */
	pw->pw_name = (char *)(c->user_valid ? c->user : "NOUSER");
	pw->pw_dir = (char *)c->home;
	pw->pw_uid = (uid_t)c->uid;
	pw->pw_gid = (gid_t)c->gid;
}

/* A key blob's type name, its first field (RFC 4253 s6.6). */
static int
blob_type(const uint8_t *blob, size_t len, char *out, size_t outlen)
{
	struct buf *b;
	int r;

	out[0] = '\0';
	if ((b = buf_from(blob, len)) == NULL)
		return ERR_ALLOC;
	r = buf_get_cstring_fixed(b, out, outlen);
	buf_free(b);
	return r;
}

/*
 * A DSA key: postern has none (and accepts no DSA algorithm), but sshd 9.2
 * decodes one, so that its request fails at the PubkeyAcceptedAlgorithms
 * check, not as a key that does not parse. Read as sshd reads it: p, q, g
 * and y, mpints that are not negative (any flaw "invalid format"), then
 * the end.
 */
static int
dsa_blob_parse(const uint8_t *blob, size_t len, struct pk_key *uk)
{
	const uint8_t *p;
	struct buf *b;
	size_t n;
	int i, r;

	if ((b = buf_from(blob, len)) == NULL)
		return ERR_ALLOC;
	r = buf_skip_string(b);
	for (i = 0; r == 0 && i < 4; i++)
		if (buf_get_mpint_direct(b, &p, &n) != 0)
			r = ERR_FORMAT;
	if (r == 0)
		r = buf_end(b);
	buf_free(b);
	if (r != 0)
		return r;
	uk->type = "DSA";
	return sshkey_fingerprint_blob(blob, len, uk->fp, sizeof(uk->fp));
}

/* Parse the key blob as its own type name says it is. */
static int
pk_key_parse(const uint8_t *blob, size_t len, struct pk_key *uk)
{
	char type[64];
	int r;

	memset(uk, 0, sizeof(*uk));
	uk->blob = blob;
	uk->bloblen = len;
	/*
	 * As sshd's sshkey_from_blob(): the blob's own type name says what
	 * it is, whatever the request's algorithm (which the caller holds
	 * against it: pk_key_alg_ok); a blob without one is "invalid
	 * format".
	 */
	if (blob_type(blob, len, type, sizeof(type)) != 0)
		return ERR_FORMAT;
	if (sshcert_is_cert_name(type)) {
		if ((r = sshcert_from_blob(blob, len, &uk->cert)) != 0)
			return r;
		uk->plain = uk->cert->key;
		uk->sk_plain = uk->cert->sk_key;
		uk->type = authcert_type_short(uk->cert);
		if ((r = sshcert_ca_fingerprint(
		         uk->cert, uk->ca_fp, sizeof(uk->ca_fp))) != 0)
			return r;
		if (uk->sk_plain != NULL)
			return sshkey_sk_fingerprint(
			    uk->sk_plain, uk->fp, sizeof(uk->fp));
		return sshkey_fingerprint(uk->plain, uk->fp, sizeof(uk->fp));
	}
	if (strcmp(type, "ssh-dss") == 0)
		return dsa_blob_parse(blob, len, uk);
	if (sshkey_sk_is_type_name(type)) {
		if ((r = sshkey_sk_from_blob(blob, len, &uk->sk)) != 0)
			return r;
		uk->sk_plain = uk->sk;
		uk->type = sshkey_sk_type_short(uk->sk);
		return sshkey_sk_fingerprint(uk->sk, uk->fp, sizeof(uk->fp));
	}
	if ((r = sshkey_from_blob(blob, len, &uk->key)) != 0)
		return r;
	uk->plain = uk->key;
	uk->type = sshkey_type_short(uk->key);
	return sshkey_fingerprint(uk->key, uk->fp, sizeof(uk->fp));
}

/*
 * 1 if sshd 9.2 knows alg as a key type (sshkey_type_from_name(): every
 * name it implements, DSA's too, but not XMSS, which Debian leaves out;
 * a plain type's short name in any case). Another is "unsupported".
 */
static int
sshd_knows_alg(const char *alg)
{
	static const char *const names[] = {"ssh-ed25519",
	    "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	    "sk-ecdsa-sha2-nistp256@openssh.com",
	    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss", "ssh-rsa",
	    "rsa-sha2-256", "rsa-sha2-512", "ssh-ed25519-cert-v01@openssh.com",
	    "sk-ssh-ed25519-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "ssh-dss-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
	    "rsa-sha2-256-cert-v01@openssh.com",
	    "rsa-sha2-512-cert-v01@openssh.com"};
	static const char *const shorts[] = {
	    "RSA", "DSA", "ECDSA", "ED25519", "ECDSA-SK", "ED25519-SK"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(alg, names[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		if (strcasecmp(alg, shorts[i]) == 0)
			return 1;
	return 0;
}

/* 1 if the request's algorithm fits the key it carries. */
static int
pk_key_alg_ok(const struct pk_key *uk, const char *alg)
{
	/* A plain key's short name is its type to sshd, which then finds
	 * it in no PubkeyAcceptedAlgorithms (ECDSA's names no curve). */
	if (uk->cert == NULL && strcasecmp(alg, "ECDSA") != 0 &&
	    strcasecmp(alg, uk->type) == 0)
		return 1;
	if (uk->cert != NULL)
		return sshcert_alg_ok(uk->cert, alg);
	if (uk->sk != NULL)
		return sshkey_sk_sig_alg_ok(uk->sk, alg);
	if (uk->key == NULL) /* DSA: dsa_blob_parse */
		return strcmp(alg, "ssh-dss") == 0;
	return sshkey_sig_alg_ok(uk->key, alg, 1);
}

int
pkauth_request_key(
    const struct buf *m, char *fp, size_t fplen, char *type, size_t typelen)
{
	struct buf tmp = *m;
	struct pk_key uk;
	const uint8_t *blob;
	char *alg = NULL;
	size_t bloblen;
	int has_sig, r;

	memset(&uk, 0, sizeof(uk));
	if ((r = buf_get_bool(&tmp, &has_sig)) != 0 ||
	    (r = buf_get_cstring(&tmp, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(&tmp, &blob, &bloblen)) != 0 ||
	    (r = pk_key_parse(blob, bloblen, &uk)) != 0)
		goto out;
	if (!pk_key_alg_ok(&uk, alg)) {
		r = ERR_BAD_KEY;
		goto out;
	}
	snprintf(fp, fplen, "%s", uk.fp);
	snprintf(type, typelen, "%s", uk.type);
out:
	pk_key_free(&uk);
	free(alg);
	return r;
}

/*
 * OpenSSH's auth_key_is_revoked(): 1 if RevokedKeys lists the key (for a
 * certificate: its key, its serial or ID, or its CA), or if the file
 * cannot be read or parsed, which refuses every key.
 */
int
pkauth_revoked(const struct pk_conf *cf, const struct pk_key *uk)
{
	struct krl *krl = NULL;
	struct buf *b = NULL;
	char why[PKAUTH_LOG_MAX];
	int r;

	if (cf->revoked == NULL)
		return 0;
	if ((r = krl_load(cf->revoked, &krl)) != 0) {
		/* A KRL cut short: ssh_err()'s words, as sshd. */
		snprintf(why, sizeof(why), "%s",
		    r == ERR_SYSTEM      ? strerror(errno)
		        : r == ERR_SHORT ? err_sshd_words(r)
		                         : err_str(r));
		error("Error checking authentication key %s %s in revoked "
		      "keys file %s: %s",
		    uk->type, uk->fp, cf->revoked, why);
		return 1;
	}
	if (uk->sk != NULL) {
		if ((b = buf_new(PKAUTH_MAX_MESSAGE)) == NULL)
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

/*
 * AUTHOPTS_LOG_* for the "key options:" lines of this login (sshd shows
 * environment= only where PermitUserEnvironment allows it, permitopen=
 * and permitlisten= only where AllowTcpForwarding does), told to the
 * client as well.
 */
unsigned
pkauth_log_flags(const struct pm_conn *c)
{
	unsigned flags = AUTHOPTS_LOG_REMOTE;
	const char *v;

	if ((v = c->setting(c, "permituserenvironment", 0)) != NULL &&
	    strcmp(v, "no") != 0)
		flags |= AUTHOPTS_LOG_ENV;
	if ((v = c->setting(c, "allowtcpforwarding", 0)) == NULL)
		v = "yes"; /* sshd's default */
	if (strcmp(v, "yes") == 0 || strcmp(v, "local") == 0)
		flags |= AUTHOPTS_LOG_OPEN;
	if (strcmp(v, "yes") == 0 || strcmp(v, "remote") == 0)
		flags |= AUTHOPTS_LOG_LISTEN;
	return flags;
}

/* What an authorized_keys line must name: the key, or a certificate's
 * CA on a cert-authority line that ca_check accepts. */
static void
query_key(struct authkeys_query *q, const struct pk_key *uk,
    int (*ca_check)(
        void *, const struct authopts *, const char *, struct authopts **),
    void *ca_arg)
{
	if (uk->cert != NULL) {
		q->key = uk->cert->ca_key;
		q->sk_key = uk->cert->ca_sk;
		q->want_ca = 1;
		q->ca_check = ca_check;
		q->ca_arg = ca_arg;
	} else if (uk->sk != NULL)
		q->sk_key = uk->sk;
	else
		q->key = uk->key;
}

/*
 * The user's authorized_keys files: the key itself on a plain line, or
 * for a certificate its CA on a cert-authority line. 1 and *optsp (the
 * options to apply) if one allows it; origin gets its "FILE:LINE".
 */
int
pkauth_authorized_keys(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk,
    int (*ca_check)(
        void *, const struct authopts *, const char *, struct authopts **),
    void *ca_arg, struct authopts **optsp, char *origin, size_t originlen)
{
	struct passwd pw;
	struct authkeys_query q;
	const char *pattern;
	char *path;
	unsigned long line = 0;
	unsigned log_flags;
	size_t i;
	int r;

	*optsp = NULL;
	pkauth_conn_pw(c, &pw);
	log_flags = pkauth_log_flags(c);
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
		q.remote_host = c->client_host;
		q.log_flags = log_flags;
		query_key(&q, uk, ca_check, ca_arg);
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

/* The tokens every command takes: %C %D %h %U %u, and the key's. */
void
pkauth_cmd_tokens(const struct pm_conn *c, const struct pk_key *uk,
    const char *key_b64, char *uid, size_t uidlen, struct authcmd_tokens *tk)
{
	memset(tk, 0, sizeof(*tk));
	snprintf(uid, uidlen, "%lu", c->uid);
	tk->v['C'] = c->setting(c, "connection", 0);
	tk->v['D'] = c->setting(c, "rdomain", 0);
	if (tk->v['D'] == NULL)
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

/*
 * OpenSSH's user_key_command_allowed2(): AuthorizedKeysCommand's output
 * read as an authorized_keys file. 1 and *optsp if a line allows the key.
 */
int
pkauth_keys_command(const struct pm_conn *c, const struct pk_key *uk,
    int (*ca_check)(
        void *, const struct authopts *, const char *, struct authopts **),
    void *ca_arg, struct authopts **optsp, char *origin, size_t originlen)
{
	struct authkeys_query q;
	struct passwd pw;
	struct authcmd cr;
	struct authcmd_tokens tk;
	const char *cmdline;
	char uid[32], *k64 = NULL, *out = NULL;
	unsigned long line = 0;
	size_t len;
	FILE *f;
	int ok = 0;

	*optsp = NULL;
	if ((cmdline = pkauth_setting_file(c, "authorizedkeyscommand")) == NULL)
		return 0;
	if (!c->user_valid) {
		/* As sshd: never for an unknown user; the monitor stands in
		 * for its time. */
		authcmd_note_skipped();
		return 0;
	}
	memset(&cr, 0, sizeof(cr));
	cr.tag = "AuthorizedKeysCommand";
	if ((k64 = authcmd_base64(uk->blob, uk->bloblen)) == NULL)
		return 0;
	pkauth_cmd_tokens(c, uk, k64, uid, sizeof(uid), &tk);
	if (authcmd_run(&cr, cmdline,
	        c->setting(c, "authorizedkeyscommanduser", 0), &tk,
	        PKAUTH_KEYS_CMD_TOKENS, c->user, &out, &len) != 0 ||
	    len == 0 || (f = fmemopen(out, len, "r")) == NULL)
		goto out;
	pkauth_conn_pw(c, &pw);
	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.path = cmdline;
	q.remote_addr = c->client_addr;
	q.remote_host = c->client_host;
	q.log_flags = pkauth_log_flags(c);
	query_key(&q, uk, ca_check, ca_arg);
	if (authkeys_find_stream(&q, f, cmdline, &line, optsp) == 0) {
		snprintf(origin, originlen, "%s:%lu", cmdline, line);
		ok = 1;
	}
	fclose(f);
out:
	authcmd_free(&cr);
	free(k64);
	free(out);
	return ok;
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
	    (r = buf_put_cstring(
	         d, c->wire_user != NULL ? c->wire_user : c->user)) != 0 ||
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
    const struct pk_key *uk, const struct authopts *opts, uint8_t flags)
{
	const char *reason = NULL;
	int touch, verify;

	touch = cf->touch_required || opts == NULL ||
	    !opts->no_require_user_presence;
	verify = cf->verify_required || (opts != NULL && opts->require_verify);
	if (sshkey_sk_check_flags(flags, touch, 0, &reason) == 0 &&
	    sshkey_sk_check_flags(flags, 0, verify, &reason) == 0)
		return 1;
	error_preauth(SSHKEY_SK_REJECT_FMT, uk->type, uk->fp,
	    c->user_valid ? "" : "invalid user ", c->user, c->client_addr,
	    c->client_port, reason);
	return 0;
}

/* Verify the signature; 1 if it is good (and, for sk keys, its flags). */
static int
signature_ok(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk, const struct authopts *opts, const char *alg,
    const uint8_t *sig, size_t siglen, const struct buf *data,
    struct pm_result *res)
{
	char sigalg[PKAUTH_ALG_MAX];
	size_t n;
	uint32_t counter;
	uint8_t flags;

	if (uk->sk_plain != NULL) {
		if (sshkey_sk_verify(uk->sk_plain, sig, siglen, buf_ptr(data),
		        buf_len(data), &flags, &counter) != 0)
			return 0;
		debug("userauth_pubkey: sk_counter = %" PRIu32
		      ", sk_flags = 0x%02x",
		    counter, flags);
		/* OpenSSH's log lines carry the counter from here on. */
		/* detail_long (ABI 3) has room for a certificate's too. */
		n = strlen(res->detail_long);
		snprintf(res->detail_long + n, sizeof(res->detail_long) - n,
		    ", signature count = %" PRIu32, counter);
		return sk_flags_ok(c, cf, uk, opts, flags);
	}
	/* A certificate's request names the signature indirectly. */
	if (uk->cert != NULL) {
		if (sshkey_sig_type(sig, siglen, sigalg, sizeof(sigalg)) != 0 ||
		    !sshcert_sig_alg_ok(alg, sigalg))
			return 0;
		alg = sigalg;
	}
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
precheck(const struct pk_ops *ops, const struct pk_conf *cf,
    const struct pk_key *uk, const char *alg)
{
	char name[64];

	if (!pk_key_alg_ok(uk, alg)) {
		/* The blob's own type name, as sshd's sshkey_ssh_name(). */
		(void)blob_type(uk->blob, uk->bloblen, name, sizeof(name));
		error_preauth("userauth_pubkey: key type mismatch for decoded "
		              "key (received %s, expected %.255s)",
		    name, alg);
		return 0;
	}
	/* A DSA key (no plain key: dsa_blob_parse) is never accepted. */
	if (match_pattern_list(alg, cf->accepted, 0) != 1 ||
	    !implemented(ops, alg) ||
	    (uk->plain == NULL && uk->sk_plain == NULL)) {
		logit_preauth("userauth_pubkey: signature algorithm %.255s not "
		              "in PubkeyAcceptedAlgorithms",
		    alg);
		return 0;
	}
	if (uk->cert != NULL &&
	    sshcert_check_ca_sig_alg(uk->cert, cf->ca_algs) != 0) {
		logit_preauth(
		    "userauth_pubkey: certificate signature algorithm "
		    "%.255s: signature algorithm not supported",
		    uk->cert->ca_sig_alg);
		return 0;
	}
	if (uk->plain != NULL && sshkey_type(uk->plain) == KEY_RSA &&
	    sshkey_bits(uk->plain) < cf->min_rsa_bits) {
		logit_preauth("refusing %s key: Invalid key length", uk->type);
		return 0;
	}
	return 1;
}

int
pkauth_request(const struct pm_conn *c, const uint8_t *data, size_t len,
    struct pm_result *res, const struct pk_ops *ops)
{
	const uint8_t *blob, *sig = NULL, *hostkey = NULL;
	size_t bloblen, siglen = 0, hostkeylen = 0;
	struct buf *m = NULL, *out = NULL;
	struct pk_key uk;
	/* The monitor checked the host key of a host-bound request. */
	int hostbound =
	    c->method != NULL && strcmp(c->method, HOSTBOUND_METHOD) == 0;
	struct pk_conf cf;
	struct authopts *opts = NULL;
	char *alg = NULL;
	int has_sig, ok, r;

	memset(&uk, 0, sizeof(uk));
	res->verdict = PM_FAILURE;
	if ((m = buf_from(data, len)) == NULL ||
	    (out = buf_new(PKAUTH_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_bool(m, &has_sig)) != 0 ||
	    (r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &blob, &bloblen)) != 0 ||
	    (hostbound &&
	        (r = buf_get_string_direct(m, &hostkey, &hostkeylen)) != 0)) {
		error("userauth_pubkey: malformed request: %s", err_str(r));
		r = ERR_PROTOCOL;
		goto out;
	}
	if (sshcert_is_cert_name(alg) != ops->certs) {
		/* The monitor sends certificates to cert.so (key_algs). */
		logit_preauth(
		    "userauth_pubkey: %.255s keys are not this module's: %s",
		    alg,
		    ops->certs ? "not a certificate"
		               : "cert.so judges certificates");
		res->unjudged = 1;
		r = 0;
		goto out;
	}
	if (!sshd_knows_alg(alg)) {
		log_msg_preauth(LL_VERBOSE,
		    "userauth_pubkey: unsupported public key algorithm: %.255s",
		    alg);
		res->unjudged = 1;
		r = 0;
		goto out;
	}
	if ((r = pk_key_parse(blob, bloblen, &uk)) != 0) {
		error_preauth(
		    "userauth_pubkey: parse key: %s", err_sshd_words(r));
		res->unjudged = 1;
		r = 0;
		goto out;
	}
	read_conf(c, &cf);
	if (uk.cert != NULL)
		authcert_describe(
		    uk.cert, res->detail_long, sizeof(res->detail_long));
	else
		snprintf(res->detail_long, sizeof(res->detail_long), "%s %s",
		    uk.type, uk.fp);
	/* The key, not the certificate: "publickey,publickey" needs two. */
	snprintf(res->credential, sizeof(res->credential), "%s", uk.fp);
	if (!precheck(ops, &cf, &uk, alg)) {
		/* Refused where sshd's preauth process refuses it. */
		res->unjudged = 1;
		r = 0;
		goto out;
	}
	/*
	 * As sshd, the rest is read once the key has passed those checks:
	 * a rest cut short or followed by more bytes ends the connection
	 * (ERR_PROTOCOL: the monitor logs sshd's words for it).
	 */
	if ((has_sig && (r = buf_get_string_direct(m, &sig, &siglen)) != 0) ||
	    (r = buf_end(m)) != 0) {
		r = ERR_PROTOCOL;
		goto out;
	}
	ok = ops->allowed(c, &cf, &uk, &opts, res->origin, sizeof(res->origin));
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
	} else if (ok)
		res->sig_refused = 1; /* ABI 8 */
	r = 0;
out:
	authopts_free(opts);
	pk_key_free(&uk);
	free(alg);
	buf_free(m);
	buf_free(out);
	return r;
}
