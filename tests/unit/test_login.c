/*
 * test_login.c: the monitor's pty bookkeeping (monitor/login.c) driven
 * through login_handle as a session would, over a socketpair. Only the
 * refusals are exercised: an accepted login record would write the
 * system's utmp, wtmp and lastlog (tests/integration covers those).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "monitor/auth.h"
#include "monitor/login.h"
#include "policy/config.h"
#include "tests/unit/t.h"

static struct authctxt a;
static struct authopts opts;
static struct server_config c;
static struct conn_info ci;
static struct login_state ls;
static int sp[2] = {-1, -1};

/* send_msg: one request from the "session", handled by the monitor. */
static int
send_msg(uint8_t type, const char *tty, int with_pid)
{
	struct buf *b = buf_new(256);
	int r;

	if (b == NULL)
		return ERR_ALLOC;
	if ((tty != NULL && buf_put_cstring(b, tty) != 0) ||
	    (with_pid && buf_put_u32(b, (uint32_t)getpid()) != 0)) {
		buf_free(b);
		return ERR_ALLOC;
	}
	r = login_handle(&ls, sp[0], type, b);
	buf_free(b);
	return r;
}

/* pty_req: ask for a pty; *name and *master as the session gets them. */
static int
pty_req(char *name, size_t namelen, int *master)
{
	struct buf *b = buf_new(IPC_MAX_MESSAGE);
	char *tty = NULL;
	uint32_t granted = 0;
	uint8_t type = 0;
	int r;

	*master = -1;
	name[0] = '\0';
	if (b == NULL)
		return -1;
	if ((r = send_msg(IPC_SESSION_PTY_REQ, NULL, 0)) != 0 ||
	    (r = ipc_recv(sp[1], &type, b, master, IPC_MAX_MESSAGE)) != 0 ||
	    type != IPC_SESSION_PTY_REPLY ||
	    (r = buf_get_u32(b, &granted)) != 0 ||
	    (r = buf_get_cstring(b, &tty, NULL)) != 0) {
		buf_free(b);
		return -1;
	}
	snprintf(name, namelen, "%s", tty);
	free(tty);
	buf_free(b);
	return (int)granted;
}

/* The monitor's lines that refuse a pty for the limit. */
static int limit_lines;

static void
count_lines(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (strstr(msg, "pty request refused: ") != NULL &&
	    strstr(msg, "ptys allocated") != NULL)
		limit_lines++;
}

static int
pty_number(int master)
{
	unsigned int ptn;

	return ioctl(master, TIOCGPTN, &ptn) == -1 ? -1 : (int)ptn;
}

