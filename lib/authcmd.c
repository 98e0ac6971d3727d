/*
 * authcmd.c: AuthorizedKeysCommand and AuthorizedPrincipalsCommand runs,
 * as OpenSSH's subprocess(): split, token expansion, safe_path(), run as
 * the configured user with sshd's small environment, output read within
 * postern's bounds.
 */
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authcmd.h"
#include "authkeys.h"
#include "crypto.h"
#include "log.h"

void
authcmd_free(struct authcmd *cr)
{
	int i;

	for (i = 0; i < cr->ac; i++)
		free(cr->av[i]);
	cr->ac = 0;
}

/*
 * The command line as sshd's log lines name it, OpenSSH's argv_assemble():
 * the words joined by spaces, a backslash before each backslash and quote,
 * a word with a blank in it in double quotes. Cut at the buffer's end.
 */
static void
cmd_assemble(struct authcmd *cr)
{
	size_t n = 0, max = sizeof(cr->printable) - 1;
	const char *c;
	int i, ws;

#define PUT(ch)                                                                \
	do {                                                                   \
		if (n < max)                                                   \
			cr->printable[n++] = (ch);                             \
	} while (0)
	for (i = 0; i < cr->ac; i++) {
		ws = strpbrk(cr->av[i], " \t") != NULL;
		if (i > 0)
			PUT(' ');
		if (ws)
			PUT('"');
		for (c = cr->av[i]; *c != '\0'; c++) {
			if (*c == '\\' || *c == '\'' || *c == '"')
				PUT('\\');
			PUT(*c);
		}
		if (ws)
			PUT('"');
	}
#undef PUT
	cr->printable[n] = '\0';
}

/*
 * Split a command line into words as OpenSSH's argv_split(): blanks
 * separate words, '...' and "..." quote, and a backslash escapes a quote,
 * itself or (outside quotes) a space. 0, or -1 after logging.
 */
static int
cmd_split(const char *s, struct authcmd *cr)
{
	char *w;
	size_t n;
	int quote;

	if ((w = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (cr->ac >= AUTHCMD_MAX_ARGS) {
			error("%s: too many arguments", cr->tag);
			goto fail;
		}
		for (n = 0, quote = 0; *s != '\0'; s++) {
			if (quote == 0 && (*s == ' ' || *s == '\t'))
				break;
			/* As argv_split: a blank only outside quotes, and a
			 * space, not a tab. */
			if (*s == '\\' &&
			    (s[1] == '\\' || s[1] == '\'' || s[1] == '"' ||
			        (quote == 0 && s[1] == ' '))) {
				w[n++] = *++s;
				continue;
			}
			if (quote == 0 && (*s == '\'' || *s == '"')) {
				quote = *s;
				continue;
			}
			if (quote != 0 && *s == quote) {
				quote = 0;
				continue;
			}
			w[n++] = *s;
		}
		if (quote != 0) {
			error("%s: unterminated quote", cr->tag);
			goto fail;
		}
		w[n] = '\0';
		if ((cr->av[cr->ac] = strdup(w)) == NULL)
			goto fail;
		cr->ac++;
	}
	free(w);
	return 0;
fail:
	free(w);
	authcmd_free(cr);
	return -1;
}

/* s with the tokens of `allowed' expanded; malloc'd, or NULL (logged). */
static char *
cmd_expand(const char *tag, const char *s, const struct authcmd_tokens *tk,
    const char *allowed)
{
	char *out = NULL;
	const char *v, *p;
	size_t n, vl, need = 0;
	int pass;

	/* Twice: the length, then the text (a %k of a certificate with many
	 * principals is long; the kernel takes up to AUTHCMD_ARG_MAX). */
	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (p = s; *p != '\0'; p++) {
			v = NULL;
			if (*p == '%') {
				p++;
				if (*p == '%')
					v = "%";
				else if (*p == '\0' ||
				    (unsigned char)*p >= 128 ||
				    strchr(allowed, *p) == NULL)
					authkeys_percent_fatal(*p);
				else
					v = tk->v[(unsigned char)*p];
				if (v == NULL) {
					error("%s: unknown or unavailable "
					      "token %%%c",
					    tag, *p != '\0' ? *p : '?');
					free(out);
					return NULL;
				}
			}
			vl = v != NULL ? strlen(v) : 1;
			if (n + vl >= AUTHCMD_ARG_MAX) {
				error("%s: expanded argument too long", tag);
				free(out);
				return NULL;
			}
			if (out != NULL)
				memcpy(out + n, v != NULL ? v : p, vl);
			n += vl;
		}
		if (out == NULL) {
			need = n + 1;
			if ((out = malloc(need)) == NULL)
				return NULL;
		}
	}
	out[n] = '\0';
	return out;
}

