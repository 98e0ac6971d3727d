/*
 * channel_session.c: the "session" channel type (RFC 4254 s6): its
 * requests, the child it runs, and exit-status/exit-signal at its end.
 */
#include <errno.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <termios.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "nologin.h"
#include "proctitle.h"
#include "transport.h"
#include "session.h"
#include "session_exec.h"
#include "session_login.h"
#include "session_pty.h"
#include "channel.h"

/* The longest TERM we take from a pty-req. */
#define SESSION_TERM_MAX 256

struct chan_session {
	struct session_pty pty; /* pty.master >= 0 after a granted pty-req */
	pid_t pid;              /* the child, once started */
	int started; /* exec or shell accepted: only one per channel */
	int reaped;  /* the child was waited for; status is valid */
	int status;  /* wait status */
	int forced;  /* running the forced command */
	int subsys;  /* running a subsystem */
	/* The channel closes without waiting for the child (the peer closed
	 * it, or it idled past ChannelTimeout): the child runs on, as with
	 * sshd, and no exit-status is sent. */
	int detached;
	int eow;    /* eow@openssh.com: the client writes no more output */
	char **env; /* env requests AcceptEnv let through, "NAME=value" */
	size_t nenv;
	struct x11_fwd *x11; /* after a granted x11-req */
};

static struct chan_session *
sess(struct channel *c)
{
	return c->priv;
}

static int
session_open(
    struct conn *conn, struct channel *c, struct buf *m, uint32_t *reason)
{
	struct chan_session *s;
	int r;

