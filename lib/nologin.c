/*
 * nologin.c: /etc/nologin's existence and text (nologin.h).
 */
#include <sys/stat.h>

#include <paths.h>
#include <stdio.h>
#include <stdlib.h>

#include "nologin.h"

int
nologin_read(char **textp)
{
	struct stat st;
	FILE *f;
	size_t n = 0;

	*textp = NULL;
	if (stat(_PATH_NOLOGIN, &st) != 0)
		return 0;
	if ((*textp = malloc(NOLOGIN_TEXT_MAX + 1)) == NULL)
		return 1;
	if ((f = fopen(_PATH_NOLOGIN, "re")) != NULL) {
		n = fread(*textp, 1, NOLOGIN_TEXT_MAX, f);
		fclose(f);
	}
	(*textp)[n] = '\0';
	return 1;
}
