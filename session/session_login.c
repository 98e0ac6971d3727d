/*
 * session_login.c: the session's side of the login: the settings from the
 * monitor, ptys and utmp records asked of it (it stays root; we do not),
 * ExposeAuthInfo's file, and the child's start-up before the user's
 * program: home directory, last login and motd, ~/.ssh/rc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* TIOCGPTPEER */
#endif
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "authdebug.h"
#include "log.h"
#include "randname.h"
#include "session.h"
#include "session_login.h"

#define LOGIN_LIST_MAX 1024
#define LOGIN_MSG_MAX 4096
#define LOGIN_BSHELL "/bin/sh"
#define LOGIN_SYSTEM_RC "/etc/ssh/sshrc"
#define LOGIN_MOTD "/etc/motd"

static int
get_list(struct buf *b, char ***listp, size_t *np)
{
	uint32_t n, i;
	int r;

	*listp = NULL;
	*np = 0;
	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > LOGIN_LIST_MAX)
		return ERR_TOO_BIG;
	if ((*listp = calloc((size_t)n + 1, sizeof(**listp))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &(*listp)[i], NULL)) != 0)
			return r;
		*np = i + 1;
	}
	return 0;
}

/* The monitor's SSH_MSG_DEBUG lines: within lib/authdebug.h's caps. */
static int
auth_debug_ok(const struct session_login *l)
{
	size_t i;

	if (l->nauth_debug > AUTHDEBUG_MAX_LINES)
		return ERR_TOO_BIG;
	for (i = 0; i < l->nauth_debug; i++)
		if (strlen(l->auth_debug[i]) > AUTHDEBUG_MAX_LEN)
			return ERR_TOO_BIG;
	return 0;
}

