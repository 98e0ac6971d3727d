/*
 * sftp.h: the SFTP version 3 server (draft-ietf-secsh-filexfer-02 with
 * OpenSSH's extensions, PROTOCOL section 4) as an engine that the session
 * runs in-process inside its event loop: bytes in, bytes out, no process
 * and no pipe of its own (session/sftp_channel.c hosts it on a channel;
 * sftp_host.c on a pair of descriptors, for the test wrapper).
 *
 * Hosting it (one engine per "subsystem sftp" channel):
 *   - hand the peer's data to sftp_server_input(); the engine runs whole
 *     requests straight from those bytes and queues the rest (a partial
 *     packet, or requests held back while its output queue is full).
 *     Re-open the peer's window only for bytes it has finished with: what
 *     was handed over less the growth of sftp_server_input_queued();
 *   - send sftp_server_output_ptr()/sftp_server_output_pending() as
 *     channel data as the peer's window allows, then
 *     sftp_server_output_consume() what was sent and call
 *     sftp_server_input(s, NULL, 0) to let it work on requests it queued;
 *   - a negative return from sftp_server_input() means the peer broke the
 *     protocol (or memory ran out): send what is pending and close the
 *     channel. At channel EOF, send what is pending, then free.
 * Everything runs as the process's user; nothing changes the process's
 * working directory or umask except for the duration of one system call.
 */
#ifndef POSTERN_SFTP_H
#define POSTERN_SFTP_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* OpenSSH's SFTP_MAX_MSG_LENGTH: the largest packet either side sends. */
#define SFTP_MAX_MSG_LENGTH (256 * 1024)
#define SFTP_MAX_READ_LENGTH (SFTP_MAX_MSG_LENGTH - 1024)
#define SFTP_MAX_HANDLES_DEFAULT 512

struct sftp_server;

/* The host's sink for the engine's log lines (level: an enum log_level). */
typedef void (*sftp_log_fn)(void *ctx, int level, const char *msg);

/*
 * Options, as sftp-server(8) takes them. sftp_parse_options() fills the
 * flags and points into argv; the caller sets user, home and client_addr.
 * sftp_server_new() copies what it keeps. -l filters this engine's own
 * lines; -f and -e concern the process's logging, so the host applies
 * them (log_set_facility, log_set_stderr) as OpenSSH's internal-sftp
 * re-initialises logging in its session process.
 */
struct sftp_options {
	int read_only;           /* -R */
	int umask;               /* -u; -1: the process's own umask */
	int log_level;           /* -l, an enum log_level; LL_ERROR default */
	int log_facility;        /* -f, a syslog facility; -1: not given */
	int log_stderr;          /* -e */
	int query_requests;      /* -Q requests was given */
	int bad_flag_fatal;      /* the refused flag is one sftp-server's
				  * fatal() refuses (exit 255), not usage() */
	const char *start_dir;   /* -d, before ~, %d, %u, %U expansion */
	const char *deny;        /* -P: comma-separated request names */
	const char *allow;       /* -p: comma-separated request names */
	const char *user;        /* the user's name (for %u and logs) */
	const char *home;        /* the user's home: start dir, ~, %d */
	const char *client_addr; /* for "session opened ... from [addr]" */
	unsigned max_handles;    /* 0: SFTP_MAX_HANDLES_DEFAULT */
	/* Where the engine's own lines (those -l lets through) go; NULL: the
	 * process's log. A host applies -e and -f this way. */
	sftp_log_fn log_fn;
	void *log_ctx;
};

/* sftp_options_init: the defaults (no flags, -l ERROR). */
void sftp_options_init(struct sftp_options *o);

/*
 * sftp_parse_options: internal-sftp / sftp-server flags
 * [-cehR] [-d dir] [-f facility] [-l level] [-P denied] [-p allowed]
 * [-Q requests] [-u umask]. argv[0] is the program name. Returns 0, or
 * ERR_CONFIG (with *errmsg set to a static description) for a bad or
 * unknown flag and for -h. o must have been initialised.
 */
int sftp_parse_options(
    int argc, char **argv, struct sftp_options *o, const char **errmsg);

/* sftp_usage: the flags part of the usage line (after the name). */
const char *sftp_usage(void);

