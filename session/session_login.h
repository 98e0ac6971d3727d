/*
 * session_login.h: the login as the session sees it: the settings the
 * monitor sends (IPC_SESSION_LOGIN), ptys and utmp records asked of the
 * monitor, the environment of a child, and what runs in the child before
 * the user's program (home directory, last login, motd, ~/.ssh/rc).
 */
#ifndef POSTERN_SESSION_LOGIN_H
#define POSTERN_SESSION_LOGIN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

struct session_ctx;
struct session_pty;

/* Flags of IPC_SESSION_LOGIN: lib/ipc.h. */

/* Client env requests kept per channel (OpenSSH's limit). */
#define SESSION_ENV_REQ_MAX 128

struct session_login {
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
	uint32_t flags;
	char *permit_user_env; /* "" no, "yes", or a pattern list */
	char **accept_env;
	size_t naccept_env;
	char **set_env; /* NAME=VALUE */
	size_t nset_env;
	char *auth_info;   /* ExposeAuthInfo text, "" if off */
	char *loginmsg;    /* UsePAM: what PAM's modules said (pam_motd) */
	char *nologin;     /* LOGIN_F_NOLOGIN: /etc/nologin's text */
	char *auth_file;   /* SSH_USER_AUTH, once written; NULL otherwise */
	char **auth_debug; /* SSH_MSG_DEBUG lines of the login's key checks */
	size_t nauth_debug;
};

/* What one channel adds to its child's start. */
struct session_child {
	char **env; /* accepted env requests, "NAME=value" */
	size_t nenv;
	const char *lastlog; /* the monitor's "Last login: ..." or NULL */
	int subsystem;       /* a Subsystem: no ~/.ssh/rc */
	/* X11 forwarding: DISPLAY, and the display name (xauth's), protocol
	 * and cookie that ~/.ssh/rc or else xauth get on stdin. */
	const char *display;
	const char *x11_auth_display;
	const char *x11_proto;
	const char *x11_cookie;
	const char *agent_sock; /* agent forwarding: SSH_AUTH_SOCK */
};

/* session_login_recv: IPC_SESSION_LOGIN, strictly decoded. */
int session_login_recv(int fd, struct session_login *l);
void session_login_free(struct session_login *l);
/* ExposeAuthInfo: write SSH_USER_AUTH's file (as the user); remove it. */
void session_login_auth_file(struct session_login *l);
void session_login_auth_file_remove(struct session_login *l);

/*
 * session_login_pty: ask the monitor for a pty; *master and *slave are
 * ours (close-on-exec), name its path. ERR_PERM if refused.
 */
int session_login_pty(int fd, int *master, int *slave, char *name, size_t len);
/* session_login_record: utmp/wtmp/lastlog login for tty; *msg last login. */
int session_login_record(int fd, const char *tty, pid_t pid, char **msg);
/* session_login_logout: the logout record for tty (if logged in); the
 * monitor releases the pty. */
int session_login_logout(int fd, const char *tty);

/*
 * session_env_accept: whether an env request's name passes AcceptEnv;
 * session_env_add keeps it in (env, *n) (a later value of a name wins).
 */
int session_env_accept(const struct session_login *l, const char *name);
int session_env_add(
    char ***env, size_t *n, const char *name, const char *value);
void session_env_free(char **env, size_t n);

/* session_env_notes: what the last session_env_build has to tell the
 * client (~/.ssh/environment's bad lines), "" if nothing. */
const char *session_env_notes(void);
/*
 * session_env_build: the child's environment in OpenSSH's order; a
 * NULL-terminated malloc'd array in *envp.
 */
int session_env_build(const struct session_ctx *ctx,
    const struct session_child *ch, const char *shell, const char *original,
    const struct session_pty *pty, char ***envp);

/*
 * session_login_write: in a child, all of s[0, len) to fd, retrying on
 * EINTR; stops quietly at an error (the client may be gone).
 */
void session_login_write(int fd, const char *s, size_t len);

/*
 * session_login_messages: in the child, PAM's messages, then on a pty the
 * last login (PrintLastLog), as sshd's display_loginmsg() shows them.
 */
void session_login_messages(
    const struct session_ctx *ctx, const struct session_child *ch, int pty);

/*
 * session_login_greet: in the child, what sshd's do_login() shows unless
 * the login is quiet (a command, ~/.hushlogin): PAM's messages, and on a
 * pty the last login and /etc/motd (PrintMotd). 1 if it showed them.
 */
int session_login_greet(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command, int pty);

/*
 * session_login_child: in the child, just before exec: chdir to home, the
 * last login and motd for an interactive pty login, then ~/.ssh/rc or
 * /etc/ssh/sshrc. stdout/stderr are already the session's.
 */
void session_login_child(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command, int pty,
    const char *shell, char **env);

/*
 * session_login_rc_wanted: whether session_login_rc would run anything
 * for a subsystem (/etc/ssh/sshrc exists, or X11's xauth); checked in
 * the session process, so that internal-sftp forks only then.
 * session_login_rc: in a child, what sshd's child does before its
 * in-process sftp server: chdir to home, then /etc/ssh/sshrc (or xauth).
 */
int session_login_rc_wanted(
    const struct session_ctx *ctx, const struct session_child *ch);
void session_login_rc(const struct session_ctx *ctx,
    const struct session_child *ch, const char *shell, char **env);

#endif
