/*
 * secret_policy.h: whether a client's own secret may be checked for real
 * (shared by the PAM and TOTP modules).
 */
#ifndef POSTERN_SECRET_POLICY_H
#define POSTERN_SECRET_POLICY_H

#include <stdlib.h>
#include <string.h>

#include "modules/postern_module.h"

/*
 * The stand-in secret PAM gets (OpenSSH's fake_password()): these bytes,
 * which no PAM module accepts and no one can type, repeated to the length
 * of the client's own, so the hash PAM computes over it costs the same.
 * malloc'd; NULL when out of memory.
 */
#define PAM_FAKE_JUNK "\b\n\r\177INCORRECT"

static __attribute__((unused)) char *
module_fake_secret(const char *real)
{
	static const char junk[] = PAM_FAKE_JUNK;
	size_t i, len = strlen(real);
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		s[i] = junk[i % (sizeof(junk) - 1)];
	s[len] = '\0';
	return s;
}

/*
 * 1 if the client's own secrets may reach PAM or a TOTP check (or crypt's
 * verdict may count). As OpenSSH: an invalid or refused user, and root
 * unless PermitRootLogin yes, take the same path with a stand-in secret,
 * so a module's delay or log line says nothing about whether the secret
 * was right, nothing is consumed (a one-time code), and such a request
 * never succeeds.
 */
static __attribute__((unused)) int
module_secret_usable(const struct pm_conn *conn)
{
	const char *prl;

	if (!conn->user_valid)
		return 0;
	if (conn->uid != 0)
		return 1;
	prl = conn->setting(conn, "permitrootlogin", 0);
	return prl != NULL && strcmp(prl, "yes") == 0;
}

#endif /* POSTERN_SECRET_POLICY_H */
