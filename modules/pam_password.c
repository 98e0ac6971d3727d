/*
 * pam_password.so: the "password" method. Under UsePAM yes the client's
 * password answers the echo-off prompts of the PAM stack (PAMServiceName),
 * run in the monitor's own PAM handle (pm_conn.pam_password), the one its
 * account and session phases use, as sshd runs it; under UsePAM no it is
 * checked against the shadow hash with crypt(3), as OpenSSH's
 * sys_auth_passwd(). A blank password is refused first unless
 * PermitEmptyPasswords yes; an invalid user takes the same path with a
 * password (or hash) that cannot match, and always fails.
 */
#include <crypt.h>
#include <pwd.h>
#include <shadow.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "modules/postern_module.h"
#include "modules/secret_policy.h"

/*
 * The setting an invalid user's (or a hashless account's) password is
 * hashed with: the method and cost of the system's own hashes, so the
 * crypt(3) work does not tell accounts apart. As OpenSSH's pick_salt(),
 * it comes from the shadow file: the method most of its usable hashes
 * use, with the parameters and salt of the first of them; with none,
 * libxcrypt's default (what pam_unix and chpasswd use).
 */
#define DUMMY_METHODS 8
#define DUMMY_ENTRIES 1024 /* a directory may enumerate many more */

static char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE + 128];

/* "$y$j9T$salt$hash" -> method "y" (up to the second '$'). */
static size_t
hash_method(const char *h, char *out, size_t outlen)
{
	const char *end;

	if (h[0] != '$' || (end = strchr(h + 1, '$')) == NULL ||
	    (size_t)(end - h) >= outlen)
		return 0;
	memcpy(out, h, (size_t)(end - h) + 1);
	out[end - h + 1] = '\0';
	return (size_t)(end - h) + 1;
}

static const char *
dummy_hash(void)
{
	struct {
		char method[16];
		char setting[sizeof(dummy_setting)];
		unsigned n;
	} seen[DUMMY_METHODS];
	struct spwd *sp;
	char method[16], *cut;
	size_t nseen = 0, i, best = 0, entries = 0;

	if (dummy_setting[0] != '\0')
		return dummy_setting;
	memset(seen, 0, sizeof(seen));
	setspent();
	while (entries++ < DUMMY_ENTRIES && (sp = getspent()) != NULL) {
		if (sp->sp_pwdp == NULL ||
		    hash_method(sp->sp_pwdp, method, sizeof(method)) == 0 ||
		    strlen(sp->sp_pwdp) >= sizeof(seen[0].setting))
			continue;
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i].method, method) == 0)
				break;
		if (i == nseen) {
			if (nseen == DUMMY_METHODS)
				continue;
			snprintf(seen[i].method, sizeof(seen[i].method), "%s",
			    method);
			snprintf(seen[i].setting, sizeof(seen[i].setting), "%s",
			    sp->sp_pwdp);
			nseen++;
		}
		seen[i].n++;
	}
	endspent();
	for (i = 1; i < nseen; i++)
		if (seen[i].n > seen[best].n)
			best = i;
	if (nseen > 0) {
		/* The setting is the hash without its last field; bcrypt's
		 * ($2b$) has no separate one, and crypt(3) takes a whole
		 * hash as a setting too. */
		snprintf(dummy_setting, sizeof(dummy_setting), "%s",
		    seen[best].setting);
		if (strncmp(seen[best].method, "$2", 2) != 0 &&
		    (cut = strrchr(dummy_setting, '$')) != NULL &&
		    cut - dummy_setting > (ptrdiff_t)strlen(seen[best].method))
			cut[1] = '\0';
		wipe(seen, sizeof(seen));
	} else if (crypt_gensalt_rn(NULL, 0, NULL, 0, dummy_setting,
	               sizeof(dummy_setting)) == NULL)
		snprintf(dummy_setting, sizeof(dummy_setting), "$6$postern$");
	hash_method(dummy_setting, method, sizeof(method));
	debug2("password: unknown accounts are checked with %s hashes", method);
	return dummy_setting;
}

/*
 * The user's stored hash, as OpenSSH's shadow_pw(): the shadow entry's, or
 * without one the passwd entry's; NULL for an invalid user.
 */
