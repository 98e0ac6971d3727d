/* session_exec.h: running a session's command or shell as a child process. */
#ifndef POSTERN_SESSION_EXEC_H
#define POSTERN_SESSION_EXEC_H

#include <sys/types.h>

struct session_ctx;
struct session_pty;
struct session_child;
struct buf;

/*
 * session_exec_spawn: fork and exec the user's shell as `shell -c command`,
 * or as a login shell when command is NULL. original is the client's own
 * command when a forced command replaced it (exported as
 * SSH_ORIGINAL_COMMAND), else NULL. On success *pidp is the child, which
 * leads its own session and process group, and *infd, *outfd, *errfd are
 * our non-blocking ends of its stdin, stdout and stderr pipes. With pty,
 * the child has the slave as fds 0-2 and as its controlling terminal,
 * TERM and SSH_TTY are set, *infd and *outfd are two descriptors of the
 * master and *errfd is -1; the caller closes its slave afterwards.
 * ch (may be NULL) is what the channel adds: its accepted env requests,
 * the last-login text, whether it is a subsystem (session_login.h).
 */
int session_exec_spawn(const struct session_ctx *ctx, const char *command,
    const char *original, const struct session_pty *pty,
    const struct session_child *ch, pid_t *pidp, int *infd, int *outfd,
    int *errfd);

/*
 * session_exec_rc_start: before an in-process internal-sftp, what sshd's
 * child runs before its sftp server: /etc/ssh/sshrc with /bin/sh (a
 * subsystem runs no ~/.ssh/rc), or X11's xauth, in the session's
 * environment, from the home directory. Nothing is forked (*pidp -1)
 * when there is neither. Else *pidp is the child, which the caller does
 * not wait for (the connection goes on meanwhile), and *outfd a file
 * holding its stdout; its stderr is dropped, as a subsystem's. original,
 * pty and ch as session_exec_spawn's.
 * session_exec_rc_output: once the child has ended, what fits in out of
 * its stdout (it goes to the client ahead of SFTP's replies, as sshd's
 * child's does); closes fd.
 */
int session_exec_rc_start(const struct session_ctx *ctx,
    const struct session_child *ch, const char *original,
    const struct session_pty *pty, pid_t *pidp, int *outfd);
void session_exec_rc_output(int fd, struct buf *out);

/*
 * session_exec_pwchange: an expired password's session, whatever was
 * asked for (OpenSSH's do_pwchange): with pty, the login's greeting
 * first (session_login_greet, with ch->lastlog; command is the one that
 * would have run, NULL: a shell), then "WARNING: Your password has
 * expired." and "You must change your password now and login again!",
 * then /usr/bin/passwd with only PATH, USER, LOGNAME, HOME, SHELL and
 * TERM -- no shell, ~/.ssh/rc or user environment; without one the child
 * says it cannot and exits 1 running nothing. The descriptors are as
 * session_exec_spawn's.
 */
int session_exec_pwchange(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command,
    const struct session_pty *pty, pid_t *pidp, int *infd, int *outfd,
    int *errfd);

/*
 * session_exec_nologin: a session refused by /etc/nologin (OpenSSH's
 * do_nologin()): a child that writes text to its stderr and exits 254.
 * The descriptors are as session_exec_spawn's.
 */
int session_exec_nologin(const struct session_pty *pty, const char *text,
    pid_t *pidp, int *infd, int *outfd, int *errfd);

/*
 * session_exec_pam_failed: a session whose PAM session did not open
 * (sshd's do_child() then): on a pty, the login's greeting first
 * (session_login_greet, with ch->lastlog, as sshd's do_login() shows it
 * before), then PAM's messages if not shown yet, and status 254; command
 * is the one that would have run (NULL: a shell). The descriptors are as
 * session_exec_spawn's.
 */
int session_exec_pam_failed(const struct session_ctx *ctx,
    const struct session_child *ch, const char *command,
    const struct session_pty *pty, pid_t *pidp, int *infd, int *outfd,
    int *errfd);

/*
 * session_exec_say: a child that writes text to its fd (STDOUT_FILENO or
 * STDERR_FILENO) and exits with status, running nothing else. The
 * descriptors are as session_exec_spawn's.
 */
int session_exec_say(const struct session_pty *pty, int fd, const char *text,
    int status, pid_t *pidp, int *infd, int *outfd, int *errfd);

/* session_close_from: in a child, close every fd from lowfd up. */
void session_close_from(int lowfd);

/* signal_from_name: the number of a signal a client may send ("TERM",
 * as sshd: HUP INT KILL QUIT TERM USR1 USR2), or 0. */
int signal_from_name(const char *name);
/* signal_to_name: the RFC 4254 name of sig, "SIG@openssh.com" if none. */
const char *signal_to_name(int sig);

#endif
