/*
 * sshcert.h: OpenSSH user and host certificates (*-cert-v01@openssh.com,
 * PROTOCOL.certkeys): strict parsing, CA signature verification and the
 * authority checks sshd applies to a user certificate.
 */
#ifndef POSTERN_SSHCERT_H
#define POSTERN_SSHCERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sshkey;
struct buf;

#define SSHCERT_TYPE_USER 1
#define SSHCERT_TYPE_HOST 2

#define SSHCERT_MAX_PRINCIPALS 256  /* OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS */
#define SSHCERT_MAX_UNKNOWN_EXTS 16 /* unknown extensions named in logs */

/* Extensions (non-critical) and the flag-like critical option. */
#define SSHCERT_PERMIT_X11 0x01        /* permit-X11-forwarding */
#define SSHCERT_PERMIT_AGENT 0x02      /* permit-agent-forwarding */
#define SSHCERT_PERMIT_PORT_FWD 0x04   /* permit-port-forwarding */
#define SSHCERT_PERMIT_PTY 0x08        /* permit-pty */
#define SSHCERT_PERMIT_USER_RC 0x10    /* permit-user-rc */
#define SSHCERT_NO_TOUCH_REQUIRED 0x20 /* no-touch-required */
#define SSHCERT_VERIFY_REQUIRED 0x40   /* critical option verify-required */

/*
 * OpenSSH's default CASignatureAlgorithms: SHA-1 "ssh-rsa" is not in it.
 * The sk-* names are there as in OpenSSH: a FIDO key may be the CA.
 */
#define SSHCERT_DEFAULT_CA_SIG_ALGS                                            \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"                 \
	"ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"                      \
	"sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

/* The refusal reasons of sshcert_check_user(): OpenSSH's exact wording. */
#define SSHCERT_R_NOT_USER "Certificate invalid: not a user certificate"
#define SSHCERT_R_NOT_YET_VALID "Certificate invalid: not yet valid"
#define SSHCERT_R_EXPIRED "Certificate invalid: expired"
#define SSHCERT_R_NO_PRINCIPALS "Certificate lacks principal list"
#define SSHCERT_R_NOT_PRINCIPAL                                                \
	"Certificate invalid: name is not a listed principal"
#define SSHCERT_R_BAD_OPTIONS "Invalid certificate options"
/* Logged by callers whose AuthorizedPrincipals* or principals= found none. */
#define SSHCERT_R_NO_AUTH_PRINCIPAL                                            \
	"Certificate does not contain an authorized principal"

/*
 * A parsed certificate whose CA signature has been verified. Read-only for
 * callers; every string is NUL-terminated and free of embedded NULs, but
 * chosen by the CA or the peer (log_emit() escapes them in a log line).
 */
struct sshkey_sk;

struct sshcert {
	const char *type_name; /* "ssh-ed25519-cert-v01@openssh.com", ... */
	struct sshkey *key;    /* the certified key: verifies the user */
	/* A FIDO key instead (sk-*-cert-v01@openssh.com): key is NULL. */
	struct sshkey_sk *sk_key;
	struct sshkey *ca_key;   /* the key that signed the certificate */
	struct sshkey_sk *ca_sk; /* or a FIDO key did: then ca_key NULL */
	char *ca_sig_alg;        /* the CA signature's algorithm */
	uint64_t serial;         /* 0 when the CA does not number certs */
	uint32_t type;           /* SSHCERT_TYPE_USER or SSHCERT_TYPE_HOST */
	char *key_id;            /* free-form identity, for logs */
	char **principals;       /* nprincipals names */
	size_t nprincipals;      /* 0: refused by sshcert_check_user() */
	uint64_t valid_after;    /* valid_after <= now < valid_before */
	uint64_t valid_before;   /* UINT64_MAX: "forever" */
	char *force_command;     /* critical option; NULL if absent */
	char *source_address;    /* critical option, CIDR list; NULL: any */
	unsigned flags;          /* SSHCERT_PERMIT_* and friends */
	/* The first fault of the options or extensions, as sshd logs it
	 * ("Certificate critical option \"X\" is not supported", ...), or
	 * NULL: a certificate with one parses but is refused when used. */
	char *options_error;
	char **unknown_exts;  /* unknown extensions' names, cut at 127 bytes */
	size_t nunknown_exts; /* at most SSHCERT_MAX_UNKNOWN_EXTS kept */
	struct buf *blob;     /* the certificate blob as received */
};

