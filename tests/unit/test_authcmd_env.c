/*
 * test_authcmd_env.c: when building an AuthorizedKeysCommand's
 * environment fails part way (asprintf of HOME= fails here), the
 * entries made so far are freed once: the run fails and logs, and the
 * monitor does not abort on a double free.
 */
#undef _FORTIFY_SOURCE /* this file defines asprintf itself */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authcmd.h"
#include "log.h"
#include "t.h"

static int home_failures;

int asprintf(char **strp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int __asprintf_chk(char **strp, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

__attribute__((format(printf, 2, 0))) static int
fake_vasprintf(char **strp, const char *fmt, va_list ap)
{
	if (strcmp(fmt, "HOME=%s") == 0) {
		home_failures++;
		return -1; /* *strp is undefined after a failure */
	}
	return vasprintf(strp, fmt, ap);
}

int
asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fake_vasprintf(strp, fmt, ap);
	va_end(ap);
	return r;
}

/* What asprintf becomes in objects built with _FORTIFY_SOURCE=2. */
int
__asprintf_chk(char **strp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fake_vasprintf(strp, fmt, ap);
	va_end(ap);
	return r;
}

int
main(void)
{
	struct authcmd cr;
	struct authcmd_tokens tk;
	char *out = NULL, *runas;
	size_t len = 1;
	int r;

	log_init("test", LL_QUIET, 0, 0);
	/* The user to run as: root can run as itself, others as themselves. */
	runas = getuid() == 0 ? "root" : getenv("USER");
	T_CHECK("a user to run as", runas != NULL);
	if (runas == NULL)
		return T_DONE();
	memset(&cr, 0, sizeof(cr));
	memset(&tk, 0, sizeof(tk));
	cr.tag = "AuthorizedKeysCommand";
	r = authcmd_run(&cr, "/bin/true", runas, &tk, "u", "alice", &out, &len);
	T_CHECK("the environment was attempted", home_failures == 1);
	T_CHECK("the run fails", r == -1);
	T_CHECK("no output", out == NULL && len == 0);
	authcmd_free(&cr);
	return T_DONE();
}
