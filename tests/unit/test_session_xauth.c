/*
 * test_session_xauth.c: X11 forwarding without an rc file in the session's
 * child (session/session_login.c): xauth gets "remove"/"add" on its stdin,
 * and an xauth that cannot run never takes the child down with SIGPIPE
 * before the user's program starts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/session.h"
#include "session/session_login.h"
#include "tests/unit/t.h"

#define COOKIE "00112233445566778899aabbccddeeff"

static char home[] = "/tmp/postern-xauth-XXXXXX";
static struct session_axl axl;
static struct session_ctx ctx;
static struct session_child ch;

/* The child's run up to the user's program: 0 if it got there. Its
 * stderr goes to errpath, or /dev/null. */
static int
child_status(const char *errpath)
{
	char *env[] = {NULL};
	int status, null, err;
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* As session_exec's child_setup leaves it. */
		signal(SIGPIPE, SIG_DFL);
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		if (errpath != NULL &&
		    (err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		        -1)
			dup2(err, STDERR_FILENO);
		session_login_child(&ctx, &ch, "true", 0, "/bin/sh", env);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

int
main(void)
{
	char prog[256], got[256], errpath[256], buf[512];
	FILE *f;
	size_t n = 0;
	int i, killed = 0, status;

	if (access("/etc/ssh/sshrc", F_OK) == 0) {
		printf("ok - skipped: /etc/ssh/sshrc runs instead of xauth\n");
		return 0;
	}
	if (mkdtemp(home) == NULL)
		return 1;
	ctx.home = home;
	ctx.axl = &axl;
	ch.display = "localhost:10.0";
	ch.x11_auth_display = "unix:10.0";
	ch.x11_proto = "MIT-MAGIC-COOKIE-1";
	ch.x11_cookie = COOKIE;

	/* A stand-in xauth that keeps what it is given. */
	snprintf(prog, sizeof(prog), "%s/xauth", home);
	snprintf(got, sizeof(got), "%s/got", home);
	snprintf(buf, sizeof(buf), "#!/bin/sh\ncat > '%s'\n", got);
	write_file(prog, buf, 0755);
	axl.xauth_location = prog;
	status = child_status(NULL);
	T_CHECK("xauth run: child reaches the program",
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memset(buf, 0, sizeof(buf));
	if ((f = fopen(got, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	T_CHECK("xauth stdin: remove and add",
	    n > 0 &&
	        strcmp(buf,
	            "remove unix:10.0\nadd unix:10.0 "
	            "MIT-MAGIC-COOKIE-1 " COOKIE "\n") == 0);

	/* One that cannot run: as sshd's popen(), the shell says so on the
	 * session's stderr, which reaches the client. */
	snprintf(errpath, sizeof(errpath), "%s/err", home);
	unlink(prog);
	status = child_status(errpath);
	memset(buf, 0, sizeof(buf));
	if ((f = fopen(errpath, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	T_CHECK("missing xauth: child reaches the program",
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* dash says "not found", bash "No such file or directory". */
	T_CHECK("missing xauth: the shell names it on stderr",
	    n > 0 && strstr(buf, prog) != NULL &&
	        (strstr(buf, "not found") != NULL ||
	            strstr(buf, "No such file") != NULL));
	if (n > 0)
		printf("# stderr: %s", buf);
	unlink(errpath);

	/* One that exists but cannot exec: it is gone before the write. */
	write_file(prog, "not a program\n", 0644);
	for (i = 0; i < 1000; i++) {
		status = child_status(NULL);
		if (WIFSIGNALED(status))
			killed++;
	}
	T_CHECK("xauth that cannot exec: no SIGPIPE", killed == 0);
	if (killed != 0)
		printf("# %d of 1000 children were killed\n", killed);

	unlink(prog);
	unlink(got);
	rmdir(home);
	return T_DONE();
}