/*
 * sftp_split_args: a command line ("internal-sftp -d '/a b'") into words
 * as OpenSSH's argv_split: blanks separate, '...' and "..." quote, a
 * backslash escapes a quote, a backslash or a blank. line is modified;
 * argv gets at most max - 1 words and a NULL. Returns the count or -1.
 */
int sftp_split_args(char *line, char **argv, int max);

/* sftp_request_name: the i-th request name (for -Q requests), or NULL. */
const char *sftp_request_name(unsigned i);

/*
 * sftp_server_new: an engine for one client, starting in -d (expanded),
 * else home, else the process's directory. NULL (with errno set) if
 * memory runs out or no directory can be opened; errno EINVAL: -d has
 * an unknown %-token or ~NAME, logged in sftp-server's words (which
 * exits 255 for it).
 */
struct sftp_server *sftp_server_new(const struct sftp_options *o);

/*
 * sftp_server_input: len bytes from the client (any split: partial or many
 * packets); data may be NULL when len is 0, which only resumes work on
 * queued requests. Returns 0, or a negative ERR_* once the client broke
 * the protocol; every later call returns the same error.
 */
int sftp_server_input(struct sftp_server *s, const uint8_t *data, size_t len);

/* Bytes waiting to go to the client, oldest first. */
size_t sftp_server_output_pending(const struct sftp_server *s);
const uint8_t *sftp_server_output_ptr(const struct sftp_server *s);
void sftp_server_output_consume(struct sftp_server *s, size_t n);

/*
 * sftp_server_want_input: 1 if the engine takes more input now, 0 while
 * its output queue is full (or it failed): stop reading from the client.
 */
int sftp_server_want_input(const struct sftp_server *s);
/*
 * sftp_server_busy: 1 while a request runs in steps (copy-data): the host
 * calls sftp_server_input(s, NULL, 0) each loop turn, without waiting for
 * input, until it is 0 again.
 */
int sftp_server_busy(const struct sftp_server *s);

/*
 * sftp_server_exit_status: once sftp_server_input failed, sftp-server's
 * exit code for it: 11 for a request longer than the limit, else 255 (its
 * fatal(): a request it cannot parse, one before INIT...); 0 before.
 */
int sftp_server_exit_status(const struct sftp_server *s);

/* Bytes of input held by the engine (partial or held-back requests). */
size_t sftp_server_input_queued(const struct sftp_server *s);

/* sftp_server_free: closes every open handle; NULL is fine. */
void sftp_server_free(struct sftp_server *s);

/*
 * sftp_server_kill: sftp_server_free for an engine that ends as
 * sftp-server killed by a signal would: no close or "session closed" line.
 */
void sftp_server_kill(struct sftp_server *s);

/*
 * sftp_host_serve: run engine s on infd (requests) and outfd (replies),
 * made non-blocking, until infd reaches EOF and every reply went out, or
 * outfd is gone. Returns an exit status: 0, 1 when the client broke the
 * protocol, 2 when poll failed.
 */
int sftp_host_serve(struct sftp_server *s, int infd, int outfd);

/*
 * sftp_host_open: internal-sftp / sftp-server started from its command
 * line (argv[0] the name) for user: parse the flags, answer -Q, start an
 * engine. Returns -1 with *sp set and *o filled (the host applies -e and
 * -f), or an exit status when there is nothing to serve: then text for
 * the client's stdout (-Q's list) is appended to out and a usage or start
 * error to err.
 */
int sftp_host_open(int argc, char **argv, const char *user, const char *home,
    const char *client_addr, struct sftp_options *o, struct sftp_server **sp,
    struct buf *out, struct buf *err);

/*
 * sftp_host_log_line: one of the engine's lines into the process's log at
 * level, whatever the process's own level, with syslog facility (-f) if
 * it is >= 0.
 */
void sftp_host_log_line(int facility, int level, const char *msg);

/*
 * sftp_host_main: internal-sftp / sftp-server as a program on these fds:
 * sftp_host_open, -l, -f and -e applied to this process's logging, then
 * one client served with sftp_host_serve. Returns the exit status.
 */
int sftp_host_main(int argc, char **argv, int infd, int outfd, int errfd,
    const char *user, const char *home, const char *client_addr);

#endif
