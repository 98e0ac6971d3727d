/*
 * pam_password.so: the "password" method. Under UsePAM yes the client's
 * password answers the echo-off prompts of the PAM stack (PAMServiceName),
 * run in a child of the monitor (pam_relay.h); under UsePAM no it is
 * checked against the shadow hash with crypt(3), as OpenSSH's
 * sys_auth_passwd(). A blank password is refused first unless
 * PermitEmptyPasswords yes; an invalid user takes the same path with a
 * password (or hash) that cannot match, and always fails.
 */
#include <crypt.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/pam_relay.h"

/* OpenSSH's: no PAM module accepts it, and it cannot be typed. */
#define FAKE_PASSWORD "\b\n\r\177INCORRECT"

/* A well-formed SHA-512 crypt hash that no password matches: invalid
 * users and accounts without a hash cost the same crypt(3) work. */
#define FAKE_HASH                                                              \
	"$6$postern$fakehashnopasswordmatchesthis0123456789abcdefghijklmnop"   \
	"qrstuvwxyzABCDEFGHIJKLMNOPQRSTU"

/* UsePAM no: 1 if password matches the user's shadow entry. */
static int
shadow_password_ok(const struct pm_conn *conn, const char *password)
{
	struct crypt_data *cd;
	struct spwd *sp = NULL;
	const char *hash = FAKE_HASH, *out;
	int usable = 0, ok = 0;

	if (conn->user_valid && (sp = getspnam(conn->user)) != NULL &&
	    sp->sp_pwdp != NULL && sp->sp_pwdp[0] != '\0' &&
	    sp->sp_pwdp[0] != '!' && sp->sp_pwdp[0] != '*') {
		hash = sp->sp_pwdp;
		usable = 1;
	}
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	out = crypt_r(password, hash, cd);
	ok = usable && out != NULL && strlen(out) == strlen(hash) &&
	    ct_eq(out, hash, strlen(hash));
	freezero(cd, sizeof(*cd));
	/* An expired password still authenticates: the monitor makes the
	 * session change it (OpenSSH's force_pwchange). */
	return ok;
}

static int
password_request(void *state, const struct pm_conn *conn, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	const char *use = conn->setting(conn, "usepam", 0);
	const char *empty = conn->setting(conn, "permitemptypasswords", 0);
	struct pamrelay relay;
	struct buf *b, *q = NULL;
	char *password = NULL;
	size_t plen = 0;
	int change, r, pamrc = PAM_AUTH_ERR;

	(void)state;
	res->verdict = PM_FAILURE;
	if ((b = buf_from(data, len)) == NULL)
		return 0;
	/* RFC 4252 s8: boolean FALSE, string password. */
	if ((r = buf_get_bool(b, &change)) != 0 ||
	    (r = buf_get_cstring(b, &password, &plen)) != 0)
		goto out;
	if (change) {
		logit("password change not supported");
		goto out;
	}
	if ((r = buf_end(b)) != 0)
		goto out;
	if (plen == 0 && (empty == NULL || strcmp(empty, "yes") != 0))
		goto out;
	if (use == NULL || strcmp(use, "yes") != 0) {
		if (shadow_password_ok(conn, password) && conn->user_valid)
			res->verdict = PM_SUCCESS;
		goto out;
	}
	if (pamrelay_start(
	        &relay, conn, conn->user_valid ? password : FAKE_PASSWORD) != 0)
		goto out;
	/* The child has its copy: this one is no longer needed. */
	freezero(password, plen);
	password = NULL;
	if ((q = buf_new(PAMRELAY_PKT_MAX)) != NULL &&
	    pamrelay_next(&relay, q, &pamrc) == 0 && pamrc == PAM_SUCCESS &&
	    conn->user_valid)
		res->verdict = PM_SUCCESS;
	else if (pamrc != PAM_SUCCESS)
		debug("PAM: password: %s", pam_strerror(NULL, pamrc));
	pamrelay_stop(&relay);
out:
	if (password != NULL)
		freezero(password, plen);
	buf_free(q);
	buf_free(b);
	return r;
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "password",
    .submethod = NULL,
    .request = password_request,
};