	if ((r = buf_end(m)) != 0)
		return r;
	/* As sshd: the client said it would open no more. */
	if (conn->no_more_sessions)
		return conn_protocol_error(conn,
		    "Possible attack: attempt to open a session after "
		    "additional sessions disabled");
	if (conn->nsessions >= conn->max_sessions) {
		error("no more sessions");          /* sshd's words */
		*reason = SSH2_OPEN_CONNECT_FAILED; /* as sshd's */
		return 0;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_ALLOC;
	session_pty_init(&s->pty);
	c->priv = s;
	conn->nsessions++;
	return 0;
}

static void
session_peer_closed(struct conn *conn, struct channel *c)
{
	struct chan_session *s = sess(c);
	int status;

	/*
	 * A client may close right after our EOF; a child that has already
	 * exited is reaped now so its exit-status still goes out first.
	 */
	if (s->started && !s->reaped &&
	    waitpid(s->pid, &status, WNOHANG) == s->pid) {
		s->reaped = 1;
		s->status = status;
	}
	/* An in-process service ends with the channel. */
	if (c->svc != NULL && !s->reaped)
		s->reaped = 1;
	s->detached = 1;
}

/*
 * A child still running when its channel goes keeps the session's
 * MaxSessions slot until it exits, as sshd keeps the session; 1 if so
 * (channel_session_reaped gives the slot back).
 */
static int
session_detach_child(struct conn *conn, struct chan_session *s)
{
	pid_t *grown;

	if (!s->started || s->reaped || s->pid <= 0 ||
	    conn->ndetached >= conn->max_sessions)
		return 0;
	if ((grown = realloc(conn->detached,
	         (size_t)(conn->ndetached + 1) * sizeof(*grown))) == NULL)
		return 0;
	conn->detached = grown;
	conn->detached[conn->ndetached++] = s->pid;
	return 1;
}

/*
 * The title OpenSSH's processes show: "sshd: USER@pts/N[,pts/M...]" while
 * session channels hold terminals (sshd's session_tty_list, in channel
 * order), else "sshd: USER@internal-sftp" while internal-sftp runs here
 * (what sshd's own child for it is titled), else "sshd: USER@notty".
 * gone: a channel being freed, left out.
 */
static void
session_retitle(struct conn *conn, const struct channel *gone)
{
	char ttys[256];
	size_t len = 0;
	int sftp = 0, n;
	uint32_t id;

	ttys[0] = '\0';
	for (id = 0; id < conn->nslots; id++) {
		const struct channel *c = conn->chans[id];
		const char *name;

		if (c == NULL || c == gone)
			continue;
		if (chan_is_sftp(c))
			sftp = 1;
		if (c->type != &channel_type_session || c->priv == NULL ||
		    sess((struct channel *)c)->pty.master < 0)
			continue;
		name = sess((struct channel *)c)->pty.name;
		if (strncmp(name, "/dev/", 5) == 0)
			name += 5;
		n = snprintf(ttys + len, sizeof(ttys) - len, "%s%s",
		    len > 0 ? "," : "", name);
		if (n < 0 || (size_t)n >= sizeof(ttys) - len)
			break; /* as sshd's strlcat: what fits */
		len += (size_t)n;
	}
	proctitle_set("%s@%s", conn->ctx->user,
	    len > 0    ? ttys
	        : sftp ? "internal-sftp"
	               : "notty");
}

static void
session_free(struct conn *conn, struct channel *c)
{
	struct chan_session *s = sess(c);

	/* sshd's child exits at a read error, at a timeout or protocol
	 * error of its own, or at the client's DISCONNECT while the
	 * session's channel is open, without closing its sessions (a channel
	 * the client closed first is sshd's garbage by then). */
	if (!transport_peer_reset(conn->t) && !conn->server_ended &&
	    (!conn->ctx->peer_disconnected || (c->flags & CHAN_RCVD_CLOSE)))
		verbose("Close session: user %s from %s port %d id %u",
		    conn->ctx->user, conn->ctx->client_addr,
		    conn->ctx->client_port, c->id);
	/*
	 * The monitor writes the logout record and closes its master; with
	 * ours closed below the terminal hangs up, and the kernel sends
	 * SIGHUP to the program that leads its session, as with sshd, which
	 * sends no signal of its own. A program without a terminal is left
	 * running: its pipes close (EOF on stdin, SIGPIPE when it writes),
	 * so that "ssh host 'job > log'" survives a dropped connection.
	 */
	if (s->pty.master >= 0 &&
	    session_login_logout(conn->ctx->monitor_fd, s->pty.name) != 0)
		error("channel %u: logout record for %s failed", c->id,
		    s->pty.name);
	session_env_free(s->env, s->nenv);
	x11_free(conn, s->x11);
	session_pty_free(&s->pty);
	session_retitle(conn, c);
	if (!session_detach_child(conn, s))
		conn->nsessions--;
	free(c->priv);
	c->priv = NULL;
}

static int
session_close_ready(struct conn *conn, struct channel *c)
{
	return sess(c)->reaped || sess(c)->detached;
}

/* exit-status or exit-signal, the last thing before CLOSE (s6.10). */
static int
session_before_close(struct conn *conn, struct channel *c)
{
	struct chan_session *s = sess(c);
	struct buf *m;
	int r;

	if (!s->reaped) /* detached: the child runs on */
		return 0;
	if (WIFEXITED(s->status)) {
		debug("channel %u: exit-status %d", c->id,
		    WEXITSTATUS(s->status));
		if ((r = channel_request_begin(conn, c, "exit-status", &m)) !=
		        0 ||
		    (r = buf_put_u32(m, (uint32_t)WEXITSTATUS(s->status))) != 0)
			return r;
	} else if (WIFSIGNALED(s->status)) {
		debug("channel %u: exit-signal %s", c->id,
		    signal_to_name(WTERMSIG(s->status)));
		if ((r = channel_request_begin(conn, c, "exit-signal", &m)) !=
		        0 ||
		    (r = buf_put_cstring(
		         m, signal_to_name(WTERMSIG(s->status)))) != 0 ||
		    (r = buf_put_bool(m, WCOREDUMP(s->status))) != 0 ||
		    (r = buf_put_cstring(m, "")) != 0 ||
		    (r = buf_put_cstring(m, "")) != 0)
			return r;
	} else
		return 0;
	return transport_packet_send(conn->t);
}

/*
 * sshd's SSH_NEW_OPENSSH (compat.c): the client's software version is
 * OpenSSH's, later than 4.x. Only to such a client does sshd send
 * eow@openssh.com.
 */
static int
peer_new_openssh(const struct transport *t)
{
	const char *v = transport_peer_version(t), *soft;

	/* "SSH-2.0-SOFTWARE COMMENT", checked when it was read. */
	if (v == NULL || strncmp(v, "SSH-", 4) != 0 ||
	    (soft = strchr(v + 4, '-')) == NULL)
		return 0;
	soft++;
	return strncmp(soft, "OpenSSH", 7) == 0 &&
	    strncmp(soft, "OpenSSH_2", 9) != 0 &&
	    strncmp(soft, "OpenSSH_3", 9) != 0 &&
	    strncmp(soft, "OpenSSH_4", 9) != 0;
}

/*
 * Nothing reads the client's input any more: the program exited (its
 * stdin went with it) or closed its stdin. As sshd (chan_write_failed),
 * eow@openssh.com tells an OpenSSH client, which then stops reading its
 * own stdin instead of sending what would only be dropped.
 */
static int
session_write_failed(struct conn *conn, struct channel *c)
{
	struct buf *m;
	int r;

	if (!peer_new_openssh(conn->t))
		return 0;
	debug2("channel %u: send eow", c->id);
	if ((r = channel_request_begin(conn, c, "eow@openssh.com", &m)) != 0)
		return r;
	return transport_packet_send(conn->t);
}

void
channel_session_reaped(struct conn *conn, pid_t pid, int status)
{
	struct channel *c;
	struct chan_session *s;
	uint32_t id;
	int i;

	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL ||
		    c->type != &channel_type_session)
			continue;
		s = sess(c);
		if (!s->started || s->reaped || s->pid != pid)
			continue;
		debug("channel %u: child %ld exited", c->id, (long)pid);
		s->reaped = 1;
		s->status = status;
		/* As OpenSSH: the child's stdin goes when it does. */
		channel_write_done(c);
		/* A job it left may hold the terminal: what is there now is
		 * the rest of the output (sshd: detach_close on a tty). */
		if (s->pty.master >= 0)
			c->flags |= CHAN_RFD_DRAIN;
		return;
	}
	for (i = 0; i < conn->ndetached; i++) {
		if (conn->detached[i] != pid)
			continue;
		debug("child %ld of a closed session exited", (long)pid);
		conn->detached[i] = conn->detached[--conn->ndetached];
		conn->nsessions--;
		return;
	}
	for (id = 0; id < conn->nslots; id++)
		if ((c = conn->chans[id]) != NULL && chan_sftp_reaped(c, pid))
			return;
	debug_f("child %ld was not a session's", (long)pid);
}

