/*
 * pam.h: UsePAM yes in the monitor: the account check after authentication,
 * and credentials plus session open/close around the user's session, with
 * PAM_RHOST, PAM_TTY ("ssh") and PAM_USER set as OpenSSH sets them.
 */
#ifndef POSTERN_PAM_H
#define POSTERN_PAM_H

#include <stddef.h>

struct pamctx;

/*
 * pamctx_start: pam_start(service, user) with PAM_RHOST and PAM_TTY, and,
 * as sshd, SSH_CONNECTION=connection ("ADDR PORT LADDR LPORT") in PAM's
 * environment when connection is not NULL.
 */
int pamctx_start(struct pamctx **pp, const char *service, const char *user,
    const char *rhost, const char *connection);
/*
 * pamctx_expose_auth_info: SSH_AUTH_INFO_0 in PAM's environment, the first
 * len bytes of info (ExposeAuthInfo's text; NULL: empty), as sshd exposes
 * it before the account check and before the session opens. caller names
 * the step in the debug line.
 */
void pamctx_expose_auth_info(
    struct pamctx *p, const char *caller, const char *info, size_t len);
/*
 * pamctx_account: pam_acct_mgmt(). 0 when the account may log in;
 * PAMCTX_PWCHANGE when it may, but its password has expired
 * (PAM_NEW_AUTHTOK_REQD: the session must change it first, as OpenSSH's
 * force_pwchange); ERR_PERM otherwise (logged with PAM's reason).
 */
#define PAMCTX_PWCHANGE 1
int pamctx_account(struct pamctx *p);
/*
 * pamctx_open_session: pam_setcred(ESTABLISH) + pam_open_session(). 0, or
 * PAMCTX_CRED_FAILED when keyboard-interactive/pam authenticated the user
 * (pamctx_mark_authenticated) and pam_setcred failed: the login must end,
 * as sshd's fatal() (logged here); or ERR_PERM when the session did not
 * open (logged).
 */
#define PAMCTX_CRED_FAILED 2
int pamctx_open_session(struct pamctx *p);
/* keyboard-interactive/pam authenticated the user (in a child, with
 * another handle): pam_setcred's failure is then fatal, as above; as in
 * sshd, not after a password PAM checked (pamctx_password). */
void pamctx_mark_authenticated(struct pamctx *p);
/*
 * pamctx_setcred_child: in the session's child, root, right after
 * initgroups(): pam_setcred(ESTABLISH) again, as OpenSSH does, so that
 * the credentials that are supplementary groups (pam_group) are the
 * session's too; initgroups() wiped those the monitor got. NULL: nothing.
 * ERR_PERM when it failed and PAM authenticated the user (logged): the
 * child must not run the session.
 */
int pamctx_setcred_child(struct pamctx *p);
/* The PAM environment ("NAME=value" strings, NULL-terminated; owned). */
char **pamctx_env(struct pamctx *p, size_t *np);
/* What PAM's modules said (pam_motd), one message per line; "" if none. */
const char *pamctx_loginmsg(const struct pamctx *p);
/* Append a message (a line) to it: PAM's authentication's, relayed. */
void pamctx_keep_message(struct pamctx *p, const char *msg);
/*
 * pamctx_password: pam_authenticate(flags) in this handle, password
 * answering its echo-off prompts (OpenSSH's sshpam_auth_passwd()); PAM's
 * result. Messages are kept as the others.
 */
int pamctx_password(struct pamctx *p, const char *password, int flags);
/*
 * pamctx_putenv: a "NAME=value" that PAM's authentication set (in the
 * child that ran it) into this handle's environment, as sshd imports a
 * PAM thread's. Anything else is ignored.
 */
void pamctx_putenv(struct pamctx *p, const char *nameval);
/* Close the session (if open), delete credentials, pam_end(). */
void pamctx_end(struct pamctx *p);

#endif
