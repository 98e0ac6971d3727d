/*
 * cert.so: the publickey method for OpenSSH user certificates
 * (PROTOCOL.certkeys), *-cert-v01@openssh.com, judged as OpenSSH's sshd
 * judges them: RevokedKeys (the key, serial, ID or CA), cert-authority
 * lines of authorized_keys (principals=), TrustedUserCAKeys with
 * AuthorizedPrincipalsFile and AuthorizedPrincipalsCommand, validity,
 * the critical options and extensions, CASignatureAlgorithms. The
 * monitor hands it every request whose algorithm is a certificate's
 * (key_algs); the request and signature machinery is lib/pkauth.c.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authcert.h"
#include "authdebug.h"
#include "authkeys.h"
#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "pkauth.h"
#include "sshcert.h"
#include "sshkey.h"

#define PK_PRINCIPALS_CMD_TOKENS "CDFfhiKksTtUu"

/* Request algorithms this module verifies. */
static const char *const cert_algs[] = {"ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"};

/* What the cert-authority line check needs (authkeys_query.ca_check). */
struct ca_line_ctx {
	const struct pm_conn *c;
	const struct pk_key *uk;
	time_t now;
	unsigned log_flags; /* pkauth_log_flags() */
};

/* OpenSSH's refusal for a certificate used from outside source-address;
 * the client is told too (with AUTHOPTS_LOG_REMOTE in log_flags). */
static int
cert_source_ok(const struct pm_conn *c, const struct sshcert *cert,
    const char *loc, unsigned log_flags)
{
	if (sshcert_check_source(cert, c->client_addr))
		return 1;
	logit("%s: Authentication tried for %.100s with valid certificate but "
	      "not from a permitted source address (%.200s).",
	    loc, c->user, c->client_addr);
	if (log_flags & AUTHOPTS_LOG_REMOTE)
		authdebug_add("%s: Your address '%.200s' is not permitted to "
		              "use this certificate for login.",
		    loc, c->client_addr);
	return 0;
}

/* sshd's fail_reason: the reason logged, and told to the client. */
static void
cert_refused(const char *reason, unsigned log_flags)
{
	error("%s", reason);
	if (log_flags & AUTHOPTS_LOG_REMOTE)
		authdebug_add("%s", reason);
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
	char ca_fp[SSHKEY_FP_LEN];

	*optsp = NULL;
	if (authcert_opts(cert, &certopts) != 0) {
		reason = "Invalid certificate options";
		goto fail;
	}
	if (!cert_source_ok(x->c, cert, loc, x->log_flags)) {
		reason = "Refused by certificate options";
		goto fail;
	}
	/* As sshd: the certificate's options are told once they pass (the
	 * line's were, in check_line), whatever is refused after. */
	authopts_log(certopts, loc, x->log_flags);
	if ((final = authopts_merge_why(line, certopts, &reason)) == NULL) {
		if (reason == NULL)
			reason = "out of memory";
		goto fail;
	}
	if (line->principals != NULL &&
	    !sshcert_principal_in_list(cert, line->principals)) {
		reason = SSHCERT_R_NO_AUTH_PRINCIPAL;
		goto fail;
	}
	if (sshcert_check_user(cert,
	        line->principals == NULL ? x->c->user : NULL, x->now,
	        &reason) != 0)
		goto fail;
	/* As sshd 9.2's auth2-pubkeyfile.c: in SHA-256 whatever
	 * FingerprintHash says. */
	if (sshcert_ca_fingerprint_sha256(cert, ca_fp, sizeof(ca_fp)) != 0) {
		reason = "out of memory";
		goto fail;
	}
	verbose("Accepted certificate ID \"%s\" (serial %" PRIu64 ") "
	        "signed by CA %s %s found at %s",
	    cert->key_id, cert->serial, sshcert_ca_type_short(cert), ca_fp,
	    loc);
	authopts_free(certopts);
	*optsp = final;
	return 0;
fail:
	cert_refused(reason, x->log_flags);
	authopts_free(certopts);
	authopts_free(final);
	return -1;
}

/* OpenSSH's auth_authorise_keyopts() for a principals entry's options. */
static int
principal_opts_ok(const struct pm_conn *c, const struct authopts *o,
    const char *loc, unsigned log_flags)
{
	return authopts_authorise(o, time(NULL), 0, c->user,
	           c->client_host != NULL ? c->client_host : c->client_addr,
	           c->client_addr, loc, log_flags) == 0;
}

/*
 * AuthorizedPrincipalsCommand for a certificate through TrustedUserCAKeys:
 * 0 and *optsp when its output names one of the certificate's principals.
 */
static int
principals_command_find(const struct pm_conn *c, const struct pk_key *uk,
    const char *cmdline, char *origin, size_t originlen,
    struct authopts **optsp)
{
	struct authcmd cr;
	struct authcmd_tokens tk;
	struct buf *b = NULL;
	const struct sshcert *cert = uk->cert;
	char uid[32], serial[32], *k64 = NULL, *ca64 = NULL, *out = NULL;
	unsigned long line = 0;
	size_t len;
	FILE *f;
	int r = ERR_NOT_FOUND;