void
channel_session_service_done(
    struct conn *conn, struct channel *c, int status, int sig)
{
	struct chan_session *s = sess(c);

	if (sig != 0)
		debug("channel %u: internal-sftp ended, signal %s", c->id,
		    signal_to_name(sig));
	else
		debug("channel %u: internal-sftp ended, status %d", c->id,
		    status);
	s->reaped = 1;
	s->status = W_EXITCODE(sig != 0 ? 0 : status, sig);
	/* No fds: from now on the output counts as finished. */
	c->flags |= CHAN_IO;
}

/* "internal-sftp" alone or followed by a blank: the engine, not a program. */
static int
is_internal_sftp(const char *command)
{
	static const char name[] = "internal-sftp";

	return command != NULL &&
	    strncmp(command, name, sizeof(name) - 1) == 0 &&
	    (command[sizeof(name) - 1] == '\0' ||
	        command[sizeof(name) - 1] == ' ' ||
	        command[sizeof(name) - 1] == '\t');
}

/* A pty login is recorded (utmp, wtmp, lastlog) first: the last login. */
static char *
pty_login(
    const struct session_ctx *ctx, struct channel *c, struct chan_session *s)
{
	char *lastlog = NULL;

	if (s->pty.master < 0 || s->pty.logged_in)
		return NULL;
	if (session_login_record(
	        ctx->monitor_fd, s->pty.name, getpid(), &lastlog) == 0)
		s->pty.logged_in = 1;
	else
		error("channel %u: login record for %s failed", c->id,
		    s->pty.name);
	return lastlog;
}

