/*
 * pam.c: the PAM handle of a UsePAM yes login: the password method's
 * authentication (for pam_password.so), the account and session phases.
 * The conversation function answers echo-off prompts with the password
 * while the password method runs, no others (account and session modules
 * do not ask; keyboard-interactive:pam runs its own conversation), and
 * keeps PAM's informational and error messages (pam_motd's) for the
 * user's login, as sshd's loginmsg.
 */
#include <security/pam_appl.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor/pam.h"

/* What PAM's modules say (pam_motd) is shown at login, up to this much. */
#define PAM_LOGINMSG_MAX (64 * 1024)

struct pamctx {
	pam_handle_t *h;
	struct pam_conv conv;
	int session_open;
	int cred_set;
	/* keyboard-interactive/pam authenticated the user (sshd's
	 * sshpam_authenticated, which a password checked by PAM does not
	 * set): a failing pam_setcred then ends the login. */
	int authenticated;
	char **env;
	size_t nenv;
	char *loginmsg; /* informational/error messages, one per line */
	size_t loginmsglen;
	const char *password; /* answers echo-off prompts while set */
	char *user;           /* the name PAM was started with */
	/* sshd's passwd_conv is PAM's conversation: from a password attempt
	 * until pam_setcred, so for the account phase after it too. That
	 * one drops empty messages (a blank line pam_exec's stdout gave). */
	int passwd_conv;
};

/*
 * PAM's modules run in the monitor: one that writes to a peer that has
 * gone (pam_ldap's socket) must get EPIPE, not kill the monitor, as under
 * sshd, which ignores SIGPIPE. The monitor ignores it throughout
 * (monitor_run); these hold it so where a helper's child, which has the
 * default back, calls PAM (pamctx_setcred_child).
 */
static void
pipe_ignore(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, old);
}

static void
pipe_restore(const struct sigaction *old)
{
	(void)sigaction(SIGPIPE, old, NULL);
}

/* Keep a message for the user's login (as sshd's loginmsg). */
static void
keep_message(struct pamctx *p, const char *msg)
{
	size_t n = msg != NULL ? strlen(msg) : 0;
	char *grown;

	if (p == NULL || p->loginmsglen + n + 2 > PAM_LOGINMSG_MAX ||
	    (grown = realloc(p->loginmsg, p->loginmsglen + n + 2)) == NULL)
		return;
	if (n > 0)
		memcpy(grown + p->loginmsglen, msg, n);
	p->loginmsglen += n;
	grown[p->loginmsglen++] = '\n';
	grown[p->loginmsglen] = '\0';
	p->loginmsg = grown;
}

static int
quiet_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pamctx *p = data;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			debug("PAM: %.511s",
			    msg[i]->msg != NULL ? msg[i]->msg : "");
			if (p != NULL && p->passwd_conv &&
			    (msg[i]->msg == NULL || msg[i]->msg[0] == '\0'))
				break;
			keep_message(p, msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_OFF:
			/* The password method's answer, as sshd's. */
			if (p != NULL && p->password != NULL &&
			    (r[i].resp = strdup(p->password)) != NULL)
				break;
			/* FALLTHROUGH */
		default:
			/* No one to ask: this phase cannot prompt. */
			while (i-- > 0)
				if (r[i].resp != NULL)
					freezero(r[i].resp, strlen(r[i].resp));
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* NAME=value into PAM's environment; a failure is logged, as by sshd. */
static void
pam_env_put(struct pamctx *p, const char *name, const char *value, size_t len)
{
	char *s;
	int rc;

	/* len is bounded: an address line, or LOGIN_AUTH_INFO_MAX. */
	if (asprintf(&s, "%s=%.*s", name, (int)len, value) < 0) {
		error("PAM: out of memory for %s", name);
		return;
	}
	if ((rc = pam_putenv(p->h, s)) != PAM_SUCCESS)
		logit("pam_putenv: %s", pam_strerror(p->h, rc));
	free(s);
}

void
pamctx_expose_auth_info(
    struct pamctx *p, const char *caller, const char *info, size_t len)
{
	if (p == NULL)
		return;
	debug2("%s: auth information in SSH_AUTH_INFO_0", caller);
	pam_env_put(p, "SSH_AUTH_INFO_0", info != NULL ? info : "",
	    info != NULL ? len : 0);
}

int
pamctx_start(struct pamctx **pp, const char *service, const char *user,
    const char *rhost, const char *connection)
{
	struct pamctx *p;
	int rc;

	*pp = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->user = strdup(user)) == NULL) {
		free(p);
		return ERR_ALLOC;
	}
	/* An invalid user's name too: the client's. */
	debug("PAM: initializing for \"%.127s\" with service \"%s\"", user,
	    service);
	p->conv.conv = quiet_conv;
	p->conv.appdata_ptr = p;
	if ((rc = pam_start(service, user, &p->conv, &p->h)) != PAM_SUCCESS) {
		error("PAM: initialisation failed: %s", pam_strerror(NULL, rc));
		free(p->user);
		free(p);
		return ERR_SYSTEM;
	}
	if ((rc = pam_set_item(p->h, PAM_RHOST, rhost)) != PAM_SUCCESS ||
	    (rc = pam_set_item(p->h, PAM_TTY, "ssh")) != PAM_SUCCESS) {
		error("PAM: failed to set items: %s", pam_strerror(p->h, rc));
		pamctx_end(p);
		return ERR_SYSTEM;
	}
	if (connection != NULL)
		pam_env_put(
		    p, "SSH_CONNECTION", connection, strlen(connection));
	*pp = p;
	return 0;
}