/*
 * Owned by root, writable by no one else: not by others, nor by its group
 * unless that group is private to root (Debian's secure_permissions(),
 * as its sshd checks the command).
 */
static int
root_safe(const struct stat *st)
{
	if (st->st_uid != 0 || (st->st_mode & 002) != 0)
		return 0;
	return (st->st_mode & 020) == 0 ||
	    authkeys_private_group(st->st_gid, 0, st->st_uid);
}

/*
 * OpenSSH's safe_path() for a command run as root's choice: the program
 * (path, its stat(2) in pst, as the caller found it) a regular file, it
 * and every directory above it owned by root and not writable by group or
 * others. 0, or -1 with err set.
 */
static int
cmd_safe_path(
    const char *path, const struct stat *pst, char *err, size_t errlen)
{
	char real[PATH_MAX], *slash;
	struct stat st;

	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "realpath %s failed: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(pst->st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", real);
		return -1;
	}
	if (!root_safe(pst)) {
		snprintf(
		    err, errlen, "bad ownership or modes for file %s", real);
		return -1;
	}
	for (;;) {
		if ((slash = strrchr(real, '/')) == NULL)
			break;
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st) == -1 || !root_safe(&st)) {
			snprintf(err, errlen,
			    "bad ownership or modes for directory %s", real);
			return -1;
		}
		if (strcmp(real, "/") == 0)
			break;
	}
	return 0;
}

/* sshd's _PATH_STDPATH, as Debian builds it. */
#define AUTHCMD_PATH "/usr/local/bin:/usr/bin:/bin:/usr/games"
#define AUTHCMD_NENV 5

/*
 * The environment sshd's subprocess() gives the command: PATH, then USER,
 * LOGNAME and HOME of the user it runs as, and LANG if sshd has one. Each
 * entry malloc'd; 0, or -1 (envp freed, every entry NULL: the caller
 * frees what it holds).
 */
static int
cmd_env(const struct passwd *runas, char *envp[AUTHCMD_NENV + 1])
{
	const char *lang = getenv("LANG");
	int i, n = 0;

	memset(envp, 0, (AUTHCMD_NENV + 1) * sizeof(*envp));
	if (asprintf(&envp[n++], "PATH=%s", AUTHCMD_PATH) == -1 ||
	    asprintf(&envp[n++], "USER=%s", runas->pw_name) == -1 ||
	    asprintf(&envp[n++], "LOGNAME=%s", runas->pw_name) == -1 ||
	    asprintf(&envp[n++], "HOME=%s", runas->pw_dir) == -1 ||
	    (lang != NULL && asprintf(&envp[n++], "LANG=%s", lang) == -1)) {
		envp[n - 1] = NULL; /* unset when asprintf fails */
		for (i = 0; i < n; i++) {
			free(envp[i]);
			envp[i] = NULL;
		}
		return -1;
	}
	return 0;
}

/* What the child could not do, for the parent to log: a step, an errno. */
enum {
	STEP_EXEC = 1,
	STEP_SETUP,
	STEP_USER,
};

static void __attribute__((noreturn)) child_fail(int report, int step)
{
	int e[2] = {step, errno};
	ssize_t w = write(report, e, sizeof(e)); /* best effort */

	(void)w;
	_exit(127);
}

/*
 * In the child: become the user, plumb stdio, exec. Never returns; what
 * fails goes to report (close-on-exec, so exec's success closes it).
 */