static const char *
stored_hash(const struct pm_conn *conn)
{
	const struct spwd *sp;
	const struct passwd *pw;

	if (!conn->user_valid)
		return NULL;
	if ((sp = getspnam(conn->user)) != NULL)
		return sp->sp_pwdp;
	return (pw = getpwnam(conn->user)) != NULL ? pw->pw_passwd : NULL;
}

/* UsePAM no: 1 if password matches the user's stored hash. */
static int
shadow_password_ok(const struct pm_conn *conn, const char *password)
{
	struct crypt_data *cd;
	const char *stored = stored_hash(conn), *hash = dummy_hash(), *out;
	int usable = 0, blank = 0, ok = 0, salt;

	if (stored != NULL) {
		if (stored[0] == '\0')
			blank = 1;
		/* A field crypt(3) would refuse at once ("x" in /etc/passwd
		 * without a shadow entry, a disabled method) costs an unknown
		 * account's crypt instead, so the time of a failure does not
		 * tell a valid user from an invalid one. */
		else if (stored[0] != '!' && stored[0] != '*' &&
		    (salt = crypt_checksalt(stored)) != CRYPT_SALT_INVALID &&
		    salt != CRYPT_SALT_METHOD_DISABLED) {
			hash = stored;
			usable = 1;
		}
	}
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	out = crypt_r(password, hash, cd);
	/* Should crypt(3) refuse a setting it passed: still one dummy
	 * crypt, and a failure. */
	if (usable && (out == NULL || out[0] == '*')) {
		(void)crypt_r(password, dummy_hash(), cd);
		usable = 0;
	}
	ok = usable && out != NULL && strlen(out) == strlen(hash) &&
	    ct_eq(out, hash, strlen(hash));
	/* As OpenSSH's sys_auth_passwd(): an empty shadow password is
	 * matched by an empty one (the caller applied PermitEmptyPasswords). */
	if (blank && password[0] == '\0')
		ok = 1;
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
	int noempty = empty == NULL || strcmp(empty, "yes") != 0;
	struct buf *b;
	char *password = NULL, *fake = NULL;
	size_t plen = 0;
	int change, r, pamrc;

	(void)state;
	res->verdict = PM_FAILURE;
	if ((b = buf_from_secret(data, len)) == NULL)
		return 0;
	/* RFC 4252 s8: boolean FALSE, string password. */
	if ((r = buf_get_bool(b, &change)) != 0 ||
	    (r = buf_get_cstring(b, &password, &plen)) != 0)
		goto out;
	if (change) {
		/* sshd's preauth child says so; its monitor never hears. */
		logit_preauth("password change not supported");
		goto out;
	}
	if ((r = buf_end(b)) != 0)
		goto out;
	/* As sshd's auth_password(): a password over 1024 bytes fails at
	 * once, for every user, before PAM or crypt(3) sees it. */
	if (plen > PM_PASSWORD_MAX)
		goto out;
	if (plen == 0 && noempty)
		goto out;
	if (use == NULL || strcmp(use, "yes") != 0) {
		/* As OpenSSH's auth_password(): root without PermitRootLogin
		 * yes pays the same crypt(3) and fails. */
		if (shadow_password_ok(conn, password) &&
		    module_secret_usable(conn))
			res->verdict = PM_SUCCESS;
		goto out;
	}
	/*
	 * Refused, invalid, or root without PermitRootLogin yes: PAM gets a
	 * password that cannot match, of the same length, on the same path
	 * (OpenSSH's fake_password()). Only PAM_SUCCESS authenticates, as
	 * sshd's sshpam_auth_passwd(); an expired password is the account
	 * phase's to find (PAM_NEW_AUTHTOK_REQD: force_pwchange).
	 */
	if (!module_secret_usable(conn) &&
	    (fake = module_fake_secret(password)) == NULL)
		goto out;
	pamrc = conn->pam_password(conn, fake != NULL ? fake : password,
	    noempty ? PAM_DISALLOW_NULL_AUTHTOK : 0);
	if (pamrc == PAM_SUCCESS && module_secret_usable(conn))
		res->verdict = PM_SUCCESS;
	res->maxtries = pamrc == PAM_MAXTRIES;
out:
	if (password != NULL)
		freezero(password, plen);
	if (fake != NULL)
		freezero(fake, strlen(fake));
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