int
pamctx_account(struct pamctx *p)
{
	int rc;

	rc = pam_acct_mgmt(p->h, 0);
	debug("PAM: pam_acct_mgmt = %d (%s)", rc, pam_strerror(p->h, rc));
	if (rc == PAM_SUCCESS)
		return 0;
	if (rc == PAM_NEW_AUTHTOK_REQD)
		return PAMCTX_PWCHANGE;
	/* Only the debug line, as sshd: the caller logs the denial. */
	return ERR_PERM;
}

int
pamctx_setcred_child(struct pamctx *p)
{
	struct sigaction old;
	int rc;

	if (p == NULL)
		return 0;
	p->passwd_conv = 0;
	pipe_ignore(&old);
	rc = pam_setcred(p->h, PAM_ESTABLISH_CRED);
	pipe_restore(&old);
	if (rc == PAM_SUCCESS)
		return 0;
	if (p->authenticated) {
		/* sshd's fatal(): its level, the login ends (callers). */
		log_msg(LL_FATAL, __func__, 0, "PAM: pam_setcred(): %s",
		    pam_strerror(p->h, rc));
		return ERR_PERM;
	}
	debug("PAM: pam_setcred(): %s", pam_strerror(p->h, rc));
	return 0;
}

void
pamctx_mark_authenticated(struct pamctx *p)
{
	if (p != NULL)
		p->authenticated = 1;
}

int
pamctx_open_session(struct pamctx *p)
{
	char **list;
	size_t n;
	int rc;

	/*
	 * As OpenSSH: when PAM did not authenticate the user (publickey), a
	 * failing setcred is only noted; the auth stack may well deny. When
	 * it did, the login ends (sshd's fatal in do_pam_setcred).
	 * sshd's store_conv is the conversation from here on.
	 */
	p->passwd_conv = 0;
	if ((rc = pam_setcred(p->h, PAM_ESTABLISH_CRED)) == PAM_SUCCESS)
		p->cred_set = 1;
	else if (p->authenticated) {
		/* sshd's fatal(): its level, the login ends (callers). */
		log_msg(LL_FATAL, __func__, 0, "PAM: pam_setcred(): %s",
		    pam_strerror(p->h, rc));
		return PAMCTX_CRED_FAILED;
	} else
		debug("PAM: pam_setcred(): %s", pam_strerror(p->h, rc));
	rc = pam_open_session(p->h, 0);
	if (rc != PAM_SUCCESS) {
		error("PAM: pam_open_session(): %s", pam_strerror(p->h, rc));
		return ERR_PERM;
	}
	p->session_open = 1;
	/* pam_getenvlist's strings are ours to keep (and free). */
	if ((list = pam_getenvlist(p->h)) != NULL) {
		for (n = 0; list[n] != NULL; n++)
			;
		p->env = list;
		p->nenv = n;
	}
	return 0;
}

void
pamctx_keep_message(struct pamctx *p, const char *msg)
{
	keep_message(p, msg);
}

int
pamctx_password(struct pamctx *p, const char *password, int flags)
{
	const void *now = NULL;
	int rc;

	if (p == NULL)
		return -1;
	p->password = password;
	p->passwd_conv = 1;
	rc = pam_authenticate(p->h, flags);
	p->password = NULL;
	debug("PAM: password authentication: %s", pam_strerror(p->h, rc));
	/*
	 * A module that renamed the user (PAM_USER) would have the account
	 * and session phases act for another account than the session's:
	 * refused.
	 */
	if (rc == PAM_SUCCESS &&
	    (pam_get_item(p->h, PAM_USER, &now) != PAM_SUCCESS || now == NULL ||
	        strcmp(now, p->user) != 0)) {
		error("PAM: authentication changed the user name: refused");
		rc = PAM_AUTH_ERR;
	}
	return rc;
}

void
pamctx_putenv(struct pamctx *p, const char *nameval)
{
	const char *eq;
	int rc;

	if (p == NULL || (eq = strchr(nameval, '=')) == NULL || eq == nameval)
		return;
	if ((rc = pam_putenv(p->h, nameval)) != PAM_SUCCESS)
		logit("pam_putenv: %s", pam_strerror(p->h, rc));
}

const char *
pamctx_loginmsg(const struct pamctx *p)
{
	return p != NULL && p->loginmsg != NULL ? p->loginmsg : "";
}

char **
pamctx_env(struct pamctx *p, size_t *np)
{
	*np = p->nenv;
	return p->env;
}

void
pamctx_end(struct pamctx *p)
{
	size_t i;
	int rc;

	if (p == NULL)
		return;
	/* sshd's sshpam_cleanup() logs no failure here: a debug line. */
	if (p->session_open &&
	    (rc = pam_close_session(p->h, PAM_SILENT)) != PAM_SUCCESS)
		debug("PAM: pam_close_session(): %s", pam_strerror(p->h, rc));
	if (p->cred_set)
		(void)pam_setcred(p->h, PAM_DELETE_CRED);
	pam_end(p->h, PAM_SUCCESS);
	free(p->user);
	for (i = 0; i < p->nenv; i++)
		freezero(p->env[i], strlen(p->env[i]));
	free(p->env);
	free(p->loginmsg);
	free(p);
}