int
session_login_recv(int fd, struct session_login *l)
{
	struct buf *b;
	uint32_t uid, gid;
	uint8_t type;
	int r;

	memset(l, 0, sizeof(*l));
	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = ipc_recv(fd, &type, b, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (type != IPC_SESSION_LOGIN) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_u32(b, &uid)) != 0 ||
	    (r = buf_get_u32(b, &gid)) != 0 ||
	    (r = buf_get_cstring(b, &l->home, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &l->shell, NULL)) != 0 ||
	    (r = buf_get_u32(b, &l->flags)) != 0 ||
	    (r = buf_get_cstring(b, &l->permit_user_env, NULL)) != 0 ||
	    (r = get_list(b, &l->accept_env, &l->naccept_env)) != 0 ||
	    (r = get_list(b, &l->set_env, &l->nset_env)) != 0 ||
	    (r = buf_get_cstring(b, &l->auth_info, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &l->loginmsg, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &l->nologin, NULL)) != 0 ||
	    (r = get_list(b, &l->auth_debug, &l->nauth_debug)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	if ((r = auth_debug_ok(l)) != 0)
		goto out;
	l->uid = (uid_t)uid;
	l->gid = (gid_t)gid;
out:
	buf_free(b);
	return r;
}

void
session_login_free(struct session_login *l)
{
	session_login_auth_file_remove(l);
	free(l->home);
	free(l->shell);
	free(l->permit_user_env);
	session_env_free(l->accept_env, l->naccept_env);
	session_env_free(l->set_env, l->nset_env);
	free(l->auth_info);
	free(l->loginmsg);
	free(l->nologin);
	session_env_free(l->auth_debug, l->nauth_debug);
	memset(l, 0, sizeof(*l));
}

/* --- ExposeAuthInfo ------------------------------------------------------- */

#define AUTH_FILE_PREFIX "/tmp/sshauth."
#define AUTH_FILE_RANDOM 15

void
session_login_auth_file(struct session_login *l)
{
	char path[sizeof(AUTH_FILE_PREFIX) + AUTH_FILE_RANDOM];
	char name[AUTH_FILE_RANDOM + 1];
	size_t len, off = 0;
	ssize_t n;
	int fd = -1, tries;

	if (l->auth_info == NULL || l->auth_info[0] == '\0')
		return;
	/* As sshd's mkstemp(): every one of the 15 characters random. */
	for (tries = 0; fd == -1 && tries < 100; tries++) {
		if (randname_fill(name, AUTH_FILE_RANDOM) != 0) {
			errno = EIO;
			break;
		}
		snprintf(path, sizeof(path), "%s%s", AUTH_FILE_PREFIX, name);
		fd = open(path,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		error("ExposeAuthInfo: mkstemp: %s", strerror(errno));
		return;
	}
	len = strlen(l->auth_info);
	while (off < len) {
		if ((n = write(fd, l->auth_info + off, len - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			error("ExposeAuthInfo: write %s: %s", path,
			    strerror(errno));
			close(fd);
			unlink(path);
			return;
		}
		off += (size_t)n;
	}
	close(fd);
	if ((l->auth_file = strdup(path)) == NULL)
		unlink(path);
	else
		debug("ExposeAuthInfo: %s", path);
}

void
session_login_auth_file_remove(struct session_login *l)
{
	if (l->auth_file == NULL)
		return;
	if (unlink(l->auth_file) == -1 && errno != ENOENT)
		error("ExposeAuthInfo: unlink %s: %s", l->auth_file,
		    strerror(errno));
	free(l->auth_file);
	l->auth_file = NULL;
}

/* --- ptys and utmp through the monitor ------------------------------------ */

int
session_login_pty(int fd, int *master, int *slave, char *name, size_t len)
{
	struct buf *b;
	char *tty = NULL;
	uint32_t ok;
	unsigned int ptn;
	uint8_t type;
	int r, mfd = -1;

	*master = *slave = -1;
	if ((b = buf_new(1024)) == NULL)
		return ERR_ALLOC;
	if ((r = ipc_send(fd, IPC_SESSION_PTY_REQ, b, -1)) != 0 ||
	    (r = ipc_recv(fd, &type, b, &mfd, 1024)) != 0)
		goto out;
	if (type != IPC_SESSION_PTY_REPLY) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_u32(b, &ok)) != 0 ||
	    (r = buf_get_cstring(b, &tty, NULL)) != 0 || (r = buf_end(b)) != 0)
		goto out;
	if (!ok || mfd == -1) {
		r = ok ? ERR_PROTOCOL : ERR_PERM;
		goto out;
	}
	/* The name must be the master's own (TIOCGPTN), not a claim. */
	if (ioctl(mfd, TIOCGPTN, &ptn) == -1 ||
	    (size_t)snprintf(name, len, "/dev/pts/%u", ptn) >= len ||
	    strcmp(name, tty) != 0) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((*slave = ioctl(mfd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) ==
	    -1) {
		error("openpty: %s: %s", name, strerror(errno));
		r = ERR_SYSTEM;
		goto out;
	}
	*master = mfd;
	mfd = -1;
	r = 0;
out:
	if (mfd != -1)
		close(mfd);
	free(tty);
	buf_free(b);
	return r;
}

int
session_login_record(int fd, const char *tty, pid_t pid, char **msg)
{
	struct buf *b;
	uint8_t type;
	int r;

	*msg = NULL;
	if ((b = buf_new(LOGIN_MSG_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(b, tty)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)pid)) != 0 ||
	    (r = ipc_send(fd, IPC_SESSION_LOGIN_REC, b, -1)) != 0 ||
	    (r = ipc_recv(fd, &type, b, NULL, LOGIN_MSG_MAX)) != 0)
		goto out;
	if (type != IPC_SESSION_LOGIN_REPLY) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_cstring(b, msg, NULL)) != 0 || (r = buf_end(b)) != 0) {
		free(*msg);
		*msg = NULL;
	}
out:
	buf_free(b);
	return r;
}

int
session_login_logout(int fd, const char *tty)
{
	struct buf *b;
	int r;

	if ((b = buf_new(256)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(b, tty)) == 0)
		r = ipc_send(fd, IPC_SESSION_LOGOUT_REC, b, -1);
	buf_free(b);
	return r;
}