/*
 * sshcert_from_blob: parse a certificate blob strictly (every field, the
 * nested principal strings consumed exactly, no trailing bytes) and verify
 * the CA's signature over the body (a FIDO CA's flags and counter are not
 * judged, as sshd does not). The critical options and extensions are read
 * as sshd 9.2 reads them when a certificate is used: in any order, an
 * extension may repeat, a fault (an unknown critical option, a second
 * force-command or source-address, a bad source-address, data where none
 * belongs, a malformed list) is kept in options_error and refuses the
 * certificate in sshcert_check_user() and authcert_opts(), but does not
 * stop it parsing. Returns 0, ERR_SIGNATURE for a signature that does not
 * verify, ERR_KEY_TYPE for an unsupported key or CA type, or another ERR_*
 * for a malformed blob. Does not apply CASignatureAlgorithms: see
 * sshcert_check_ca_sig_alg().
 */
int sshcert_from_blob(const uint8_t *blob, size_t len, struct sshcert **certp);
/* sshcert_parse_text: "TYPE BASE64 [comment]" as in a -cert.pub file. */
int sshcert_parse_text(
    const char *s, struct sshcert **certp, const char **endp);
void sshcert_free(struct sshcert *cert);

/*
 * The CA key, whichever kind it is (ca_key or a FIDO ca_sk): its short
 * type for log lines ("ED25519", "ECDSA-SK"), its type name
 * ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"), its public blob (appended
 * to out) and its fingerprint (FingerprintHash's digest; in SHA-256
 * whatever it says with _sha256).
 */
const char *sshcert_ca_type_short(const struct sshcert *cert);
const char *sshcert_ca_type_name(const struct sshcert *cert);
int sshcert_ca_to_blob(const struct sshcert *cert, struct buf *out);
int sshcert_ca_fingerprint(
    const struct sshcert *cert, char *out, size_t outlen);
int sshcert_ca_fingerprint_sha256(
    const struct sshcert *cert, char *out, size_t outlen);

/* sshcert_is_cert_name: 1 if name is a certificate key type or algorithm. */
int sshcert_is_cert_name(const char *name);
/*
 * sshcert_sig_alg_for: the signature algorithm a publickey request using
 * certificate algorithm alg must carry ("ssh-ed25519-cert-v01@openssh.com"
 * -> "ssh-ed25519", "rsa-sha2-512-cert-v01@openssh.com" -> "rsa-sha2-512",
 * "ssh-rsa-cert-v01@openssh.com" -> "ssh-rsa"), or NULL if alg is not one.
 */
const char *sshcert_sig_alg_for(const char *alg);
/*
 * sshcert_sig_alg_ok: 1 if a signature of algorithm sig_alg answers a
 * publickey request for certificate algorithm alg: the one
 * sshcert_sig_alg_for names, or, as sshd allows for the clients that sent
 * it with rsa-sha2-* signatures, any RSA one for ssh-rsa-cert-v01.
 */
int sshcert_sig_alg_ok(const char *alg, const char *sig_alg);
/* sshcert_alg_ok: 1 if request algorithm alg may be used with cert. */
int sshcert_alg_ok(const struct sshcert *cert, const char *alg);

/*
 * sshcert_check_ca_sig_alg: 0 if the CA signature's algorithm matches the
 * pattern list allowed (CASignatureAlgorithms; NULL: the OpenSSH default),
 * ERR_PERM if not. OpenSSH logs a refusal as
 * "certificate signature algorithm %s: signature algorithm not supported".
 */
int sshcert_check_ca_sig_alg(const struct sshcert *cert, const char *allowed);

/*
 * sshcert_check_user: OpenSSH's sshkey_cert_check_authority() for a user
 * certificate, in its order: the type must be user, valid_after <= now <
 * valid_before, the principal list must not be empty, and name (the user
 * name) must be one of the principals. name NULL skips the last test, for
 * callers that matched principals themselves (AuthorizedPrincipalsFile,
 * AuthorizedPrincipalsCommand, principals= on a cert-authority line).
 * Finally a fault of its options (options_error, logged at error level)
 * refuses the certificate, as OpenSSH's sshauthopt_from_cert() does.
 * Returns 0, or ERR_PERM with *reason set to one of SSHCERT_R_*.
 */
int sshcert_check_user(const struct sshcert *cert, const char *name, time_t now,
    const char **reason);

/* sshcert_has_principal: 1 if name is exactly one of the principals. */
int sshcert_has_principal(const struct sshcert *cert, const char *name);
/*
 * sshcert_principal_in_list: 1 if any principal is exactly one of the
 * comma-separated names in list (an authorized_keys principals= option).
 * As sshd reads principals=, the list ends at its first empty entry: an
 * empty principal never matches, and names after ",," are not read.
 */
int sshcert_principal_in_list(const struct sshcert *cert, const char *list);

/*
 * sshcert_check_source: 1 if the client address addr may use cert (no
 * source-address option, or addr inside one of its CIDR entries), else 0
 * (always for a certificate with options_error).
 * OpenSSH refuses with "cert: Authentication tried for %.100s with valid
 * certificate but not from a permitted source address (%.200s)."
 */
int sshcert_check_source(const struct sshcert *cert, const char *addr);

#endif
