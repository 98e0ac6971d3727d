/*
 * sshcert.c: OpenSSH certificates (PROTOCOL.certkeys): strict blob parsing,
 * CA signature verification and sshd's checks of a user certificate.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "match.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"

#define CERT_BLOB_MAX (64 * 1024)
#define CERT_NAME_MAX 64
#define CA_MIN_RSA_BITS 1024 /* OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE */
#define RSA_LEGACY_CERT "ssh-rsa-cert-v01@openssh.com"

/*
 * Each certificate type: the plain key type it certifies and how many key
 * fields (strings or mpints; both are strings on the wire) follow the
 * nonce. The plain key blob is rebuilt from those fields unchanged.
 */
struct cert_type {
	const char *name;
	const char *plain;
	int nfields;
};

static const struct cert_type cert_types[] = {
    {"ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", 1},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", 2},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", 2},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", 2},
    {"ssh-rsa-cert-v01@openssh.com", "ssh-rsa", 2},
    {"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", 2},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com", 3},
};
#define N_CERT_TYPES (sizeof(cert_types) / sizeof(cert_types[0]))

/* Algorithm names in publickey requests and the signature each carries. */
static const struct {
	const char *alg;
	const char *cert_type;
	const char *sig_alg;
} cert_algs[] = {
    {"ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com",
        "ssh-ed25519"},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256"},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384"},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521"},
    {"rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
        "rsa-sha2-512"},
    {"rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
        "rsa-sha2-256"},
    {"ssh-rsa-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com", "ssh-rsa"},
    {"sk-ssh-ed25519-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com"},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com"},
};
#define N_CERT_ALGS (sizeof(cert_algs) / sizeof(cert_algs[0]))

/* Extensions that are flags: their data must be empty. */
static const struct {
	const char *name;
	unsigned flag;
} cert_exts[] = {
    {"no-touch-required", SSHCERT_NO_TOUCH_REQUIRED},
    {"permit-X11-forwarding", SSHCERT_PERMIT_X11},
    {"permit-agent-forwarding", SSHCERT_PERMIT_AGENT},
    {"permit-port-forwarding", SSHCERT_PERMIT_PORT_FWD},
    {"permit-pty", SSHCERT_PERMIT_PTY},
    {"permit-user-rc", SSHCERT_PERMIT_USER_RC},
};
#define N_CERT_EXTS (sizeof(cert_exts) / sizeof(cert_exts[0]))

static const struct cert_type *
cert_type_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_CERT_TYPES; i++)
		if (strcmp(name, cert_types[i].name) == 0)
			return &cert_types[i];
	return NULL;
}

int
sshcert_is_cert_name(const char *name)
{
	return sshcert_sig_alg_for(name) != NULL;
}

const char *
sshcert_sig_alg_for(const char *alg)
{
	size_t i;

	if (alg == NULL)
		return NULL;
	for (i = 0; i < N_CERT_ALGS; i++)
		if (strcmp(alg, cert_algs[i].alg) == 0)
			return cert_algs[i].sig_alg;
	return NULL;
}

int
sshcert_sig_alg_ok(const char *alg, const char *sig_alg)
{
	const char *want = sshcert_sig_alg_for(alg);

	if (want == NULL || sig_alg == NULL)
		return 0;
	if (strcmp(alg, RSA_LEGACY_CERT) == 0)
		return strcmp(sig_alg, "ssh-rsa") == 0 ||
		    strcmp(sig_alg, "rsa-sha2-256") == 0 ||
		    strcmp(sig_alg, "rsa-sha2-512") == 0;
	return strcmp(sig_alg, want) == 0;
}

int
sshcert_alg_ok(const struct sshcert *cert, const char *alg)
{
	size_t i;

	if (alg == NULL)
		return 0;
	for (i = 0; i < N_CERT_ALGS; i++)
		if (strcmp(alg, cert_algs[i].alg) == 0)
			return strcmp(cert->type_name,
			           cert_algs[i].cert_type) == 0;
	return 0;
}

