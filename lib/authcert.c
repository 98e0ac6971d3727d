/*
 * authcert.c: a verified user certificate as sshd applies it: its options,
 * whether its CA is trusted (TrustedUserCAKeys), its description in logs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcert.h"
#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"

/* A key ID longer than this is cut in log lines anyway. */
#define KEY_ID_LOG_MAX 256

int
authcert_opts(const struct sshcert *cert, struct authopts **optsp)
{
	struct authopts *o;
	size_t i;
	int r;

	*optsp = NULL;
	if (cert->options_error != NULL) {
		error("%s", cert->options_error);
		return ERR_FORMAT;
	}
	for (i = 0; i < cert->nunknown_exts; i++)
		logit("Certificate extension \"%s\" is not supported",
		    cert->unknown_exts[i]);
	if ((o = authopts_new(0)) == NULL)
		return ERR_ALLOC;
	o->permit_x11_forwarding = (cert->flags & SSHCERT_PERMIT_X11) != 0;
	o->permit_agent_forwarding = (cert->flags & SSHCERT_PERMIT_AGENT) != 0;
	o->permit_port_forwarding =
	    (cert->flags & SSHCERT_PERMIT_PORT_FWD) != 0;
	o->permit_pty = (cert->flags & SSHCERT_PERMIT_PTY) != 0;
	o->permit_user_rc = (cert->flags & SSHCERT_PERMIT_USER_RC) != 0;
	o->no_require_user_presence =
	    (cert->flags & SSHCERT_NO_TOUCH_REQUIRED) != 0;
	o->require_verify = (cert->flags & SSHCERT_VERIFY_REQUIRED) != 0;
	if (cert->force_command != NULL &&
	    (o->force_command = strdup(cert->force_command)) == NULL) {
		r = ERR_ALLOC;
		goto fail;
	}
	if (cert->source_address != NULL &&
	    (r = authopts_add_source_address(o, cert->source_address)) != 0) {
		if (r == ERR_FORMAT)
			error("Certificate source-address contents invalid");
		goto fail;
	}
	*optsp = o;
	return 0;
fail:
	authopts_free(o);
	return r;
}

/*
 * Whether sshd would skip a line that postern cannot read as a key: a key
 * of a type postern does not read (DSA), a certificate
 * (never equal to a plain CA key), an RSA key of a size sshd refuses
 * (r ERR_BAD_KEY). Anything else is no key, where sshd stops.
 */
static int
skipped_line(const char *cp, int r)
{
	static const char cert_suffix[] = "-cert-v01@openssh.com";
	char name[64];
	size_t n = strcspn(cp, " \t\r\n"), sl = sizeof(cert_suffix) - 1;

	if (n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, cp, n);
	name[n] = '\0';
	return (r == ERR_BAD_KEY && strcmp(name, "ssh-rsa") == 0) ||
	    strcmp(name, "ssh-dss") == 0 ||
	    (n > sl && strcmp(name + n - sl, cert_suffix) == 0);
}

/*
 * One key of a TrustedUserCAKeys line: 1 if it is the CA (ca, or the FIDO
 * ca_sk), 0 if not, or parse_public_text's error.
 */
static int
line_is_ca(
    const char *cp, const struct sshkey *ca, const struct sshkey_sk *ca_sk)
{
	struct sshkey *k = NULL;
	struct sshkey_sk *sk = NULL;
	char name[64];
	size_t n = strcspn(cp, " \t\r\n");
	int r;

	if (n < sizeof(name)) {
		memcpy(name, cp, n);
		name[n] = '\0';
		if (sshkey_sk_is_type_name(name)) {
			if ((r = sshkey_sk_parse_public_text(cp, &sk, NULL)) !=
			    0)
				return r;
			r = ca_sk != NULL && sshkey_sk_equal_public(sk, ca_sk);
			sshkey_sk_free(sk);
			return r;
		}
	}
	if ((r = sshkey_parse_public_text(cp, &k, NULL)) != 0)
		return r;
	r = ca != NULL && sshkey_equal_public(k, ca);
	sshkey_free(k);
	return r;
}

