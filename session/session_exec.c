/*
 * session_exec.c: start a session's command or login shell in a child with
 * a clean environment, default signal handling and only its three pipes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, close_range, F_SETPIPE_SZ */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "session.h"
#include "session_exec.h"
#include "session_login.h"
#include "session_pty.h"

#define EXEC_SHELL_DEFAULT "/bin/sh"
/* An expired password's change (session_exec_pwchange), as OpenSSH's. */
#define EXEC_PASSWD "/usr/bin/passwd"
#define EXEC_PWCHANGE_PATH "/usr/bin:/bin:/usr/sbin:/sbin"
/* Room for the child's output to pile up between two of our reads. */
#define EXEC_PIPE_SIZE (256 * 1024)

/*
 * The signal names of RFC 4254 s6.10. A client's "signal" request may
 * send only those sshd accepts (can_send), not the ones a program takes
 * for its own fault, timer or broken pipe (ABRT ALRM FPE ILL PIPE SEGV).
 */
static const struct {
	const char *name;
	int sig;
	int can_send;
} signal_names[] = {
    {"ABRT", SIGABRT, 0},
    {"ALRM", SIGALRM, 0},
    {"FPE", SIGFPE, 0},
    {"HUP", SIGHUP, 1},
    {"ILL", SIGILL, 0},
    {"INT", SIGINT, 1},
    {"KILL", SIGKILL, 1},
    {"PIPE", SIGPIPE, 0},
    {"QUIT", SIGQUIT, 1},
    {"SEGV", SIGSEGV, 0},
    {"TERM", SIGTERM, 1},
    {"USR1", SIGUSR1, 1},
    {"USR2", SIGUSR2, 1},
};

int
signal_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (signal_names[i].can_send &&
		    strcmp(signal_names[i].name, name) == 0)
			return signal_names[i].sig;
	}
	return 0;
}

const char *
signal_to_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	}
	return "SIG@openssh.com";
}

static const char *
nonnull(const char *s, const char *dflt)
{
	return s != NULL && *s != '\0' ? s : dflt;
}

static void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
}