/* --- in the child --------------------------------------------------------- */

void
session_login_write(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

/* ~/.hushlogin or a command: no last login, no motd (as sshd). */
static int
quiet_login(const struct session_ctx *ctx, const char *command)
{
	char path[4096];
	struct stat st;

	if (command != NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/.hushlogin", ctx->home);
	return stat(path, &st) == 0;
}

static void
print_motd(void)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(LOGIN_MOTD, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		session_login_write(STDOUT_FILENO, buf, (size_t)n);
	close(fd);
}

/*
 * Run argv with env and our stdout and stderr, its stdin a pipe given in
 * (a few hundred bytes: within the pipe's buffer); wait for it. what names
 * it if it cannot start. SIGPIPE is ignored for the write: a program that
 * exits first (an xauth that cannot exec) must not kill this child, whose
 * signals are the defaults by now, before it runs the user's program.
 */
static void
run_fed(const char *what, char *const argv[], char **env, const char *in,
    size_t inlen)
{
	struct sigaction ign, old;
	int p[2], status, ignored;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "Could not run %s\n", what);
		return;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "Could not run %s\n", what);
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		if (dup2(p[0], STDIN_FILENO) == -1)
			_exit(127);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(p[0]);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	ignored = sigaction(SIGPIPE, &ign, &old) == 0;
	if (inlen > 0)
		(void)!write(p[1], in, inlen);
	if (ignored)
		(void)sigaction(SIGPIPE, &old, NULL);
	close(p[1]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* An rc file; with X11, "proto cookie" on its stdin for xauth (as sshd). */
static void
run_rc(const char *path, char *const argv[], char **env,
    const struct session_child *ch)
{
	char line[1100];
	int n = 0;

	if (ch != NULL && ch->x11_proto != NULL && ch->x11_cookie != NULL) {
		n = snprintf(line, sizeof(line), "%s %s\n", ch->x11_proto,
		    ch->x11_cookie);
		if (n < 0 || (size_t)n >= sizeof(line))
			n = 0;
	}
	run_fed(path, argv, env, line, (size_t)n);
	explicit_bzero(line, sizeof(line));
}

/*
 * X11 without an rc file, as sshd: `xauth -q -` replaces the display's
 * entry in the user's authority file with the client's protocol and
 * cookie. It runs with the session's environment and its stdout and
 * stderr, so what it says (a new ~/.Xauthority, say) reaches the client;
 * through /bin/sh, as sshd's popen(), so an XAuthLocation that cannot run
 * is reported there by the shell ("sh: 1: ...: not found").
 */
static void
run_xauth(const char *prog, char **env, const struct session_child *ch)
{
	char cmd[2400], what[1100];
	char *argv[] = {LOGIN_BSHELL, "-c", what, NULL};
	int n, w;

	w = snprintf(what, sizeof(what), "%s -q -", prog);
	n = snprintf(cmd, sizeof(cmd), "remove %s\nadd %s %s %s\n",
	    ch->x11_auth_display, ch->x11_auth_display, ch->x11_proto,
	    ch->x11_cookie);
	if (w < 0 || (size_t)w >= sizeof(what) || n < 0 ||
	    (size_t)n >= sizeof(cmd))
		fprintf(stderr, "Could not run %s -q -\n", prog);
	else
		run_fed(what, argv, env, cmd, (size_t)n);
	explicit_bzero(cmd, sizeof(cmd));
}

/* X11 was asked for and there is an xauth to tell (without an rc). */
static int
xauth_wanted(const struct session_ctx *ctx, const struct session_child *ch)
{
	return ch != NULL && ch->x11_auth_display != NULL && ctx->axl != NULL &&
	    ctx->axl->xauth_location != NULL;
}

/*
 * ~/.ssh/rc through the user's shell (`shell -c '/bin/sh ~/.ssh/rc'`),
 * unless ForceCommand, a subsystem, PermitUserRC no or the key's
 * no-user-rc; otherwise /etc/ssh/sshrc with /bin/sh.
 */
static void
do_rc_files(const struct session_ctx *ctx, const struct session_child *ch,
    const char *shell, char **env)
{
	const struct session_login *l = ctx->login;
	char rc[4096], *cmd = NULL;
	char *argv[4];
	struct stat st;

	snprintf(rc, sizeof(rc), "%s/.ssh/rc", ctx->home);
	if (l != NULL && !(ch != NULL && ch->subsystem) &&
	    !(l->flags & LOGIN_F_ADMIN_FORCED) &&
	    (l->flags & LOGIN_F_PERMIT_USER_RC) && ctx->opts != NULL &&
	    ctx->opts->permit_user_rc && stat(rc, &st) == 0) {
		if (asprintf(&cmd, "%s '%s'", LOGIN_BSHELL, rc) == -1)
			return;
		argv[0] = (char *)shell;
		argv[1] = "-c";
		argv[2] = cmd;
		argv[3] = NULL;
		run_rc(rc, argv, env, ch);
		free(cmd);
	} else if (stat(LOGIN_SYSTEM_RC, &st) == 0) {
		argv[0] = LOGIN_BSHELL;
		argv[1] = LOGIN_SYSTEM_RC;
		argv[2] = NULL;
		run_rc(LOGIN_SYSTEM_RC, argv, env, ch);
	} else if (xauth_wanted(ctx, ch))
		run_xauth(ctx->axl->xauth_location, env, ch);
}

int
session_login_rc_wanted(
    const struct session_ctx *ctx, const struct session_child *ch)
{
	struct stat st;

	return stat(LOGIN_SYSTEM_RC, &st) == 0 || xauth_wanted(ctx, ch);
}

void
session_login_rc(const struct session_ctx *ctx, const struct session_child *ch,
    const char *shell, char **env)
{
	int chrooted =
	    ctx->login != NULL && (ctx->login->flags & LOGIN_F_CHROOTED);

	if (chdir(ctx->home) == -1) {
		/* In a jail the home directory may well not exist: quiet. */
		if (!chrooted)
			fprintf(stderr,
			    "Could not chdir to home directory %s: %s\n",
			    ctx->home, strerror(errno));
		(void)!chdir("/");
	}
	do_rc_files(ctx, ch, shell, env);
}

void
session_login_messages(
    const struct session_ctx *ctx, const struct session_child *ch, int pty)
{
	const struct session_login *l = ctx->login;

	if (l != NULL && l->loginmsg != NULL)
		session_login_write(
		    STDOUT_FILENO, l->loginmsg, strlen(l->loginmsg));
	if (pty && ch != NULL && ch->lastlog != NULL)
		session_login_write(
		    STDOUT_FILENO, ch->lastlog, strlen(ch->lastlog));
}

int
session_login_greet(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command, int pty)
{
	const struct session_login *l = ctx->login;

	/* As sshd: PAM's messages for any login without a command, then
	 * for one on a pty the last login and /etc/motd (PrintMotd). */
	if (quiet_login(ctx, command))
		return 0;
	session_login_messages(ctx, ch, pty);
	if (pty && l != NULL && (l->flags & LOGIN_F_PRINT_MOTD))
		print_motd();
	return 1;
}

void
session_login_child(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command, int pty,
    const char *shell, char **env)
{
	const char *notes = session_env_notes();
	size_t i;

	(void)session_login_greet(ctx, ch, command, pty);
	/* Then, in sshd's order, the environment file's bad lines and the
	 * home directory (its absolute path: nothing above needs it). */
	if (notes[0] != '\0')
		fputs(notes, stderr);
	/* As sshd's do_setup_env() under -d: the environment, each entry
	 * cut at 200 characters. */
	if (ctx->debug) {
		fputs("Environment:\n", stderr);
		for (i = 0; env[i] != NULL; i++)
			fprintf(stderr, "  %.200s\n", env[i]);
	}
	session_login_rc(ctx, ch, shell, env);
}
