/*
 * proctitle.c: process titles the Linux way OpenSSH's setproctitle uses:
 * the kernel shows a process's original argument (and, past their end,
 * environment) memory as its command line, so the title is written there
 * once the strings that lived in it have been moved to the heap.
 */
#include <sys/prctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proctitle.h"

#define PROCTITLE_MAX 512

extern char **environ;

static char *title_area;  /* where argv[0] was */
static size_t title_room; /* bytes from there to the end of the strings */
/* The moved arguments, for good (volatile: the store is their root). */
static char **volatile title_args;
/* The moved environment strings, whatever leaves environ later. */
static char **volatile title_env;
/*
 * The array environ was set to: glibc's exit-time cleanup, which valgrind
 * runs (__libc_freeres: clearenv), drops environ without freeing an array
 * it did not allocate, which left this one unreferenced (a leak report).
 */
static char **volatile title_environ;

/* The end of s if the next string starts right after it, else NULL. */
static char *
follows(char *end, char *s)
{
	return s == end ? s + strlen(s) + 1 : NULL;
}

void
proctitle_init(int argc, char **argv)
{
	char *start, *end, *next, **env = NULL, **args = NULL;
	size_t n = 0, nenv = 0, i;
	int k;

	if (argc < 1 || argv == NULL || argv[0] == NULL || title_area != NULL)
		return;
	/* The strings must be one run: argv[0], argv[1]..., environ[0]... */
	start = argv[0];
	end = start + strlen(start) + 1;
	for (k = 1; k < argc && (next = follows(end, argv[k])) != NULL; k++)
		end = next;
	if (k == argc && environ != NULL) {
		for (n = 0; environ[n] != NULL; n++)
			;
		while (
		    nenv < n && (next = follows(end, environ[nenv])) != NULL) {
			end = next;
			nenv++;
		}
	}
	/* Copy what the title will overwrite; on failure change nothing. */
	if ((args = calloc((size_t)argc, sizeof(*args))) == NULL)
		return;
	for (k = 0; k < argc; k++)
		if ((args[k] = strdup(argv[k])) == NULL)
			goto out;
	if (nenv > 0) {
		if ((env = calloc(n + 1, sizeof(*env))) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			if ((env[i] = strdup(environ[i])) == NULL)
				goto out;
		/*
		 * The copies stay listed here too: unsetenv() drops a string
		 * from environ without freeing it, and then nothing else
		 * would point at it (a leak, to LeakSanitizer).
		 */
		if ((title_env = calloc(n + 1, sizeof(*title_env))) != NULL)
			memcpy(title_env, env, n * sizeof(*env));
		environ = env;
		title_environ = env;
		env = NULL;
	}
	for (k = 0; k < argc; k++)
		argv[k] = args[k];
	title_args = args;
	args = NULL;
	title_area = start;
	title_room = (size_t)(end - start);
out:
	for (k = 0; args != NULL && k < argc; k++)
		free(args[k]);
	free(args);
	for (i = 0; env != NULL && i < n; i++)
		free(env[i]);
	free(env);
}

void
proctitle_set(const char *fmt, ...)
{
	char title[PROCTITLE_MAX];
	va_list ap;
	size_t len, off;

	if (title_area == NULL || title_room < 2)
		return;
	off = (size_t)snprintf(
	    title, sizeof(title), "%s: ", POSTERN_SYSLOG_IDENT);
	if (off >= sizeof(title))
		return;
	va_start(ap, fmt);
	vsnprintf(title + off, sizeof(title) - off, fmt, ap);
	va_end(ap);
	len = strlen(title);
	if (len > title_room - 1)
		len = title_room - 1;
	memcpy(title_area, title, len);
	/* NUL padding: ps shows nothing of the old strings after the title. */
	memset(title_area + len, '\0', title_room - len);
}

void
proctitle_name(void)
{
	(void)prctl(PR_SET_NAME, POSTERN_SYSLOG_IDENT, 0, 0, 0);
}
