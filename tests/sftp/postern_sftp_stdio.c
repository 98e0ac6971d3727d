/*
 * postern_sftp_stdio.c: the SFTP engine as a stdin/stdout program, so that
 * the real OpenSSH client can drive it through OpenSSH's sshd
 * ("Subsystem sftp .../postern-sftp-stdio [flags]"), with the same host
 * loop postern's session runs for internal-sftp (session/sftp_host.c).
 * Test-only; never installed.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "session/sftp.h"

int
main(int argc, char **argv)
{
	struct passwd *pw;
	const char *conn;
	char addr[64];

	if ((pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr, "%s: no passwd entry for uid %u\n", argv[0],
		    (unsigned)getuid());
		return 1;
	}
	addr[0] = '\0';
	if ((conn = getenv("SSH_CONNECTION")) != NULL)
		snprintf(
		    addr, sizeof(addr), "%.*s", (int)strcspn(conn, " "), conn);
	log_init("sftp-server", LL_ERROR, LOG_AUTH, 0);
	return sftp_host_main(argc, argv, STDIN_FILENO, STDOUT_FILENO,
	    STDERR_FILENO, pw->pw_name, pw->pw_dir,
	    addr[0] != '\0' ? addr : NULL);
}