/*
 * The client can write no more of the program's output (eow@openssh.com,
 * sent when its stdout fails, as with "ssh host yes | head -1"): stop
 * reading it, so that the program's next write fails (SIGPIPE) and the
 * session ends, as OpenSSH does. Its stderr still goes out.
 */
static void
session_output_unwanted(struct conn *conn, struct channel *c)
{
	/* In-process internal-sftp: its replies go, as sshd's sftp-server
	 * child's output does once the channel stops reading it. */
	if (c->svc != NULL && c->svc->eow != NULL) {
		c->svc->eow(conn, c);
		return;
	}
	if (c->rfd < 0)
		return;
	debug2("channel %u: output no longer wanted, closing it", c->id);
	close(c->rfd);
	c->rfd = -1;
}

/*
 * IPQoS: the first session that starts a program sets the connection's
 * class, interactive or bulk, for the rest of the connection (as sshd
 * does); only on an IP socket, and never for "none".
 */
static void
session_set_qos(struct conn *conn, int interactive)
{
	const struct session_axl *axl = conn->ctx->axl;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = transport_fd(conn->t), v;

	if (conn->qos_chosen || axl == NULL)
		return;
	conn->qos_chosen = 1;
	v = interactive ? axl->ip_qos_interactive : axl->ip_qos_bulk;
	if (v == IPQOS_NONE ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v)) != 0)
		error("setsockopt IP_TOS %d: %s", v, strerror(errno));
	else if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)) != 0)
		error("setsockopt IPV6_TCLASS %d: %s", v, strerror(errno));
}

/* What a child of this channel gets from it (session_login.h). */
static void
child_of(struct conn *conn, struct chan_session *s, int subsystem,
    struct session_child *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->env = s->env;
	ch->nenv = s->nenv;
	ch->subsystem = subsystem;
	x11_child(s->x11, ch);
	ch->agent_sock = agent_socket_path(conn);
}

/*
 * A child that logs in: child_of, with the pty's login recorded first
 * (pty_login) and its last login in ch->lastlog; that text, to free once
 * the child is started.
 */
static char *
login_child(struct conn *conn, struct channel *c, struct chan_session *s,
    int subsystem, struct session_child *ch)
{
	char *lastlog;

	child_of(conn, s, subsystem, ch);
	lastlog = pty_login(conn->ctx, c, s);
	ch->lastlog = lastlog;
	return lastlog;
}

/*
 * internal-sftp in this process, after what sshd's child runs before
 * its sftp server (/etc/ssh/sshrc; session_exec_rc_start), whose output
 * goes out first; the connection is served meanwhile.
 */
static int
sftp_start(struct conn *conn, struct channel *c, struct chan_session *s,
    const char *run, const char *original)
{
	struct session_child ch;
	pid_t pid;
	int r, fd;

	child_of(conn, s, 1, &ch);
	if ((r = session_exec_rc_start(conn->ctx, &ch, original,
	         s->pty.master >= 0 ? &s->pty : NULL, &pid, &fd)) != 0)
		return r;
	if ((r = chan_sftp_start(conn, c, run, pid, fd)) == 0)
		session_retitle(conn, NULL);
	return r;
}

/*
 * exec, shell, subsystem: start the (forced) command once. An expired
 * password (LOGIN_F_PWCHANGE) runs only passwd(1), whatever was asked. subsystem is the
 * name when command is a Subsystem's "command args" line: it runs without
 * SSH_ORIGINAL_COMMAND. A command starting with internal-sftp (forced or
 * a subsystem's) serves SFTP in this process instead of running a program;
 * a forced one serves only subsystem requests.
 */