void
sshcert_free(struct sshcert *cert)
{
	size_t i;

	if (cert == NULL)
		return;
	sshkey_free(cert->key);
	sshkey_sk_free(cert->sk_key);
	sshkey_free(cert->ca_key);
	sshkey_sk_free(cert->ca_sk);
	free(cert->ca_sig_alg);
	free(cert->key_id);
	for (i = 0; i < cert->nprincipals; i++)
		free(cert->principals[i]);
	free(cert->principals);
	free(cert->force_command);
	free(cert->source_address);
	free(cert->options_error);
	for (i = 0; i < cert->nunknown_exts; i++)
		free(cert->unknown_exts[i]);
	free(cert->unknown_exts);
	buf_free(cert->blob);
	freezero(cert, sizeof(*cert));
}

/*
 * Record the first fault of the critical options or extensions, worded as
 * sshd logs it. As in sshd, whose sshauthopt_from_cert() reads them only
 * when the certificate is used, the certificate still parses (a host
 * certificate loads); sshcert_check_user() and authcert_opts() log the
 * fault and refuse it. Returns ERR_FORMAT (stop reading the list), or
 * ERR_ALLOC.
 */
static int __attribute__((format(printf, 2, 3)))
options_fault(struct sshcert *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->options_error != NULL)
		return ERR_FORMAT;
	va_start(ap, fmt);
	n = vasprintf(&c->options_error, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->options_error = NULL;
		return ERR_ALLOC;
	}
	return ERR_FORMAT;
}

/*
 * One critical option. As sshd 9.2, the order of the options is not
 * checked, but force-command and source-address may each appear once.
 */
static int
critical_option(
    struct sshcert *c, const char *name, const uint8_t *data, size_t len)
{
	char *s = NULL, **slot = NULL;
	struct buf *b;
	int r;

	if (strcmp(name, "force-command") == 0)
		slot = &c->force_command;
	else if (strcmp(name, "source-address") == 0)
		slot = &c->source_address;
	else if (strcmp(name, "verify-required") == 0)
		c->flags |= SSHCERT_VERIFY_REQUIRED;
	else
		return options_fault(c,
		    "Certificate critical option \"%.127s\" is not supported",
		    name);
	/* From here name is one of the three above. */
	if (slot == NULL)
		return len == 0 ? 0
		                : options_fault(c,
		                      "Certificate option \"%s\" corrupt "
		                      "(extra data)",
		                      name);
	if ((b = buf_from(data, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_cstring(b, &s, NULL)) != 0) {
		if (r != ERR_ALLOC)
			r = options_fault(c,
			    "Unable to parse \"%s\" section: %s", name,
			    err_str(r));
	} else if (*slot != NULL)
		r = options_fault(
		    c, "Certificate has multiple %s options", name);
	/* OpenSSH's addr_match_cidr_list() syntax: addresses and
	 * address/prefix only, no wildcards or negation. */
	else if (slot == &c->source_address && match_cidr_list(NULL, s) == -1)
		r = options_fault(
		    c, "Certificate source-address contents invalid");
	else if (buf_len(b) != 0)
		r = options_fault(
		    c, "Certificate option \"%s\" corrupt (extra data)", name);
	else {
		*slot = s;
		s = NULL;
	}
	free(s);
	buf_free(b);
	return r;
}

/*
 * One extension: known flags must carry no data; unknown ones are
 * ignored, and named when the certificate is used (authcert_opts).
 */
static int
extension(struct sshcert *c, const char *name, size_t len)
{
	char **tmp;
	size_t i;

