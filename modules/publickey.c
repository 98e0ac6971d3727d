/*
 * publickey.so: the publickey method (RFC 4252 s7) for plain keys and
 * FIDO security keys (PROTOCOL.u2f), judged as OpenSSH's sshd judges
 * them: RevokedKeys, authorized_keys with every option, then
 * AuthorizedKeysCommand. Certificates are cert.so's (docs/modules.md);
 * the machinery both share is lib/pkauth.c.
 */
#include <stddef.h>

#include "pkauth.h"
#include "sshkey_sk.h"

/* Request algorithms this module verifies (PubkeyAcceptedAlgorithms
 * picks among them). */
static const char *const plain_algs[] = {"ssh-ed25519", "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-256",
    "rsa-sha2-512", "ssh-rsa", SSHKEY_SK_ED25519_NAME, SSHKEY_SK_ECDSA_NAME};

/* OpenSSH's user_key_allowed() for a key that is not a certificate. */
static int
plain_allowed(const struct pm_conn *c, const struct pk_conf *cf,
    const struct pk_key *uk, struct authopts **optsp, char *origin,
    size_t originlen)
{
	*optsp = NULL;
	if (pkauth_revoked(cf, uk))
		return 0;
	if (pkauth_authorized_keys(
	        c, cf, uk, NULL, NULL, optsp, origin, originlen))
		return 1;
	return pkauth_keys_command(c, uk, NULL, NULL, optsp, origin, originlen);
}

static const struct pk_ops plain_ops = {
    .algs = plain_algs,
    .nalgs = sizeof(plain_algs) / sizeof(plain_algs[0]),
    .certs = 0,
    .allowed = plain_allowed,
};

static int
pk_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	return pkauth_request(c, data, len, res, &plain_ops);
}

/* key_algs NULL: every algorithm no other module (cert.so) claims. */
__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "publickey",
    .request = pk_request,
    .key_algs = NULL,
};