static void
cmd_child(const struct authcmd *cr, const struct passwd *runas,
    char *const *envp, int out, int report, pid_t parent)
{
	sigset_t none;
	int fd, sig, log_stderr;

	/* As sshd's subprocess(): every signal at its default, none
	 * blocked, whatever posternd was started with. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid(); /* no controlling terminal */
	log_stderr = log_get_stderr() && out != 2 && report != 2 &&
	    fcntl(2, F_GETFD) != -1;
	/* stdio, then the report pipe on 3 (closed by a successful exec) and
	 * nothing above it. As sshd, whose child keeps the stderr it was
	 * started with under -d, -e or -E and has /dev/null there otherwise,
	 * what the command writes on stderr goes to posternd's stderr then,
	 * else nowhere. */
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1 ||
	    (!log_stderr && dup2(fd, 2) == -1) || dup2(out, 1) == -1 ||
	    dup2(report, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		child_fail(report, STEP_SETUP);
	report = 3;
	closefrom(4);
	if (geteuid() == 0) {
		if (initgroups(runas->pw_name, runas->pw_gid) == -1 ||
		    setresgid(runas->pw_gid, runas->pw_gid, runas->pw_gid) ==
		        -1 ||
		    setresuid(runas->pw_uid, runas->pw_uid, runas->pw_uid) ==
		        -1)
			child_fail(report, STEP_USER);
	} else if (runas->pw_uid != getuid()) {
		errno = EPERM;
		child_fail(report, STEP_USER);
	}
	/* The monitor may die of LoginGraceTime: the command goes with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		child_fail(report, STEP_SETUP);
	/* sshd runs in "/": the command never starts in posternd's cwd. */
	if (chdir("/") == -1)
		child_fail(report, STEP_SETUP);
	execve(cr->av[0], cr->av, envp);
	child_fail(report, STEP_EXEC);
}

/* Log why the child did not run the command, if it said. */
static void
cmd_report(const struct authcmd *cr, int fd, const char *runas)
{
	int e[2];

	if (read(fd, e, sizeof(e)) != (ssize_t)sizeof(e))
		return;
	if (e[0] == STEP_EXEC)
		error("%s execve \"%s\": %s", cr->tag, cr->printable,
		    strerror(e[1]));
	else if (e[0] == STEP_USER)
		error("%s: cannot run as user \"%s\": %s", cr->tag, runas,
		    strerror(e[1]));
	else
		error("%s: cannot start \"%s\": %s", cr->tag, cr->av[0],
		    strerror(e[1]));
}

/* cmd_read and cmd_wait: LoginGraceTime's SIGALRM came meanwhile. */
#define CMD_GRACE (-2)

/* The command and its process group (setsid in cmd_child): a child it
 * left behind may hold its output pipe or keep running as the user. */
static void
cmd_kill(pid_t pid)
{
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
}

/* Milliseconds left of the run's AUTHCMD_TIMEOUT_MS from start. */
static long
cmd_left(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return AUTHCMD_TIMEOUT_MS -
	    ((now.tv_sec - start->tv_sec) * 1000 +
	        (now.tv_nsec - start->tv_nsec) / 1000000);
}

/*
 * Reap the child within what is left of the deadline: one that closed its
 * output but runs on is killed with its process group when the time is
 * up. 0 with *status, -1 (logged), or CMD_GRACE when SIGALRM came.
 */
static int
cmd_wait(const struct authcmd *cr, pid_t pid, const struct timespec *start,
    int alarm_fd, int *status)
{
	struct pollfd pfd[2];
	pid_t r;
	long left;
	int ret = 0, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error("%s: waitpid: %s", cr->tag, strerror(errno));
			ret = -1;
			break;
		}
		if ((left = cmd_left(start)) <= 0) {
			error("%s %s timed out after %d seconds; killed",
			    cr->tag, cr->printable, AUTHCMD_TIMEOUT_MS / 1000);
			cmd_kill(pid);
			while (waitpid(pid, status, 0) == -1 && errno == EINTR)
				;
			ret = -1;
			break;
		}
		/* Woken when it exits; without a pidfd (a kernel before
		 * 5.3), every 50 ms, still within the deadline. */
		pfd[0].fd = pidfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = alarm_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		(void)poll(pfd, 2,
		    pidfd != -1 ? (int)left : (left < 50 ? (int)left : 50));
		if (pfd[1].revents != 0) {
			ret = CMD_GRACE;
			break;
		}
	}
	if (pidfd != -1)
		close(pidfd);
	return ret;
}

/*
 * Read the child's output until EOF, the size bound or the deadline. 0,
 * -1 (logged) when a bound was hit, or CMD_GRACE when SIGALRM came
 * (alarm_fd: LoginGraceTime's deadline, see run_command).
 */
