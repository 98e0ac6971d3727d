/*
 * login.h: what the monitor does for a login once the user is known: the
 * session's login settings, its ptys and their utmp/wtmp/lastlog records,
 * ExposeAuthInfo's text, and the ChrootDirectory checks.
 */
#ifndef POSTERN_MONITOR_LOGIN_H
#define POSTERN_MONITOR_LOGIN_H

#include <sys/types.h>

#include <stdint.h>

struct authctxt;
struct buf;
struct conn_info;
struct server_config;

/* At most this many ptys per connection (and never above MaxSessions). */
#define LOGIN_MAX_PTYS 64
#define LOGIN_TTY_MAX 32

/*
 * The monitor keeps its own copy of each master until the logout record is
 * written: while it is open the kernel cannot give /dev/pts/N to another
 * login, so a record for this name is always about this connection's pty.
 */
struct login_pty {
	char name[LOGIN_TTY_MAX]; /* "/dev/pts/N" */
	int master;               /* the monitor's copy, close-on-exec */
	int logged_in;            /* a utmp login record is open */
	pid_t pid;                /* as recorded */
};

/* The monitor's side of one connection's session phase. */
struct login_state {
	const struct authctxt *a;
	const struct server_config *c;
	const struct conn_info *ci;
	struct login_pty ptys[LOGIN_MAX_PTYS];
	size_t nptys;
	pid_t session_pid; /* the only ut_pid a login record may carry */
	int limit_logged;  /* the pty limit's refusal was logged (once) */
};

void login_state_init(struct login_state *ls, const struct authctxt *a,
    const struct server_config *c, const struct conn_info *ci);

/*
 * login_chroot_path: ChrootDirectory for this login, tokens expanded and
 * every directory on the way checked as sshd does (root-owned, not group-
 * or world-writable, a directory), symlinks resolved by the walk itself so
 * that the directories they lead through are checked too. *fdp is an
 * O_PATH descriptor of the checked jail, to enter by descriptor; NULL and
 * -1 when there is none. An error is logged in sshd's words and ends the
 * login.
 */
int login_chroot_path(const struct authctxt *a, const struct server_config *c,
    char **pathp, int *fdp);

/*
 * login_send: IPC_SESSION_LOGIN, right after IPC_SESSION_INIT. chrooted
 * says the session starts inside ChrootDirectory.
 */
int login_send(int fd, const struct authctxt *a, const struct server_config *c,
    int chrooted);

/*
 * login_handle: one of the session's login requests (IPC_SESSION_PTY_REQ,
 * _LOGIN_REC, _LOGOUT_REC), answered on fd. 1 if type is not one of them,
 * 0 when handled, an ERR_* code for a malformed or disallowed request
 * (which ends the connection).
 */
int login_handle(struct login_state *ls, int fd, uint8_t type, struct buf *b);

/* login_end: logout records for every pty still logged in; the ptys go. */
void login_end(struct login_state *ls);

/*
 * login_failed_record: a failed login in /var/log/btmp (lastb), as sshd
 * records an invalid user and each failed password or keyboard-interactive
 * attempt: user as the client sent it, line "ssh:notty", the client's host
 * and address, the monitor's pid. Only as root, and only into a file that
 * exists, is root's and has no group-execute or other permissions.
 */
void login_failed_record(const char *user, const struct conn_info *ci);

/*
 * login_auth_info_add: one line for ExposeAuthInfo after a successful
 * step: "publickey ALG BASE64" (from req, the USERAUTH_REQUEST rest),
 * "password", "keyboard-interactive". Appended to *info.
 */
void login_auth_info_add(
    char **info, const char *method, const struct buf *req);

#endif