int
authcert_ca_listed(
    const char *path, const struct sshkey *ca, const struct sshkey_sk *ca_sk)
{
	FILE *f;
	char *line = NULL, *cp;
	size_t cap = 0, total = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int r = ERR_NOT_FOUND, pr, saved;

	if ((f = fopen(path, "re")) == NULL)
		return ERR_SYSTEM;
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((total += (size_t)n) > AUTHCERT_CA_FILE_MAX) {
			r = ERR_TOO_BIG;
			break;
		}
		cp = line + strspn(line, " \t");
		if (*cp == '#' || *cp == '\0' || *cp == '\n' || *cp == '\r')
			continue;
		if ((pr = line_is_ca(cp, ca, ca_sk)) < 0) {
			/* Where sshd stops, no CA of the file is trusted. */
			if (skipped_line(cp, pr)) {
				debug2_f("%s line %lu: no key postern reads, "
				         "skipped",
				    path, lineno);
				continue;
			}
			r = pr == ERR_ALLOC ? pr : ERR_FORMAT;
			if (r == ERR_FORMAT)
				error("%s line %lu: not a public key: no CA "
				      "of this file is trusted",
				    path, lineno);
			break;
		}
		if (pr == 1) {
			r = 0;
			break;
		}
	}
	saved = errno;
	if (r == ERR_NOT_FOUND && ferror(f)) {
		r = ERR_SYSTEM;
		errno = saved;
	}
	free(line);
	fclose(f);
	return r;
}

const char *
authcert_type_short(const struct sshcert *cert)
{
	if (cert->sk_key != NULL)
		return strcmp(sshkey_sk_type_short(cert->sk_key),
		           "ED25519-SK") == 0
		    ? "ED25519-SK-CERT"
		    : "ECDSA-SK-CERT";
	switch (sshkey_type(cert->key)) {
	case KEY_ED25519:
		return "ED25519-CERT";
	case KEY_ECDSA:
		return "ECDSA-CERT";
	case KEY_RSA:
		return "RSA-CERT";
	default:
		return "UNKNOWN-CERT";
	}
}

void
authcert_describe(const struct sshcert *cert, char *out, size_t len)
{
	char fp[SSHKEY_FP_LEN], cafp[SSHKEY_FP_LEN], id[KEY_ID_LOG_MAX];
	/* Room for the longest type names, serial and fingerprints
	 * (FingerprintHash sha512): only the ID is ever shortened. */
	char head[32 + SSHKEY_FP_LEN], tail[64 + SSHKEY_FP_LEN];
	size_t fixed, room;

	if (len == 0)
		return;
	if ((cert->sk_key != NULL
	            ? sshkey_sk_fingerprint(cert->sk_key, fp, sizeof(fp))
	            : sshkey_fingerprint(cert->key, fp, sizeof(fp))) != 0)
		snprintf(fp, sizeof(fp), "(null)");
	if (sshcert_ca_fingerprint(cert, cafp, sizeof(cafp)) != 0)
		snprintf(cafp, sizeof(cafp), "(null)");
	snprintf(
	    head, sizeof(head), "%s %s ID ", authcert_type_short(cert), fp);
	snprintf(tail, sizeof(tail), " (serial %" PRIu64 ") CA %s %s",
	    cert->serial, sshcert_ca_type_short(cert), cafp);
	snprintf(id, sizeof(id), "%s", cert->key_id);
	/* Shorten the ID, never the fingerprints, to fit. */
	fixed = strlen(head) + strlen(tail);
	room = len > fixed + 1 ? len - fixed - 1 : 0;
	if (strlen(id) > room) {
		if (room >= 3) {
			id[room - 3] = '\0';
			strcat(id, "...");
		} else
			id[0] = '\0';
	}
	snprintf(out, len, "%s%s%s", head, id, tail);
}