static int
session_start(struct conn *conn, struct channel *c, const char *command,
    const char *subsystem, int *ok)
{
	struct session_ctx *ctx = conn->ctx;
	struct chan_session *s = sess(c);
	const char *run = command, *original = NULL;
	char what[1024], xtype[300];
	int r, in = -1, out = -1, err = -1;
	int pwchange =
	    ctx->login != NULL && (ctx->login->flags & LOGIN_F_PWCHANGE);
	int nologin = !pwchange && ctx->login != NULL &&
	    (ctx->login->flags & LOGIN_F_NOLOGIN);
	char *nologin_now = NULL, *lastlog = NULL;
	struct session_child ch;
	/* As sshd's do_child(): an expired password is changed first. */
	int pamfailed = !pwchange && ctx->login != NULL &&
	    (ctx->login->flags & LOGIN_F_PAM_FAILED);
	pid_t pid = 0;

	if (s->started) {
		debug("channel %u: session already started", c->id);
		return 0;
	}
	/* Each session request finds /etc/nologin as it is now. */
	if (!pwchange && ctx->login != NULL &&
	    (ctx->login->flags & LOGIN_F_NOLOGIN_LIVE))
		nologin = nologin_read(&nologin_now);
	if (pwchange) {
		/* The client's request only names the log line's kind. */
		run = NULL;
		s->forced = 1;
	}
	if (ctx->forced_command != NULL && !pwchange) {
		original = command;
		run = ctx->forced_command;
		s->forced = 1;
		snprintf(what, sizeof(what), "forced-command %s '%.900s'",
		    ctx->forced_command_source ? ctx->forced_command_source
		                               : "(config)",
		    run);
	} else if (subsystem != NULL) {
		snprintf(what, sizeof(what), "subsystem '%.959s'", subsystem);
	} else
		snprintf(what, sizeof(what), "%s",
		    command == NULL ? "shell" : "command");
	/* As sshd: "... on pts/N for ..." once the session has a terminal. */
	verbose("Starting session: %s%s%s for %s from %s port %d id %u", what,
	    s->pty.master >= 0 ? " on " : "",
	    s->pty.master < 0                           ? ""
	        : strncmp(s->pty.name, "/dev/", 5) == 0 ? s->pty.name + 5
	                                                : s->pty.name,
	    ctx->user, ctx->client_addr, ctx->client_port, c->id);
	/* ChannelTimeout's names: session:shell, :command, :subsystem:X. */
	snprintf(xtype, sizeof(xtype), "session:%s%.256s",
	    subsystem             ? "subsystem:"
	        : command == NULL ? "shell"
	                          : "command",
	    subsystem != NULL ? subsystem : "");
	channel_set_timeout_type(conn, c, xtype);
	if (pamfailed) {
		/* As sshd's child when PAM's session is not open: whatever
		 * was asked for, PAM's messages and status 254. */
		debug("PAM session not opened, exiting");
		/* A pty login is still recorded and greeted, as sshd's
		 * do_login() does before do_child() gets there. */
		lastlog = login_child(conn, c, s, subsystem != NULL, &ch);
		r = session_exec_pam_failed(ctx, &ch, run,
		    s->pty.master >= 0 ? &s->pty : NULL, &pid, &in, &out, &err);
	} else if (nologin) {
		/* As OpenSSH's do_nologin(): whatever was asked for. */
		logit("User %.100s not allowed because %s exists", ctx->user,
		    _PATH_NOLOGIN);
		r = session_exec_nologin(s->pty.master >= 0 ? &s->pty : NULL,
		    nologin_now != NULL               ? nologin_now
		        : ctx->login->nologin != NULL ? ctx->login->nologin
		                                      : "",
		    &pid, &in, &out, &err);
	} else if (pwchange) {
		/* Recorded as a login (utmp); a pty without a command is
		 * greeted first, as sshd's do_login() before do_pwchange(). */
		lastlog = login_child(conn, c, s, subsystem != NULL, &ch);
		/* Quiet for what would have run, as sshd's do_login(). */
		r = session_exec_pwchange(ctx, &ch,
		    ctx->forced_command != NULL ? ctx->forced_command
		        : command != NULL       ? command
		                                : subsystem,
		    s->pty.master >= 0 ? &s->pty : NULL, &pid, &in, &out, &err);
	} else if (is_internal_sftp(run) && s->forced && subsystem == NULL) {
		/* As sshd: a forced internal-sftp serves the sftp subsystem
		 * only; a shell or exec request gets this and status 1. */
		error("Connection from user %s %s port %d: refusing non-sftp "
		      "session",
		    ctx->user, ctx->client_addr, ctx->client_port);
		r = session_exec_say(s->pty.master >= 0 ? &s->pty : NULL,
		    STDOUT_FILENO,
		    "This service allows sftp connections only.\n", 1, &pid,
		    &in, &out, &err);
	} else if (is_internal_sftp(run) && (s->forced || subsystem != NULL))
		/* A client's own exec of "internal-sftp" goes to its shell,
		 * as sshd: a nologin or git-shell account gets no SFTP. */
		r = sftp_start(conn, c, s, run, s->forced ? original : NULL);
	else {
		lastlog = login_child(conn, c, s, subsystem != NULL, &ch);
		r = session_exec_spawn(ctx, run, s->forced ? original : NULL,
		    s->pty.master >= 0 ? &s->pty : NULL, &ch, &pid, &in, &out,
		    &err);
	}
	free(lastlog);
	free(nologin_now);
	/*
	 * As sshd 9.2's do_exec(): PAM's messages were this child's to show
	 * (or to leave unsaid: a command is quiet); a later session on the
	 * connection (a ControlMaster's next shell) does not repeat them.
	 */
	if (ctx->login != NULL) {
		free(ctx->login->loginmsg);
		ctx->login->loginmsg = NULL;
	}
	/* The child has the slave now (or never will): without our copy,
	 * reading the master fails with EIO once the child's side is gone. */
	session_pty_close_slave(&s->pty);
	if (r != 0) {
		error(
		    "channel %u: cannot start session: %s", c->id, err_str(r));
		return r == ERR_ALLOC ? r : 0;
	}
	s->pid = pid;
	s->started = 1;
	s->subsys = subsystem != NULL;
	/* As sshd: a terminal or X11 makes the connection interactive. */
	session_set_qos(conn, s->pty.master >= 0 || s->x11 != NULL);
	/* As sshd: a subsystem's stderr (or a forced command's standing in
	 * for one, or internal-sftp's) is read but never sent. */
	if (subsystem != NULL)
		c->flags |= CHAN_EFD_DISCARD;
	if (c->svc == NULL)
		channel_attach_fds(c, out, in, err);
	if (s->eow)
		session_output_unwanted(conn, c);
	*ok = 1;
	return 0;
}