	for (i = 0; i < N_CERT_EXTS; i++) {
		if (strcmp(name, cert_exts[i].name) != 0)
			continue;
		if (len != 0)
			return options_fault(c,
			    "Certificate option \"%s\" corrupt (extra data)",
			    name);
		c->flags |= cert_exts[i].flag;
		return 0;
	}
	if (c->nunknown_exts >= SSHCERT_MAX_UNKNOWN_EXTS)
		return 0;
	tmp = realloc(c->unknown_exts, (c->nunknown_exts + 1) * sizeof(*tmp));
	if (tmp == NULL)
		return ERR_ALLOC;
	c->unknown_exts = tmp;
	/* Kept as it is logged: cut at 127 bytes. */
	if ((tmp[c->nunknown_exts] = strndup(name, 127)) == NULL)
		return ERR_ALLOC;
	c->nunknown_exts++;
	return 0;
}

/*
 * The critical options or extensions string: (string name, string data)*.
 * PROTOCOL.certkeys asks for names in lexical order, each once; sshd 9.2
 * checks neither, and neither does this (critical_option refuses what sshd
 * refuses: a second force-command or source-address). A fault is recorded
 * (options_fault), not returned: only ERR_ALLOC is.
 */
static int
parse_options(struct sshcert *c, const uint8_t *p, size_t len, int critical)
{
	struct buf *b = NULL;
	char *name = NULL;
	const uint8_t *data;
	size_t dlen;
	int r = 0;

	if ((b = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	while (r == 0 && buf_len(b) > 0) {
		if ((r = buf_get_cstring(b, &name, NULL)) != 0 ||
		    (r = buf_get_string_direct(b, &data, &dlen)) != 0) {
			if (r != ERR_ALLOC)
				r = options_fault(c,
				    "Unable to parse certificate options: %s",
				    err_str(r));
			break;
		}
		if (critical)
			r = critical_option(c, name, data, dlen);
		else
			r = extension(c, name, dlen);
		free(name);
		name = NULL;
	}
	free(name);
	buf_free(b);
	return r == ERR_FORMAT ? 0 : r;
}

/* The principals string: NUL-free strings, at most SSHCERT_MAX_PRINCIPALS. */
static int
parse_principals(struct sshcert *c, const uint8_t *p, size_t len)
{
	struct buf *b = NULL;
	char **tmp;
	int r = 0;

	if ((b = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	while (buf_len(b) > 0) {
		if (c->nprincipals >= SSHCERT_MAX_PRINCIPALS) {
			r = ERR_LIMIT;
			goto out;
		}
		tmp =
		    realloc(c->principals, (c->nprincipals + 1) * sizeof(*tmp));
		if (tmp == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		c->principals = tmp;
		if ((r = buf_get_cstring(
		         b, &c->principals[c->nprincipals], NULL)) != 0)
			goto out;
		c->nprincipals++;
	}
out:
	buf_free(b);
	return r;
}

/* The certified key: rebuild the plain blob from the fields after nonce. */
static int
parse_key(struct buf *b, const struct cert_type *ct, struct sshkey **keyp)
{
	struct buf *plain = NULL;
	const uint8_t *p;
	size_t len;
	int i, r;

	*keyp = NULL;
	if ((plain = buf_new(CERT_BLOB_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(plain, ct->plain)) != 0)
		goto out;
	for (i = 0; i < ct->nfields; i++) {
		if ((r = buf_get_string_direct(b, &p, &len)) != 0 ||
		    (r = buf_put_string(plain, p, len)) != 0)
			goto out;
	}
	r = sshkey_from_blob(buf_ptr(plain), buf_len(plain), keyp);
out:
	buf_free(plain);
	return r;
}

/*
 * The CA key: a plain key or a FIDO key (sk-*, whose signature carries
 * flags and a counter), never a certificate ("chained" certificates are
 * not supported): then verify the signature over the first signed_len
 * bytes of the blob.
 */
static int
parse_ca_verify(struct sshcert *c, const uint8_t *ca, size_t ca_len,
    const uint8_t *sig, size_t sig_len, const uint8_t *blob, size_t signed_len)
{
	char name[CERT_NAME_MAX];
	struct buf *b;
	int r;

	if ((b = buf_from(ca, ca_len)) == NULL)
		return ERR_ALLOC;
	r = buf_get_cstring_fixed(b, name, sizeof(name));
	buf_free(b);
	if (r == 0 && sshkey_sk_is_type_name(name)) {
		if ((r = sshkey_sk_from_blob(ca, ca_len, &c->ca_sk)) != 0)
			return r;
		r = sshkey_sk_verify(
		    c->ca_sk, sig, sig_len, blob, signed_len, NULL, NULL);
	} else {
		if ((r = sshkey_from_blob(ca, ca_len, &c->ca_key)) != 0)
			return r;
		/* Naming the algorithm lets a SHA-1 "ssh-rsa" CA signature
		 * verify; sshcert_check_ca_sig_alg() then decides. */
		r = sshkey_verify(c->ca_key, sig, sig_len, blob, signed_len,
		    c->ca_sig_alg, CA_MIN_RSA_BITS);
	}
	if (r != 0 && r != ERR_ALLOC && r != ERR_TOO_BIG)
		r = ERR_SIGNATURE;
	return r;
}

/* The signature's own algorithm name (string alg, string sig). */
static int
sig_alg_name(const uint8_t *sig, size_t len, char **algp)
{
	char name[CERT_NAME_MAX];
	int r;

	*algp = NULL;
	if ((r = sshkey_sig_type(sig, len, name, sizeof(name))) == 0 &&
	    (*algp = strdup(name)) == NULL)
		r = ERR_ALLOC;
	return r;
}

int
sshcert_from_blob(const uint8_t *blob, size_t len, struct sshcert **certp)
{
	struct sshcert *c = NULL;
	const struct cert_type *ct;
	struct buf *b = NULL;
	char name[CERT_NAME_MAX];
	const uint8_t *princ, *crit, *exts, *ca, *sig;
	size_t princ_len, crit_len, exts_len, ca_len, sig_len, signed_len;
	int r;

	*certp = NULL;
	if (len > CERT_BLOB_MAX)
		return ERR_TOO_BIG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_ALLOC;
	if ((c->blob = buf_from(blob, len)) == NULL ||
	    (b = buf_from(blob, len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring_fixed(b, name, sizeof(name))) != 0)
		goto out;
	if ((ct = cert_type_by_name(name)) == NULL) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	c->type_name = ct->name;
	if ((r = buf_skip_string(b)) != 0) /* nonce */
		goto out;
	/* A FIDO key's fields are its own (key, then application). */
	if (sshkey_sk_is_type_name(ct->plain))
		r = sshkey_sk_parse_fields(b, ct->plain, &c->sk_key);
	else
		r = parse_key(b, ct, &c->key);
	if (r != 0)
		goto out;
	if ((r = buf_get_u64(b, &c->serial)) != 0 ||
	    (r = buf_get_u32(b, &c->type)) != 0 ||
	    (r = buf_get_cstring(b, &c->key_id, NULL)) != 0 ||
	    (r = buf_get_string_direct(b, &princ, &princ_len)) != 0 ||
	    (r = buf_get_u64(b, &c->valid_after)) != 0 ||
	    (r = buf_get_u64(b, &c->valid_before)) != 0 ||
	    (r = buf_get_string_direct(b, &crit, &crit_len)) != 0 ||
	    (r = buf_get_string_direct(b, &exts, &exts_len)) != 0 ||
	    (r = buf_skip_string(b)) != 0 || /* reserved */
	    (r = buf_get_string_direct(b, &ca, &ca_len)) != 0)
		goto out;
	/* The signature covers everything up to and including the CA key. */
	signed_len = len - buf_len(b);
	if ((r = buf_get_string_direct(b, &sig, &sig_len)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	if (c->type != SSHCERT_TYPE_USER && c->type != SSHCERT_TYPE_HOST) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = parse_principals(c, princ, princ_len)) != 0 ||
	    (r = parse_options(c, crit, crit_len, 1)) != 0 ||
	    (r = parse_options(c, exts, exts_len, 0)) != 0)
		goto out;
	if ((r = sig_alg_name(sig, sig_len, &c->ca_sig_alg)) != 0 ||
	    (r = parse_ca_verify(
	         c, ca, ca_len, sig, sig_len, blob, signed_len)) != 0)
		goto out;
	*certp = c;
	c = NULL;
	r = 0;
out:
	buf_free(b);
	sshcert_free(c);
	return r;
}

static int
known_cert_type(const char *name)
{
	return cert_type_by_name(name) != NULL;
}

int
sshcert_parse_text(const char *s, struct sshcert **certp, const char **endp)
{
	struct sshcert *c = NULL;
	char name[CERT_NAME_MAX];
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	const char *end;
	int r;

	*certp = NULL;
	if (endp != NULL)
		*endp = s;
	if ((r = sshkey_text_split(s, name, sizeof(name), known_cert_type,
	         CERT_BLOB_MAX, &blob, &bloblen, &end)) != 0 ||
	    (r = sshcert_from_blob(blob, bloblen, &c)) != 0)
		goto out;
	if (strcmp(name, c->type_name) != 0) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	if (endp != NULL)
		*endp = end;
	*certp = c;
	c = NULL;
out:
	sshcert_free(c);
	free(blob);
	return r;
}

const char *
sshcert_ca_type_short(const struct sshcert *cert)
{
	return cert->ca_sk != NULL ? sshkey_sk_type_short(cert->ca_sk)
	                           : sshkey_type_short(cert->ca_key);
}

const char *
sshcert_ca_type_name(const struct sshcert *cert)
{
	return cert->ca_sk != NULL ? sshkey_sk_type_name(cert->ca_sk)
	                           : sshkey_type_name(cert->ca_key);
}

int
sshcert_ca_to_blob(const struct sshcert *cert, struct buf *out)
{
	return cert->ca_sk != NULL ? sshkey_sk_to_blob(cert->ca_sk, out)
	                           : sshkey_to_blob(cert->ca_key, out);
}

int
sshcert_ca_fingerprint(const struct sshcert *cert, char *out, size_t outlen)
{
	return cert->ca_sk != NULL
	    ? sshkey_sk_fingerprint(cert->ca_sk, out, outlen)
	    : sshkey_fingerprint(cert->ca_key, out, outlen);
}

int
sshcert_ca_fingerprint_sha256(
    const struct sshcert *cert, char *out, size_t outlen)
{
	return cert->ca_sk != NULL
	    ? sshkey_sk_fingerprint_sha256(cert->ca_sk, out, outlen)
	    : sshkey_fingerprint_sha256(cert->ca_key, out, outlen);
}

int
sshcert_check_ca_sig_alg(const struct sshcert *cert, const char *allowed)
{
	if (allowed == NULL)
		allowed = SSHCERT_DEFAULT_CA_SIG_ALGS;
	return match_pattern_list(cert->ca_sig_alg, allowed, 0) == 1 ? 0
	                                                             : ERR_PERM;
}

int
sshcert_has_principal(const struct sshcert *cert, const char *name)
{
	size_t i;

	for (i = 0; i < cert->nprincipals; i++)
		if (strcmp(name, cert->principals[i]) == 0)
			return 1;
	return 0;
}

int
sshcert_principal_in_list(const struct sshcert *cert, const char *list)
{
	const char *p;
	size_t i, n, plen;

	for (i = 0; i < cert->nprincipals; i++) {
		plen = strlen(cert->principals[i]);
		for (p = list;; p += n + 1) {
			/* An empty entry ends the list, as in sshd. */
			if ((n = strcspn(p, ",")) == 0)
				break;
			if (n == plen && memcmp(p, cert->principals[i], n) == 0)
				return 1;
			if (p[n] == '\0')
				break;
		}
	}
	return 0;
}

int
sshcert_check_user(const struct sshcert *cert, const char *name, time_t now,
    const char **reason)
{
	*reason = NULL;
	if (cert->type != SSHCERT_TYPE_USER) {
		*reason = SSHCERT_R_NOT_USER;
		return ERR_PERM;
	}
	/* A clock before the epoch is "not yet valid", as OpenSSH says. */
	if (now < 0 || (uint64_t)now < cert->valid_after) {
		*reason = SSHCERT_R_NOT_YET_VALID;
		return ERR_PERM;
	}
	if ((uint64_t)now >= cert->valid_before) {
		*reason = SSHCERT_R_EXPIRED;
		return ERR_PERM;
	}
	/* An empty list is refused outright, never read as "anyone". */
	if (cert->nprincipals == 0) {
		*reason = SSHCERT_R_NO_PRINCIPALS;
		return ERR_PERM;
	}
	if (name != NULL && !sshcert_has_principal(cert, name)) {
		*reason = SSHCERT_R_NOT_PRINCIPAL;
		return ERR_PERM;
	}
	if (cert->options_error != NULL) {
		error("%s", cert->options_error);
		*reason = SSHCERT_R_BAD_OPTIONS;
		return ERR_PERM;
	}
	return 0;
}

int
sshcert_check_source(const struct sshcert *cert, const char *addr)
{
	/* A faulty source-address is not kept: refuse, never allow all. */
	if (cert->options_error != NULL)
		return 0;
	if (cert->source_address == NULL)
		return 1;
	if (addr == NULL)
		return 0;
	return match_cidr_list(addr, cert->source_address) == 1;
}
