/*
 * sftp_host.c: starting the SFTP engine from internal-sftp's command
 * line, and serving it on a pair of file descriptors (the test program
 * on stdin and stdout): the engine's hosting rules of sftp.h on
 * non-blocking pipes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fdutil.h"
#include "log.h"
#include "session/sftp.h"

#define SFTP_HOST_READ_CHUNK (256 * 1024)

/* Send what the engine has queued; 0, or -1 once outfd is gone. */
static int
flush_some(struct sftp_server *s, int outfd)
{
	ssize_t n;

	while (sftp_server_output_pending(s) > 0) {
		n = write(outfd, sftp_server_output_ptr(s),
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

/* Write all of a buffer to a possibly blocking fd. */
static void
put_all(int fd, const struct buf *b)
{
	const uint8_t *p = buf_ptr(b);
	size_t off = 0, len = buf_len(b);
	ssize_t n;

	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

int
sftp_host_serve(struct sftp_server *s, int infd, int outfd)
{
	uint8_t *buf;
	struct pollfd pfd[2];
	int eof = 0, status = 0, busy;
	ssize_t n;

	if (fd_set_nonblock(infd) == -1 || fd_set_nonblock(outfd) == -1) {
		error_f("fcntl: %s", strerror(errno));
		return 1;
	}
	if ((buf = malloc(SFTP_HOST_READ_CHUNK)) == NULL) {
		error_f("out of memory");
		return 1;
	}
	for (;;) {
		/* copy-data goes on in steps, between the other I/O. */
		busy = sftp_server_busy(s);
		pfd[0].fd = !eof && sftp_server_want_input(s) ? infd : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = sftp_server_output_pending(s) > 0 ? outfd : -1;
		pfd[1].events = POLLOUT;
		pfd[0].revents = pfd[1].revents = 0;
		if (pfd[0].fd == -1 && pfd[1].fd == -1 && !busy)
			break; /* input ended and every reply went out */
		if (poll(pfd, 2, busy ? 0 : -1) == -1) {
			if (errno == EINTR)
				continue;
			status = 2;
			break;
		}
		if (busy && pfd[1].revents == 0 &&
		    sftp_server_input(s, NULL, 0) != 0) {
			status = sftp_server_exit_status(s);
			break;
		}
		if (pfd[1].revents != 0) {
			if (flush_some(s, outfd) != 0)
				break; /* the client went away */
			/* Room again: run requests the engine held back. */
			if (sftp_server_input(s, NULL, 0) != 0) {
				status = sftp_server_exit_status(s);
				break;
			}
		}
		if (pfd[0].revents != 0) {
			n = read(infd, buf, SFTP_HOST_READ_CHUNK);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				eof = 1;
				continue;
			}
			if (sftp_server_input(s, buf, (size_t)n) != 0) {
				status = sftp_server_exit_status(s);
				break;
			}
		}
	}
	/* A broken protocol: still send the replies already made. */
	if (sftp_server_exit_status(s) != 0) {
		(void)fcntl(
		    outfd, F_SETFL, fcntl(outfd, F_GETFL) & ~O_NONBLOCK);
		(void)flush_some(s, outfd);
	}
	free(buf);
	return status;
}

int
sftp_host_open(int argc, char **argv, const char *user, const char *home,
    const char *client_addr, struct sftp_options *o, struct sftp_server **sp,
    struct buf *out, struct buf *err)
{
	const char *msg, *name = argc > 0 ? argv[0] : "internal-sftp";
	char line[512], why[256];
	unsigned i;
	int r = 0;

	*sp = NULL;
	if (sftp_parse_options(argc, argv, o, &msg) != 0) {
		/* Logged too, as sftp-server logs it: a subsystem's stderr
		 * reaches nobody. What its fatal() refuses is a "fatal:"
		 * line and exit status 255, as there. */
		if (o->bad_flag_fatal) {
			sftp_host_log_line(o->log_facility, LL_FATAL, msg);
			snprintf(line, sizeof(line), "%s: %s\n", name, msg);
			(void)buf_put(err, line, strlen(line));
			return 255;
		}
		if (strcmp(msg, "usage") != 0) /* -h asks for it */
			sftp_host_log_line(o->log_facility, LL_ERROR, msg);
		snprintf(line, sizeof(line), "%s: %s\nusage: %s %s\n", name,
		    msg, name, sftp_usage());
		(void)buf_put(err, line, strlen(line));
		return 1;
	}
	if (o->query_requests) {
		for (i = 0; r == 0 && sftp_request_name(i) != NULL; i++)
			if ((r = buf_put(out, sftp_request_name(i),
			         strlen(sftp_request_name(i)))) == 0)
				r = buf_put_u8(out, '\n');
		return 0;
	}
	o->user = user;
	o->home = home;
	o->client_addr = client_addr;
	if ((*sp = sftp_server_new(o)) == NULL) {
		/* A -d it could not expand: logged, and sftp-server's exit
		 * status. */
		if (errno == EINVAL)
			return 255;
		/* One text for the log and the client: logging may change
		 * errno. */
		snprintf(why, sizeof(why), "cannot start: %s", strerror(errno));
		sftp_host_log_line(o->log_facility, LL_ERROR, why);
		snprintf(line, sizeof(line), "%s: %s\n", name, why);
		(void)buf_put(err, line, strlen(line));
		return 1;
	}
	return -1;
}

/* This process serves only the engine: -e and -f are its own. */
static void
host_main_log(void *ctx, int level, const char *msg)
{
	const struct sftp_options *o = ctx;

	log_set_stderr(o->log_stderr);
	sftp_host_log_line(o->log_facility, level, msg);
}

int
sftp_host_main(int argc, char **argv, int infd, int outfd, int errfd,
    const char *user, const char *home, const char *client_addr)
{
	struct sftp_options o;
	struct sftp_server *s;
	struct buf *out, *err;
	int status;

	out = buf_new(64 * 1024);
	err = buf_new(4096);
	if (out == NULL || err == NULL) {
		buf_free(out);
		buf_free(err);
		return 1;
	}
	sftp_options_init(&o);
	o.log_fn = host_main_log;
	o.log_ctx = &o;
	status = sftp_host_open(
	    argc, argv, user, home, client_addr, &o, &s, out, err);
	put_all(outfd, out);
	put_all(errfd, err);
	buf_free(out);
	buf_free(err);
	if (status >= 0)
		return status;
	/* -l: this process only serves the engine. */
	log_set_level((enum log_level)o.log_level);
	status = sftp_host_serve(s, infd, outfd);
	sftp_server_free(s);
	return status;
}