static int
cmd_read(const struct authcmd *cr, int fd, const struct timespec *start,
    int alarm_fd, char **outp, size_t *lenp)
{
	struct pollfd pfd[2];
	char *out;
	size_t len = 0;
	ssize_t n;
	long left;

	if ((out = malloc(AUTHCMD_MAX_OUTPUT + 1)) == NULL)
		return -1;
	for (;;) {
		if ((left = cmd_left(start)) <= 0) {
			error("%s %s timed out after %d seconds; killed",
			    cr->tag, cr->printable, AUTHCMD_TIMEOUT_MS / 1000);
			goto fail;
		}
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = alarm_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			error("%s: poll: %s", cr->tag, strerror(errno));
			goto fail;
		}
		if (pfd[1].revents != 0) {
			free(out);
			return CMD_GRACE;
		}
		if (pfd[0].revents == 0)
			continue;
		n = read(fd, out + len, AUTHCMD_MAX_OUTPUT + 1 - len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1) {
			error("%s: read: %s", cr->tag, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > AUTHCMD_MAX_OUTPUT) {
			error("%s %s printed more than %d bytes; killed",
			    cr->tag, cr->printable, AUTHCMD_MAX_OUTPUT);
			goto fail;
		}
	}
	out[len] = '\0';
	*outp = out;
	*lenp = len;
	return 0;
fail:
	free(out);
	return -1;
}

/* The commands' time since authcmd_clock_reset, and the runs skipped. */
static uint64_t clock_ns;
static unsigned skipped_runs;

void
authcmd_clock_reset(void)
{
	clock_ns = 0;
	skipped_runs = 0;
}

uint64_t
authcmd_clock_us(void)
{
	return clock_ns / 1000;
}

void
authcmd_note_skipped(void)
{
	skipped_runs++;
}

unsigned
authcmd_skipped(void)
{
	return skipped_runs;
}

static int run_command(struct authcmd *cr, const char *cmdline,
    const char *runas_name, const struct authcmd_tokens *tk,
    const char *allowed, const char *user, char **outp, size_t *lenp);

