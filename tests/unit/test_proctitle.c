/*
 * test_proctitle.c: process titles: the argument strings move to the heap
 * intact, the title goes where they were, padded with NULs and cut to the
 * room they took.
 */
#include <string.h>

#include "log.h"
#include "proctitle.h"
#include "t.h"

int
main(void)
{
	/* Arguments laid out as the kernel lays them out: one run. */
	char area[] = "/usr/sbin/posternd\0-D\0-f\0/etc/ssh/sshd_config";
	char *argv[5];
	char title[sizeof(area)];
	size_t room = sizeof(area);

	argv[0] = area;
	argv[1] = area + 19;
	argv[2] = area + 22;
	argv[3] = area + 25;
	argv[4] = NULL;
	/* Before init: nothing to write into, nothing written. */
	proctitle_set("too early");
	T_CHECK(
	    "no title before init", strcmp(area, "/usr/sbin/posternd") == 0);

	proctitle_init(4, argv);
	T_CHECK("argv moved", argv[0] != area && argv[3] != area + 25);
	T_CHECK("argv intact",
	    strcmp(argv[0], "/usr/sbin/posternd") == 0 &&
	        strcmp(argv[1], "-D") == 0 && strcmp(argv[2], "-f") == 0 &&
	        strcmp(argv[3], "/etc/ssh/sshd_config") == 0 &&
	        argv[4] == NULL);

	proctitle_set("%s [priv]", "alice");
	T_CHECK(
	    "title", strcmp(area, POSTERN_SYSLOG_IDENT ": alice [priv]") == 0);
	memset(title, 0, sizeof(title));
	T_CHECK("NUL padded to the end",
	    memcmp(area + strlen(area), title, room - strlen(area)) == 0);
	T_CHECK("arguments untouched",
	    strcmp(argv[3], "/etc/ssh/sshd_config") == 0);

	proctitle_set("%s",
	    "a title much longer than the room the arguments "
	    "took when the process started");
	T_CHECK("cut to the room",
	    strlen(area) == room - 1 &&
	        strncmp(area, POSTERN_SYSLOG_IDENT ": a title much",
	            strlen(POSTERN_SYSLOG_IDENT ": a title much")) == 0);
	return T_DONE();
}