static int
req_exec(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	char *command = NULL;
	int r;

	if ((r = buf_get_cstring(m, &command, NULL)) != 0 ||
	    (r = buf_end(m)) != 0)
		goto out;
	r = session_start(conn, c, command, NULL, ok);
out:
	free(command);
	return r;
}

static int
req_shell(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	int r;

	if ((r = buf_end(m)) != 0)
		return r;
	return session_start(conn, c, NULL, NULL, ok);
}

/* env (s6.4): kept for the child when a name passes AcceptEnv. */
static int
req_env(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct chan_session *s = sess(c);
	char *name = NULL, *value = NULL;
	int r;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0 ||
	    (r = buf_get_cstring(m, &value, NULL)) != 0 ||
	    (r = buf_end(m)) != 0)
		goto out;
	if (s->started) {
		/* As sshd: the program has its environment already. */
		debug2("Ignoring env request %.127s: session started", name);
		goto out;
	}
	if (s->nenv >= SESSION_ENV_REQ_MAX) {
		debug2("Ignoring env request %.127s: too many env vars", name);
		goto out;
	}
	if (name[0] == '\0' || strchr(name, '=') != NULL ||
	    !session_env_accept(conn->ctx->login, name)) {
		debug2("Ignoring env request %.127s: disallowed name", name);
		goto out;
	}
	debug2("Setting env %d: %.127s=<value>", (int)s->nenv, name);
	if ((r = session_env_add(&s->env, &s->nenv, name, value)) != 0)
		goto out;
	*ok = 1;
out:
	free(name);
	free(value);
	return r;
}

