/*
 * postern_sftp_stdio.c: the SFTP engine as a stdin/stdout program, so that
 * the real OpenSSH client can drive it through OpenSSH's sshd
 * ("Subsystem sftp .../postern-sftp-stdio [flags]") before postern's
 * session hosts the engine in-process. Test-only; never installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "session/sftp.h"

#define READ_CHUNK (256 * 1024)

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Send what the engine has queued; 0, or -1 when stdout is gone. */
static int
flush_some(struct sftp_server *s)
{
	ssize_t n;

	while (sftp_server_output_pending(s) > 0) {
		n = write(STDOUT_FILENO, sftp_server_output_ptr(s),
		    sftp_server_output_pending(s));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		sftp_server_output_consume(s, (size_t)n);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[READ_CHUNK];
	struct sftp_options o;
	struct sftp_server *s;
	struct passwd *pw;
	struct pollfd pfd[2];
	const char *msg, *conn;
	char addr[64];
	int r, eof = 0, status = 0;
	unsigned i;
	ssize_t n;

	sftp_options_init(&o);
	if (sftp_parse_options(argc, argv, &o, &msg) != 0) {
		fprintf(stderr, "%s: %s\nusage: %s %s\n", argv[0], msg, argv[0],
		    sftp_usage());
		return 1;
	}
	if (o.query_requests) {
		for (i = 0; sftp_request_name(i) != NULL; i++)
			printf("%s\n", sftp_request_name(i));
		return 0;
	}
	if ((pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr, "%s: no passwd entry for uid %u\n", argv[0],
		    (unsigned)getuid());
		return 1;
	}
	o.user = pw->pw_name;
	o.home = pw->pw_dir;
	if ((conn = getenv("SSH_CONNECTION")) != NULL) {
		snprintf(
		    addr, sizeof(addr), "%.*s", (int)strcspn(conn, " "), conn);
		o.client_addr = addr;
	}
	log_init("sftp-server", (enum log_level)o.log_level,
	    o.log_facility >= 0 ? o.log_facility : LOG_AUTH, o.log_stderr);
	if ((s = sftp_server_new(&o)) == NULL) {
		fprintf(
		    stderr, "%s: cannot start: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (set_nonblock(STDIN_FILENO) == -1 ||
	    set_nonblock(STDOUT_FILENO) == -1) {
		fprintf(stderr, "%s: fcntl: %s\n", argv[0], strerror(errno));
		sftp_server_free(s);
		return 1;
	}
	for (;;) {
		pfd[0].fd =
		    !eof && sftp_server_want_input(s) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd =
		    sftp_server_output_pending(s) > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		pfd[0].revents = pfd[1].revents = 0;
		if (pfd[0].fd == -1 && pfd[1].fd == -1)
			break; /* input ended and every reply went out */
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			status = 2;
			break;
		}
		if (pfd[1].revents != 0) {
			if (flush_some(s) != 0)
				break; /* the client went away */
			/* Room again: run requests the engine held back. */
			if ((r = sftp_server_input(s, NULL, 0)) != 0) {
				status = 1;
				break;
			}
		}
		if (pfd[0].revents != 0) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				eof = 1;
				continue;
			}
			if ((r = sftp_server_input(s, buf, (size_t)n)) != 0) {
				status = 1;
				break;
			}
		}
	}
	sftp_server_free(s);
	return status;
}