/* printf to the child's stderr (the session's stderr pipe). */
static void __attribute__((format(printf, 1, 2)))
child_say(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg,
		    (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

void
session_close_from(int lowfd)
{
	long max, fd;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9: close them one by one. */
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 1024 * 1024)
		max = 1024 * 1024;
	for (fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

/*
 * In the child: default signals, own session, the pipes (or a pty slave)
 * as fds 0-2. ctty: in is a terminal to make the session's controlling one.
 */
static void
child_setup(int in, int out, int err, int ctty)
{
	struct sigaction sa;
	sigset_t none;
	int sig, fds[3];

	/*
	 * Our handlers and ignores are no business of the user's programs.
	 * Every signal is blocked since fork_child(): one sent to the new
	 * program now (the client's "signal" request, a service manager's
	 * SIGTERM) waits, and then finds the default action in its session.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	(void)setsid();
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (ctty && ioctl(in, TIOCSCTTY, 0) == -1) {
		child_say("TIOCSCTTY: %s\n", strerror(errno));
		_exit(1);
	}

	/* Lift the pipe ends above 2 first so dup2 cannot clobber one. */
	if ((fds[0] = fcntl(in, F_DUPFD, 3)) == -1 ||
	    (fds[1] = fcntl(out, F_DUPFD, 3)) == -1 ||
	    (fds[2] = fcntl(err, F_DUPFD, 3)) == -1)
		_exit(1);
	if (dup2(fds[0], STDIN_FILENO) == -1 ||
	    dup2(fds[1], STDOUT_FILENO) == -1 ||
	    dup2(fds[2], STDERR_FILENO) == -1)
		_exit(1);
	session_close_from(3);
}

/* In the child, its descriptors in place: never returns. */
static void __attribute__((noreturn))
child_exec(const struct session_ctx *ctx, const struct session_child *ch,
    const char *shell, char **argv, char **env, int ctty)
{
	/* Home directory, last login and motd, ~/.ssh/rc (session_login.c). */
	session_login_child(
	    ctx, ch, argv[1] != NULL ? argv[2] : NULL, ctty, shell, env);
	execve(shell, argv, env);
	child_say("%s: %s\n", shell, strerror(errno));
	_exit(1);
}

/* The child's stdin, stdout and stderr pipes, our ends non-blocking. */
static int
make_pipes(int pin[2], int pout[2], int perr[2])
{
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1) {
		error_f("pipe: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	(void)fcntl(pin[0], F_SETPIPE_SZ, EXEC_PIPE_SIZE);
	(void)fcntl(pout[0], F_SETPIPE_SZ, EXEC_PIPE_SIZE);
	if (fcntl(pin[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(pout[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(perr[0], F_SETFL, O_NONBLOCK) == -1) {
		error_f("fcntl: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/*
 * Our ends and the child's: with a pty, the channel reads and writes the
 * master (stderr merged, as OpenSSH), two descriptors each closed on its
 * own; else three pipes.
 */
static int
child_fds(const struct session_pty *pty, int pin[2], int pout[2], int perr[2])
{
	if (pty == NULL)
		return make_pipes(pin, pout, perr);
	if (pty->slave < 0 ||
	    (pin[1] = fcntl(pty->master, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (pout[0] = fcntl(pty->master, F_DUPFD_CLOEXEC, 3)) == -1) {
		error_f(
		    "pty: %s", pty->slave < 0 ? "no slave" : strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

/*
 * fork(), every signal blocked until the child has its own handlers; in
 * the child, in, out and err become its fds 0-2 (child_setup). The pid
 * (0 in the child), or -1.
 */
static pid_t
fork_setup(int in, int out, int err, int ctty)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid != 0)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1)
		error_f("fork: %s", strerror(errno));
	if (pid == 0)
		child_setup(in, out, err, ctty);
	return pid;
}

/*
 * Fork a child with its stdin, stdout and stderr in place (the pty's
 * slave or pipes), its own session, default signals and nothing else
 * open. *pidp is 0 in the child; in the parent the child's pid, and
 * *infd, *outfd, *errfd are our ends (*errfd -1 with a pty).
 */
static int
fork_child(const struct session_pty *pty, pid_t *pidp, int *infd, int *outfd,
    int *errfd)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	pid_t pid;
	int r;

	if ((r = child_fds(pty, pin, pout, perr)) != 0)
		goto out;
	if ((pid = fork_setup(pty != NULL ? pty->slave : pin[0],
	         pty != NULL ? pty->slave : pout[1],
	         pty != NULL ? pty->slave : perr[1], pty != NULL)) == -1) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (pid == 0) {
		*pidp = 0;
		return 0;
	}
	*pidp = pid;
	*infd = pin[1];
	*outfd = pout[0];
	*errfd = perr[0];
	pin[1] = pout[0] = perr[0] = -1;
out:
	close_pair(pin);
	close_pair(pout);
	close_pair(perr);
	return r;
}

int
session_exec_spawn(const struct session_ctx *ctx, const char *command,
    const char *original, const struct session_pty *pty,
    const struct session_child *ch, pid_t *pidp, int *infd, int *outfd,
    int *errfd)
{
	const char *shell = nonnull(ctx->shell, EXEC_SHELL_DEFAULT);
	const char *base;
	char **env = NULL, *argv0 = NULL, *argv[4];
	int r;

	*pidp = -1;
	*infd = *outfd = *errfd = -1;
	base = strrchr(shell, '/') != NULL ? strrchr(shell, '/') + 1 : shell;
	if (asprintf(&argv0, "%s%s", command == NULL ? "-" : "", base) == -1) {
		argv0 = NULL;
		r = ERR_ALLOC;
		goto out;
	}
	argv[0] = argv0;
	if (command != NULL) {
		argv[1] = "-c";
		argv[2] = (char *)command;
		argv[3] = NULL;
	} else
		argv[1] = NULL;
	if ((r = session_env_build(ctx, ch, shell, original, pty, &env)) != 0)
		goto out;

	if ((r = fork_child(pty, pidp, infd, outfd, errfd)) != 0)
		goto out;
	if (*pidp == 0)
		child_exec(ctx, ch, shell, argv, env, pty != NULL);
	debug_f("child %ld: %s%s", (long)*pidp,
	    command == NULL ? "login shell" : "command",
	    pty != NULL ? " on a pty" : "");
out:
	strv_free(env);
	free(env);
	free(argv0);
	return r;
}

int
session_exec_rc_start(const struct session_ctx *ctx,
    const struct session_child *ch, const char *original,
    const struct session_pty *pty, pid_t *pidp, int *outfd)
{
	const char *shell = nonnull(ctx->shell, EXEC_SHELL_DEFAULT);
	char **env = NULL;
	int in[2] = {-1, -1}, out = -1, err = -1, r;
	pid_t pid;

	*pidp = -1;
	*outfd = -1;
	if (!session_login_rc_wanted(ctx, ch))
		return 0;
	if ((r = session_env_build(ctx, ch, shell, original, pty, &env)) != 0)
		goto out;
	/* Files, not pipes: the child never waits for us to read. */
	if ((out = memfd_create("rc-stdout", MFD_CLOEXEC)) == -1 ||
	    (err = memfd_create("rc-stderr", MFD_CLOEXEC)) == -1 ||
	    pipe2(in, O_CLOEXEC) == -1) {
		error_f("memfd_create/pipe: %s", strerror(errno));
		r = ERR_SYSTEM;
		goto out;
	}
	if ((pid = fork_setup(in[0], out, err, 0)) == -1) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (pid == 0) {
		session_login_rc(ctx, ch, shell, env);
		_exit(0);
	}
	debug_f("child %ld: the rc before internal-sftp", (long)pid);
	*pidp = pid;
	*outfd = out;
	out = -1;
out:
	close_pair(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	strv_free(env);
	free(env);
	return r;
}

void
session_exec_rc_output(int fd, struct buf *out)
{
	uint8_t tmp[4096];
	size_t room;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) == 0) {
		while ((room = buf_max(out) - buf_len(out)) > 0 &&
		    ((n = read(fd, tmp,
		          room < sizeof(tmp) ? room : sizeof(tmp))) > 0 ||
		        (n == -1 && errno == EINTR)))
			if (n > 0)
				(void)buf_put(out, tmp, (size_t)n);
	}
	close(fd);
}

/* The variables passwd(1) gets: nothing the user or client chose. */
static int
pwchange_env(
    const struct session_ctx *ctx, const struct session_pty *pty, char ***envp)
{
	const char *shell = nonnull(ctx->shell, EXEC_SHELL_DEFAULT);
	char **env;
	size_t n = 0;
	int r;

	if ((env = calloc(1, sizeof(*env))) == NULL)
		return ERR_ALLOC;
	if ((r = session_env_add(&env, &n, "PATH", EXEC_PWCHANGE_PATH)) != 0 ||
	    (r = session_env_add(&env, &n, "USER", ctx->user)) != 0 ||
	    (r = session_env_add(&env, &n, "LOGNAME", ctx->user)) != 0 ||
	    (r = session_env_add(&env, &n, "HOME", nonnull(ctx->home, "/"))) !=
	        0 ||
	    (r = session_env_add(&env, &n, "SHELL", shell)) != 0 ||
	    (pty != NULL && pty->term != NULL && pty->term[0] != '\0' &&
	        (r = session_env_add(&env, &n, "TERM", pty->term)) != 0)) {
		session_env_free(env, n);
		return r;
	}
	*envp = env;
	return 0;
}

/* In the child: never returns. */
static void __attribute__((noreturn)) pwchange_child(char **env, int tty)
{
	char *argv[] = {"passwd", NULL};

	child_say("WARNING: Your password has expired.\n");
	if (!tty) {
		child_say("Password change required but no TTY available.\n");
		_exit(1);
	}
	child_say("You must change your password now and login again!\n");
	execve(EXEC_PASSWD, argv, env);
	child_say("passwd: %s\n", strerror(errno));
	_exit(1);
}

int
session_exec_say(const struct session_pty *pty, int fd, const char *text,
    int status, pid_t *pidp, int *infd, int *outfd, int *errfd)
{
	int r;

	*pidp = -1;
	*infd = *outfd = *errfd = -1;
	if ((r = fork_child(pty, pidp, infd, outfd, errfd)) == 0 &&
	    *pidp == 0) {
		session_login_write(fd, text, strlen(text));
		_exit(status);
	}
	return r;
}

int
session_exec_pam_failed(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command,
    const struct session_pty *pty, pid_t *pidp, int *infd, int *outfd,
    int *errfd)
{
	int r;

	*pidp = -1;
	*infd = *outfd = *errfd = -1;
	if ((r = fork_child(pty, pidp, infd, outfd, errfd)) == 0 &&
	    *pidp == 0) {
		/* sshd's do_child() shows what do_login() did not: PAM's
		 * text, and on a pty the last login too (a command or
		 * ~/.hushlogin made do_login() quiet). */
		if (pty == NULL || !session_login_greet(ctx, ch, command, 1))
			session_login_messages(ctx, ch, pty != NULL);
		_exit(254);
	}
	return r;
}

int
session_exec_nologin(const struct session_pty *pty, const char *text,
    pid_t *pidp, int *infd, int *outfd, int *errfd)
{
	return session_exec_say(
	    pty, STDERR_FILENO, text, 254, pidp, infd, outfd, errfd);
}

int
session_exec_pwchange(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command,
    const struct session_pty *pty, pid_t *pidp, int *infd, int *outfd,
    int *errfd)
{
	char **env = NULL;
	int r;

	*pidp = -1;
	*infd = *outfd = *errfd = -1;
	if ((r = pwchange_env(ctx, pty, &env)) != 0)
		return r;
	if ((r = fork_child(pty, pidp, infd, outfd, errfd)) == 0 &&
	    *pidp == 0) {
		/* sshd's do_login() on a pty: PAM's messages, the last
		 * login and motd, unless quiet (a command, ~/.hushlogin). */
		if (pty != NULL)
			(void)session_login_greet(ctx, ch, command, 1);
		pwchange_child(env, pty != NULL);
	}
	if (r == 0)
		debug_f("child %ld: password change%s", (long)*pidp,
		    pty != NULL ? " on a pty" : ", no tty");
	strv_free(env);
	free(env);
	return r;
}