int
authcmd_run(struct authcmd *cr, const char *cmdline, const char *runas_name,
    const struct authcmd_tokens *tk, const char *allowed, const char *user,
    char **outp, size_t *lenp)
{
	struct timespec t0, t1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_command(cr, cmdline, runas_name, tk, allowed, user, outp, lenp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	return r;
}

/*
 * Run the command line `cmdline' as user `runas' (OpenSSH's subprocess()
 * and exited_cleanly()): tokens expanded in its arguments, the user name
 * as the only argument when it has none. 0 with its output (malloc'd,
 * NUL-terminated) when it ran and exited 0; -1 otherwise, logged.
 */
static int
run_command(struct authcmd *cr, const char *cmdline, const char *runas_name,
    const struct authcmd_tokens *tk, const char *allowed, const char *user,
    char **outp, size_t *lenp)
{
	struct passwd *pw, runas;
	char err[PATH_MAX + 64], *x, *runas_copy = NULL, *dir_copy = NULL;
	char *envp[AUTHCMD_NENV + 1] = {NULL}, *who = NULL;
	struct sigaction dfl, oldchld;
	sigset_t alrm, oldmask;
	int alarm_fd, r;
	struct timespec start;
	struct stat st;
	pid_t pid, parent;
	int i, p[2], rep[2], status, ok;

	*outp = NULL;
	*lenp = 0;
	if (runas_name == NULL) {
		error("No user for %s specified, skipping", cr->tag);
		return -1;
	}
	if (cmd_split(cmdline, cr) != 0)
		return -1;
	if (cr->ac == 0) {
		error("%s: no command", cr->tag);
		return -1;
	}
	for (i = 1; i < cr->ac; i++) {
		if ((x = cmd_expand(cr->tag, cr->av[i], tk, allowed)) == NULL)
			goto fail;
		free(cr->av[i]);
		cr->av[i] = x;
	}
	if (cr->ac == 1 && (cr->av[cr->ac++] = strdup(user)) == NULL)
		goto fail;
	cr->av[cr->ac] = NULL;
	cmd_assemble(cr);
	/* As sshd: %u in the user setting is the user logging in. */
	if ((who = cmd_expand(cr->tag, runas_name, tk, "u")) == NULL)
		goto fail;
	errno = 0;
	if ((pw = getpwnam(who)) == NULL) {
		error("%sUser \"%s\" not found: %s", cr->tag, who,
		    errno != 0 ? strerror(errno) : "no such user");
		goto fail;
	}
	if ((runas_copy = strdup(pw->pw_name)) == NULL ||
	    (dir_copy = strdup(pw->pw_dir != NULL ? pw->pw_dir : "/")) == NULL)
		goto fail;
	memset(&runas, 0, sizeof(runas));
	runas.pw_name = runas_copy;
	runas.pw_dir = dir_copy;
	runas.pw_uid = pw->pw_uid;
	runas.pw_gid = pw->pw_gid;
	if (cr->av[0][0] != '/') {
		error("%s path is not absolute", cr->tag);
		goto fail;
	}
	if (stat(cr->av[0], &st) == -1) {
		error("Could not stat %s \"%s\": %s", cr->tag, cr->av[0],
		    strerror(errno));
		goto fail;
	}
	if (cmd_safe_path(cr->av[0], &st, err, sizeof(err)) != 0) {
		error("Unsafe %s \"%s\": %s", cr->tag, cr->av[0], err);
		goto fail;
	}
	debug("Running %s: \"%s\" as \"%s\"", cr->tag, cr->printable,
	    runas.pw_name);
	if (cmd_env(&runas, envp) != 0)
		goto fail;
	if (pipe2(p, O_CLOEXEC) == -1) {
		error("%s: pipe: %s", cr->tag, strerror(errno));
		goto fail;
	}
	if (pipe2(rep, O_CLOEXEC) == -1) {
		error("%s: pipe: %s", cr->tag, strerror(errno));
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	/*
	 * As sshd: SIGCHLD at its default while the command runs, so that
	 * no handler or SIG_IGN a PAM module set reaps it before waitpid.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGCHLD, &dfl, &oldchld);
	parent = getpid();
	/*
	 * LoginGraceTime's SIGALRM ends the monitor wherever it is (grace.c),
	 * and PR_SET_PDEATHSIG would end only the command, not what it left
	 * running in its session. While the command runs, SIGALRM waits
	 * blocked, seen through a signalfd: at the deadline the command's
	 * process group is killed first, then the monitor dies of the
	 * pending SIGALRM as before. No handler.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, &oldmask);
	if ((alarm_fd = signalfd(-1, &alrm, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		error("%s: signalfd: %s", cr->tag, strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if ((pid = fork()) == -1) {
		error("%s: fork: %s", cr->tag, strerror(errno));
		(void)sigaction(SIGCHLD, &oldchld, NULL);
		close(p[0]);
		close(p[1]);
		close(rep[0]);
		close(rep[1]);
		if (alarm_fd != -1) {
			close(alarm_fd);
			sigprocmask(SIG_SETMASK, &oldmask, NULL);
		}
		goto fail;
	}
	if (pid == 0) {
		close(p[0]);
		close(rep[0]);
		cmd_child(cr, &runas, envp, p[1], rep[1], parent);
	}
	close(p[1]);
	close(rep[1]);
	r = cmd_read(cr, p[0], &start, alarm_fd, outp, lenp);
	ok = r == 0;
	close(p[0]);
	if (r == -1) {
		cmd_kill(pid);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	} else if (r == 0 &&
	    (r = cmd_wait(cr, pid, &start, alarm_fd, &status)) != 0) {
		/* Reaped within the same deadline: closing its output is
		 * not the end of a command that runs on. */
		ok = 0;
		if (r == CMD_GRACE) {
			free(*outp);
			*outp = NULL;
		}
	} else if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		cmd_report(cr, rep[0], runas.pw_name);
	if (r == CMD_GRACE) {
		/* The group goes, and the monitor dies of SIGALRM below: no
		 * wait for a command that might not die at once. */
		cmd_kill(pid);
		status = 0;
	}
	close(rep[0]);
	(void)sigaction(SIGCHLD, &oldchld, NULL);
	if (alarm_fd != -1) {
		/* A SIGALRM that came meanwhile ends the monitor here. */
		close(alarm_fd);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	}
	if (!ok) {
		/* said already */
	} else if (WIFSIGNALED(status)) {
		error("%s %s exited on signal %d", cr->tag, cr->printable,
		    WTERMSIG(status));
		ok = 0;
	} else if (WEXITSTATUS(status) != 0) {
		logit("%s %s failed, status %d", cr->tag, cr->printable,
		    WEXITSTATUS(status));
		ok = 0;
	}
	free(who);
	free(runas_copy);
	free(dir_copy);
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	if (ok)
		return 0;
	free(*outp);
	*outp = NULL;
	*lenp = 0;
	return -1;
fail:
	free(who);
	free(runas_copy);
	free(dir_copy);
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	return -1;
}

/* Base64 of a key's blob into a malloc'd string, or NULL. */
char *
authcmd_base64(const uint8_t *blob, size_t len)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	char *s;

	if ((s = malloc(n)) == NULL)
		return NULL;
	if (base64_encode(blob, len, s, n) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