int
main(void)
{
	char name[LOGIN_TTY_MAX], name2[LOGIN_TTY_MAX], other[LOGIN_TTY_MAX];
	int master = -1, master2 = -1, probe, held, n;

	log_init("test_login", LL_ERROR, LOG_AUTH, 1);
	log_set_handler(count_lines, NULL);
	memset(&a, 0, sizeof(a));
	memset(&opts, 0, sizeof(opts));
	memset(&c, 0, sizeof(c));
	memset(&ci, 0, sizeof(ci));
	opts.permit_pty = 1;
	a.opts = &opts;
	a.pw.pw_name = "test";
	a.pw.pw_uid = getuid();
	a.pw.pw_gid = getgid();
	c.permit_tty = 1;
	c.max_sessions = 2;
	snprintf(ci.client_addr, sizeof(ci.client_addr), "127.0.0.1");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		perror("socketpair");
		return 1;
	}
	login_state_init(&ls, &a, &c, &ci);

	T_CHECK("pty granted", pty_req(name, sizeof(name), &master) == 1);
	T_CHECK("master passed", master >= 0);
	T_CHECK("name is the master's",
	    master >= 0 &&
	        snprintf(other, sizeof(other), "/dev/pts/%d",
	            pty_number(master)) > 0 &&
	        strcmp(other, name) == 0);
	T_CHECK("monitor holds one", ls.nptys == 1 && ls.ptys[0].master >= 0);
	held = ls.nptys == 1 ? pty_number(ls.ptys[0].master) : -1;
	T_CHECK("monitor's copy is the same pty",
	    held >= 0 && held == pty_number(master));

	/*
	 * The session drops its master without a logout record: the number
	 * stays taken while the monitor holds its copy, so another login
	 * cannot get it and a record for the name is still this pty's.
	 */
	close(master);
	master = -1;
	probe = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	T_CHECK("new pty opened", probe >= 0);
	T_CHECK("held number not reused", pty_number(probe) != held);
	if (probe >= 0)
		close(probe);

	/* A name the monitor never gave out: refused, nothing written. */
	T_CHECK("login record for a foreign pty refused",
	    send_msg(IPC_SESSION_LOGIN_REC, "/dev/pts/99999", 1) ==
	        ERR_PROTOCOL);
	T_CHECK("logout record for a foreign pty refused",
	    send_msg(IPC_SESSION_LOGOUT_REC, "/dev/pts/99999", 0) ==
	        ERR_PROTOCOL);

	/* A held entry whose master is not the named pty: refused. */
	if (ls.nptys == 1) {
		snprintf(ls.ptys[0].name, sizeof(ls.ptys[0].name),
		    "/dev/pts/%d", held + 1);
		T_CHECK("login record checks the held master",
		    send_msg(IPC_SESSION_LOGIN_REC, ls.ptys[0].name, 1) ==
		        ERR_PROTOCOL);
		snprintf(ls.ptys[0].name, sizeof(ls.ptys[0].name), "%s", name);
	}

	/* Released (no login record was open): the pty is no longer held. */
	T_CHECK("logout record accepted",
	    send_msg(IPC_SESSION_LOGOUT_REC, name, 0) == 0);
	T_CHECK("slot freed", ls.nptys == 0);
	T_CHECK("login record after release refused",
	    send_msg(IPC_SESSION_LOGIN_REC, name, 1) == ERR_PROTOCOL);
	T_CHECK("second release refused",
	    send_msg(IPC_SESSION_LOGOUT_REC, name, 0) == ERR_PROTOCOL);

	/* MaxSessions ptys at once; a released one makes room again. */
	T_CHECK("first of two", pty_req(name, sizeof(name), &master) == 1);
	T_CHECK("second of two", pty_req(name2, sizeof(name2), &master2) == 1);
	T_CHECK("two held, distinct", ls.nptys == 2 && strcmp(name, name2));
	n = pty_req(other, sizeof(other), &probe);
	T_CHECK("third refused", n == 0 && probe == -1 && other[0] == '\0');
	n = pty_req(other, sizeof(other), &probe);
	T_CHECK("fourth refused", n == 0 && probe == -1);
	T_CHECK("the limit's refusal logged once", limit_lines == 1);
	T_CHECK("release one", send_msg(IPC_SESSION_LOGOUT_REC, name, 0) == 0);
	if (master >= 0)
		close(master);
	T_CHECK("room again", pty_req(name, sizeof(name), &master) == 1);

	/* login_end: every pty goes, the monitor's masters closed. */
	held = ls.nptys == 2 ? ls.ptys[0].master : -1;
	login_end(&ls);
	T_CHECK("login_end frees all", ls.nptys == 0);
	T_CHECK("login_end closes the masters",
	    held >= 0 && fcntl(held, F_GETFD) == -1 && errno == EBADF);
	if (master >= 0)
		close(master);
	if (master2 >= 0)
		close(master2);

	/* No pty when the login may not have one. */
	opts.permit_pty = 0;
	n = pty_req(name, sizeof(name), &master);
	T_CHECK("refused without permit_pty", n == 0 && master == -1);
	close(sp[0]);
	close(sp[1]);
	return T_DONE();
}
