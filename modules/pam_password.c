/*
 * pam_password.so: password under UsePAM yes. The client's password
 * answers the echo-off prompts of the PAM stack (PAMServiceName), run in
 * a child of the monitor (pam_relay.h). A blank password is refused
 * before PAM unless PermitEmptyPasswords yes; an invalid user's PAM run
 * gets a password that cannot match, as OpenSSH's, and always fails.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/pam_relay.h"

/* OpenSSH's: no PAM module accepts it, and it cannot be typed. */
#define FAKE_PASSWORD "\b\n\r\177INCORRECT"

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
	if (use == NULL || strcmp(use, "yes") != 0) {
		debug("password: only through PAM (UsePAM yes)");
		goto out;
	}
	if (plen == 0 && (empty == NULL || strcmp(empty, "yes") != 0))
		goto out;
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
