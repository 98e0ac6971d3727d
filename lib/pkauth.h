/*
 * pkauth.h: the publickey method's machinery, shared by publickey.so
 * (plain and FIDO keys) and cert.so (user certificates): the request,
 * the key, RevokedKeys, the authorized_keys sources, the signature.
 * Each module supplies which algorithms it judges and where it looks.
 */
#ifndef POSTERN_PKAUTH_H
#define POSTERN_PKAUTH_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>

#include "authcmd.h"
#include "sshkey.h"
#include "modules/postern_module.h"

struct authopts;
struct sshkey;
struct sshkey_sk;
struct sshcert;

#define PKAUTH_LOG_MAX 256
#define PKAUTH_MAX_MESSAGE (256 * 1024)

/* The key of one request: exactly one of key, sk and cert is set. */
struct pk_key {
	struct sshkey *key; /* all three NULL: a DSA key (postern has none) */
	struct sshkey_sk *sk;
	struct sshcert *cert;
	const struct sshkey *plain; /* key, or a plain certified key */
	/* sk, or a certified FIDO key (sk-*-cert-v01@openssh.com) */
	const struct sshkey_sk *sk_plain;
	const char *type;          /* "ED25519", "ED25519-SK", "RSA-CERT" */
	char fp[SSHKEY_FP_LEN];    /* of the plain or certified key */
	char ca_fp[SSHKEY_FP_LEN]; /* certificates: of the CA key */
	const uint8_t *blob;       /* as the request carried it */
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

/*
 * Where a key may be allowed: 1 and *optsp (the options to apply) if one
 * source allows it; origin gets its "FILE:LINE" (docs/audit.md).
 */
typedef int (*pk_allowed_fn)(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk, struct authopts **optsp, char *origin,
    size_t originlen);

/* One module's part of publickey. */
struct pk_ops {
	const char *const *algs; /* request algorithms it verifies */
	size_t nalgs;
	int certs; /* 1: certificates only; 0: plain and FIDO keys only */
	pk_allowed_fn allowed;
};

/*
 * pkauth_request: judge a publickey request's method-specific fields as
 * OpenSSH's userauth_pubkey() does (the query's PK_OK, or the signature),
 * asking ops->allowed whether the key is allowed. 0 with res filled, or
 * ERR_PROTOCOL for a malformed request.
 */
int pkauth_request(const struct pm_conn *c, const uint8_t *data, size_t len,
    struct pm_result *res, const struct pk_ops *ops);

/*
 * pkauth_request_key: the fingerprint (of the key, for a certificate the
 * certified key's, as publickey,publickey compares them) and short type
 * ("ED25519", "RSA-CERT") of the key a publickey request m carries, left
 * unread; an error when it cannot be decoded or does not fit the
 * request's algorithm (the module then says why).
 */
struct buf;
int pkauth_request_key(
    const struct buf *m, char *fp, size_t fplen, char *type, size_t typelen);

/* OpenSSH's auth_key_is_revoked(): 1 if RevokedKeys refuses the key. */
int pkauth_revoked(const struct pk_conf *cf, const struct pk_key *uk);

/*
 * The user's AuthorizedKeysFile files, then AuthorizedKeysCommand's
 * output: a plain key on a line of its own, a certificate through a
 * cert-authority line that ca_check (authkeys_query) accepts.
 */
int pkauth_authorized_keys(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk,
    int (*ca_check)(
        void *, const struct authopts *, const char *, struct authopts **),
    void *ca_arg, struct authopts **optsp, char *origin, size_t originlen);
int pkauth_keys_command(const struct pm_conn *c, const struct pk_key *uk,
    int (*ca_check)(
        void *, const struct authopts *, const char *, struct authopts **),
    void *ca_arg, struct authopts **optsp, char *origin, size_t originlen);

/* AUTHOPTS_LOG_* (lib/authopts.h) for this login's "key options:" lines:
 * REMOTE, and what PermitUserEnvironment and AllowTcpForwarding show. */
unsigned pkauth_log_flags(const struct pm_conn *c);
/* A setting, or NULL for an unset one or "none" in any case. */
const char *pkauth_setting_file(const struct pm_conn *c, const char *kw);
/* The fake or real passwd entry the lookups read files as. */
void pkauth_conn_pw(const struct pm_conn *c, struct passwd *pw);
/* The tokens every command takes: %C %D %h %U %u, and the key's. */
void pkauth_cmd_tokens(const struct pm_conn *c, const struct pk_key *uk,
    const char *key_b64, char *uid, size_t uidlen, struct authcmd_tokens *tk);

#endif