	*optsp = NULL;
	memset(&cr, 0, sizeof(cr));
	cr.tag = "AuthorizedPrincipalsCommand";
	if ((b = buf_new(PKAUTH_MAX_MESSAGE)) == NULL ||
	    sshcert_ca_to_blob(cert, b) != 0 ||
	    (ca64 = authcmd_base64(buf_ptr(b), buf_len(b))) == NULL ||
	    (k64 = authcmd_base64(uk->blob, uk->bloblen)) == NULL)
		goto out;
	pkauth_cmd_tokens(c, uk, k64, uid, sizeof(uid), &tk);
	snprintf(serial, sizeof(serial), "%" PRIu64, cert->serial);
	tk.v['F'] = uk->ca_fp;
	tk.v['i'] = cert->key_id != NULL ? cert->key_id : "";
	tk.v['K'] = ca64;
	tk.v['s'] = serial;
	tk.v['T'] = sshcert_ca_type_name(cert);
	if (authcmd_run(&cr, cmdline,
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
	authcmd_free(&cr);
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
    const struct pk_key *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	unsigned long line = 0;
	unsigned log_flags;
	const struct sshcert *cert = uk->cert;
	struct authopts *popts = NULL, *certopts = NULL, *final = NULL;
	struct passwd pw;
	const char *reason = NULL;
	const char *pcmd;
	char *pfile = NULL, cmd_origin[512];
	int r, ok = 0, found = 0;

	*optsp = NULL;
	if (cf->trusted_ca == NULL)
		return 0;
	if ((r = authcert_ca_listed(
	         cf->trusted_ca, cert->ca_key, cert->ca_sk)) != 0) {
		debug2("CA %s %s is not listed in %s: %s",
		    sshcert_ca_type_short(cert), uk->ca_fp, cf->trusted_ca,
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
		return 0;
	}
	pcmd = pkauth_setting_file(c, "authorizedprincipalscommand");
	/*
	 * As sshd, whose monitor never looks an unknown user's key up: no
	 * principals, validity or options are judged, and nothing is logged
	 * (an "Accepted certificate" line for an invalid user, or the
	 * reasons its certificate would be refused).
	 */
	if (!c->user_valid) {
		if (pcmd != NULL)
			authcmd_note_skipped();
		return 0;
	}
	log_flags = pkauth_log_flags(c);
	pkauth_conn_pw(c, &pw);
	if (cf->principals != NULL) {
		if ((pfile = authkeys_expand_path(cf->principals, &pw)) == NULL)
			goto out;
		if (authkeys_find_principal(
		        &pw, pfile, cf->strict_modes, cert, &line, &popts) == 0)
			found = 1;
	}
	/* As sshd: the command is asked when the file names none. */
	if (!found && pcmd != NULL &&
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
	if (!cert_source_ok(c, cert, "cert", log_flags)) {
		reason = "Refused by certificate options";
		goto fail;
	}
	/* The certificate's own options, as sshd names them. */
	authopts_log(certopts, "cert", log_flags);
	if (popts != NULL) {
		if (!principal_opts_ok(c, popts, "principals", log_flags)) {
			reason = "Refused by certificate principals options";
			goto fail;
		}
		authopts_log(popts, "principals", log_flags);
		if ((final = authopts_merge_why(popts, certopts, &reason)) ==
		    NULL) {
			if (reason == NULL)
				reason = "out of memory";
			goto fail;
		}
	} else {
		final = certopts;
		certopts = NULL;
	}
	verbose("Accepted certificate ID \"%s\" (serial %" PRIu64 ") "
	        "signed by %s CA %s via %s",
	    cert->key_id, cert->serial, sshcert_ca_type_short(cert), uk->ca_fp,
	    cf->trusted_ca);
	*optsp = final;
	final = NULL;
	ok = 1;
	if (found == 2)
		snprintf(origin, originlen, "%.500s", cmd_origin);
	else if (found == 1)
		snprintf(origin, originlen, "%s:%lu", pfile, line);
	else
		snprintf(origin, originlen, "%s", cf->trusted_ca);
	goto out;
fail:
	cert_refused(reason, log_flags);
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
 * OpenSSH's user_key_allowed() for a certificate: RevokedKeys, then
 * cert-authority lines of the AuthorizedKeysFile files, TrustedUserCAKeys,
 * and cert-authority lines of AuthorizedKeysCommand's output.
 */
static int
cert_allowed(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	struct ca_line_ctx x;

	*optsp = NULL;
	if (pkauth_revoked(cf, uk))
		return 0;
	x.c = c;
	x.uk = uk;
	x.now = time(NULL);
	x.log_flags = pkauth_log_flags(c);
	if (pkauth_authorized_keys(
	        c, cf, uk, ca_line_check, &x, optsp, origin, originlen))
		return 1;
	if (trusted_ca_allow(c, cf, uk, optsp, origin, originlen))
		return 1;
	return pkauth_keys_command(
	    c, uk, ca_line_check, &x, optsp, origin, originlen);
}

static const struct pk_ops cert_ops = {
    .algs = cert_algs,
    .nalgs = sizeof(cert_algs) / sizeof(cert_algs[0]),
    .certs = 1,
    .allowed = cert_allowed,
};

static int
cert_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	return pkauth_request(c, data, len, res, &cert_ops);
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "publickey",
    .request = cert_request,
    .key_algs = "*-cert-v01@openssh.com",
};