static int
req_signal(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct chan_session *s = sess(c);
	char *name = NULL;
	int r, sig;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	if ((sig = signal_from_name(name)) == 0) {
		error("session_signal_req: unsupported signal \"%.63s\"", name);
		goto out;
	}
	/* An in-process internal-sftp stands for sshd's child there. */
	if (!s->started || s->reaped || (s->pid <= 0 && c->svc == NULL)) {
		error("session_signal_req: no pid for session %u", c->id);
		goto out;
	}
	if (s->forced || s->subsys) {
		error("session_signal_req: refusing to send signal %.63s to %s "
		      "session",
		    name, s->forced ? "forced-command" : "subsystem");
		goto out;
	}
	debug_f("signal %.63s, killpg(%ld, %d)", name, (long)s->pid, sig);
	/* A program just started may not lead its group yet: then to the
	 * process itself (its signals are blocked until it does). */
	if (killpg(s->pid, sig) == -1 &&
	    (errno != ESRCH || kill(s->pid, sig) == -1)) {
		error_f(
		    "killpg(%ld, %d): %s", (long)s->pid, sig, strerror(errno));
		goto out;
	}
	*ok = 1;
out:
	free(name);
	return r;
}

/*
 * pty-req (s6.2): allocate the pty now, as OpenSSH does, so that the modes
 * and size are set before the program starts; refused when PermitTTY or
 * the key's options (no-pty, restrict) forbid it.
 */
static int
req_pty(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct session_ctx *ctx = conn->ctx;
	struct chan_session *s = sess(c);
	char *term = NULL;
	const uint8_t *modes;
	uint32_t cols, rows, xpix, ypix;
	size_t termlen, modeslen;
	int r;

	if ((r = buf_get_cstring(m, &term, &termlen)) != 0 ||
	    (r = buf_get_u32(m, &cols)) != 0 ||
	    (r = buf_get_u32(m, &rows)) != 0 ||
	    (r = buf_get_u32(m, &xpix)) != 0 ||
	    (r = buf_get_u32(m, &ypix)) != 0 ||
	    (r = buf_get_string_direct(m, &modes, &modeslen)) != 0 ||
	    (r = buf_end(m)) != 0)
		goto out;
	if (!ctx->permit_tty || ctx->opts == NULL || !ctx->opts->permit_pty) {
		debug("Allocating a pty not permitted for this connection.");
		goto out;
	}
	if (s->pty.master >= 0) {
		/* As sshd: the connection ends. */
		r = conn_protocol_error(
		    conn, "Protocol error: you already have a pty.");
		goto out;
	}
	if (s->started) {
		debug("channel %u: pty-req after the session started", c->id);
		goto out;
	}
	if (termlen >= SESSION_TERM_MAX) {
		error("channel %u: pty-req: TERM too long", c->id);
		goto out;
	}
	/* sshd's session process dies of it: the connection ends. */
	if ((r = session_pty_modes_check(modes, modeslen)) != 0) {
		if (r != ERR_ALLOC)
			r = conn_protocol_error(
			    conn, "pty-req: terminal mode argument truncated");
		goto out;
	}
	debug("Allocating pty: TERM %s, %ux%u chars, %ux%u pixels, "
	      "%zu bytes of modes",
	    term, cols, rows, xpix, ypix, modeslen);
	if ((r = session_pty_open(&s->pty, ctx->monitor_fd, term, cols, rows,
	         xpix, ypix, modes, modeslen)) != 0) {
		error(
		    "channel %u: pty allocation failed: %s", c->id, err_str(r));
		r = r == ERR_ALLOC ? r : 0;
		goto out;
	}
	/* As OpenSSH: "sshd: user@pts/N" once the session has a terminal. */
	session_retitle(conn, NULL);
	*ok = 1;
out:
	free(term);
	return r;
}

