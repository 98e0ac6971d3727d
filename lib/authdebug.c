/*
 * authdebug.c: the lines a login's key checks leave for the client
 * (SSH_MSG_DEBUG, as sshd's), kept in the monitor until the session
 * starts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authdebug.h"

static char *lines[AUTHDEBUG_MAX_LINES];
static size_t nlines;

void
authdebug_add(const char *fmt, ...)
{
	char text[AUTHDEBUG_MAX_LEN + 1];
	va_list ap;
	size_t i;

	if (nlines >= AUTHDEBUG_MAX_LINES)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 ||
		    (unsigned char)text[i] == 0x7f)
			text[i] = '?';
	if ((lines[nlines] = strdup(text)) != NULL)
		nlines++;
}

size_t
authdebug_count(void)
{
	return nlines;
}

const char *
authdebug_get(size_t i)
{
	return i < nlines ? lines[i] : NULL;
}

void
authdebug_clear(void)
{
	size_t i;

	for (i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}