/* window-change (s6.7): the program gets SIGWINCH from the kernel. */
static int
req_window_change(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct chan_session *s = sess(c);
	uint32_t cols, rows, xpix, ypix;
	int r;

	if ((r = buf_get_u32(m, &cols)) != 0 ||
	    (r = buf_get_u32(m, &rows)) != 0 ||
	    (r = buf_get_u32(m, &xpix)) != 0 ||
	    (r = buf_get_u32(m, &ypix)) != 0 || (r = buf_end(m)) != 0)
		return r;
	/* As sshd, whose reply is success whatever the resize did. */
	*ok = 1;
	if (s->pty.master < 0) {
		debug("channel %u: window-change without a pty", c->id);
		return 0;
	}
	debug2("channel %u: window-change %ux%u", c->id, cols, rows);
	(void)session_pty_resize(&s->pty, cols, rows, xpix, ypix);
	return 0;
}

/* Requests decoded strictly but refused until their features exist. */

/* x11-req (s6.3.1): x11.c sets up the display. */
static int
req_x11(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	if (sess(c)->started) {
		debug("channel %u: x11-req after the session started", c->id);
		return 0;
	}
	return x11_request(conn, m, &sess(c)->x11, ok);
}

/* auth-agent-req@openssh.com: agent.c, once per connection. */
static int
req_agent(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	int r;

	if ((r = buf_end(m)) != 0)
		return r;
	if (sess(c)->started) {
		debug("channel %u: agent forwarding request after the session "
		      "started",
		    c->id);
		return 0;
	}
	return agent_request(conn, ok);
}

static int
req_subsystem(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct session_ctx *ctx = conn->ctx;
	char *name = NULL, prog[256];
	const char *args;
	size_t i;
	int r;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	for (i = 0; i < ctx->nsubsys; i++)
		if (strcmp(ctx->subsys_name[i], name) == 0)
			break;
	if (i == ctx->nsubsys) {
		logit("subsystem request for %.100s by user %s failed, "
		      "subsystem not found",
		    name, ctx->user);
		goto out;
	}
	args = ctx->subsys_args[i];
	if (is_internal_sftp(args))
		debug("subsystem: internal-sftp");
	else {
		snprintf(prog, sizeof(prog), "%.*s", (int)strcspn(args, " \t"),
		    args);
		if (access(prog, F_OK) == -1)
			debug("subsystem: cannot stat %s: %s", prog,
			    strerror(errno));
		debug("subsystem: exec() %s", args);
	}
	r = session_start(conn, c, args, name, ok);
out:
	free(name);
	return r;
}

/* break (RFC 4335): a BREAK on the pty, as sshd; refused without one. */
static int
req_break(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	struct chan_session *s = sess(c);
	uint32_t ms;
	int r;

	if ((r = buf_get_u32(m, &ms)) != 0 || (r = buf_end(m)) != 0)
		return r;
	if (s->pty.master < 0) {
		debug("channel %u: break without a pty", c->id);
		return 0;
	}
	debug("channel %u: break of %u ms", c->id, ms);
	if (tcsendbreak(s->pty.master, 0) == -1) {
		debug("channel %u: tcsendbreak: %s", c->id, strerror(errno));
		return 0;
	}
	*ok = 1;
	return 0;
}

/* eow@openssh.com (OpenSSH's PROTOCOL s2.1): no reply is due, none
 * succeeds. */
static int
req_eow(struct conn *conn, struct channel *c, struct buf *m, int *ok)
{
	int r;

	if ((r = buf_end(m)) != 0)
		return r;
	sess(c)->eow = 1;
	session_output_unwanted(conn, c);
	return 0;
}

static const struct channel_req session_reqs[] = {
    {"exec", req_exec},
    {"shell", req_shell},
    {"env", req_env},
    {"signal", req_signal},
    {"pty-req", req_pty},
    {"window-change", req_window_change},
    {"x11-req", req_x11},
    {"auth-agent-req@openssh.com", req_agent},
    {"subsystem", req_subsystem},
    {"break", req_break},
    {"eow@openssh.com", req_eow},
    {NULL, NULL},
};

const struct channel_type channel_type_session = {
    .name = "session",
    .reqs = session_reqs,
    .open = session_open,
    .close_ready = session_close_ready,
    .before_close = session_before_close,
    .peer_closed = session_peer_closed,
    .free = session_free,
    .write_failed = session_write_failed,
};
