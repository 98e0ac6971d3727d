/*
 * pam_relay.h: keyboard-interactive:pam's PAM conversation (pam.c), run
 * in a child of the monitor, as sshd runs it in a thread of its own. The
 * child runs pam_authenticate and pam_acct_mgmt; its prompts come to the
 * module over a socketpair and the answers go back, so a PAM module that
 * blocks stalls only the child, and the module waits for it a bounded
 * time. (The password method runs PAM in the monitor's own handle, as
 * sshd's: pm_conn.pam_password.)
 *
 * Child to module: 'P' u32 n, n x (u32 style, string text): a batch of
 * messages, answered by u32 n, n x string; 'A': the account stack starts
 * (unanswered); 'R' u32 pam_rc, u32 changed,
 * u32 nenv, nenv x string: PAM is done (changed: 1 if an expired password
 * was changed, 2 if the change was tried and failed, PAMRELAY_RENAMED if
 * a module renamed the user (PAM_USER), which fails it; the env strings:
 * PAM's environment after a successful authentication, which sshd imports
 * from its PAM thread for the account and session phases).
 */
#ifndef POSTERN_PAM_RELAY_H
#define POSTERN_PAM_RELAY_H

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "modules/postern_module.h"
#include "modules/secret_policy.h"

#define PAMRELAY_WAIT_MS 20000 /* for each step of the conversation */
#define PAMRELAY_PKT_MAX 65536
#define PAMRELAY_INFO_MAX 2048
#define PAMRELAY_MSG_MAX 512     /* PAM_MAX_MSG_SIZE */
#define PAMRELAY_ENV_MAX 64      /* PAM environment strings carried back */
#define PAMRELAY_ENV_BYTES 32768 /* ... and their bytes in all */
#define PAMRELAY_RENAMED 3       /* 'R' changed: PAM_USER was changed */

struct pamrelay {
	pid_t pid;
	int fd;
	uint32_t nmsg; /* messages of the batch awaiting answers */
	int styles[PAM_MAX_NUM_MSG];
	char info[PAMRELAY_INFO_MAX]; /* text to show with the next prompts */
	uint32_t changed; /* 'R': the expired password's change, see above */
	char *env[PAMRELAY_ENV_MAX]; /* 'R': PAM's environment, on success */
	uint32_t nenv;
	int in_account; /* 'A' came: the account stack runs (or ran) */
};

/* The child's side: the conversation function and its context. */
struct pamrelay_child {
	int fd;
};

static __attribute__((unused)) int
pamrelay_send(int fd, const struct buf *b)
{
	ssize_t n;

	do
		n = send(fd, buf_ptr(b), buf_len(b), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)buf_len(b) ? 0 : ERR_SYSTEM;
}

/* One packet into b (cleared first); waits up to ms (-1: forever). */
static __attribute__((unused)) int
pamrelay_recv(int fd, struct buf *b, int ms)
{
	struct pollfd pfd;
	uint8_t *dst;
	ssize_t n;
	int r;

	buf_reset(b);
	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ERR_TIMEOUT;
	if (r < 0 || buf_reserve(b, PAMRELAY_PKT_MAX, &dst) != 0)
		return ERR_SYSTEM;
	do
		n = recv(fd, dst, PAMRELAY_PKT_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		buf_reset(b);
		return ERR_SYSTEM;
	}
	buf_consume_end(b, PAMRELAY_PKT_MAX - (size_t)n);
	return 0;
}

static __attribute__((unused)) void
pamrelay_free_resp(struct pam_response *resp, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (resp[i].resp != NULL)
			freezero(resp[i].resp, strlen(resp[i].resp));
	free(resp);
}

static __attribute__((unused)) int
pamrelay_is_prompt(int style)
{
	return style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON;
}

static __attribute__((unused)) int
pamrelay_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pamrelay_child *c = data;
	struct pam_response *r;
	struct buf *b = NULL;
	uint32_t got;
	char *ans;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	if ((b = buf_new_secret(PAMRELAY_PKT_MAX)) == NULL ||
	    buf_put_u8(b, 'P') != 0 || buf_put_u32(b, (uint32_t)n) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (buf_put_u32(b, (uint32_t)msg[i]->msg_style) != 0 ||
		    buf_put_cstring(b, msg[i]->msg ? msg[i]->msg : "") != 0)
			goto fail;
	if (pamrelay_send(c->fd, b) != 0 || pamrelay_recv(c->fd, b, -1) != 0 ||
	    buf_get_u32(b, &got) != 0 || got != (uint32_t)n)
		goto fail;
	for (i = 0; i < n; i++) {
		if (buf_get_cstring(b, &ans, NULL) != 0)
			goto fail;
		if (pamrelay_is_prompt(msg[i]->msg_style))
			r[i].resp = ans;
		else
			freezero(ans, strlen(ans));
	}
	buf_free(b);
	*resp = r;
	return PAM_SUCCESS;
fail:
	buf_free(b);
	pamrelay_free_resp(r, n);
	return PAM_CONV_ERR;
}

/* NAME=value into PAM's environment (the child's handle). */
static void
pamrelay_putenv(pam_handle_t *h, const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value) < 0)
		return;
	(void)pam_putenv(h, s);
	free(s);
}

/* 'R's environment: PAM's, as far as it fits (none when h is NULL). */
static int
pamrelay_put_env(struct buf *b, pam_handle_t *h)
{
	char **list = h != NULL ? pam_getenvlist(h) : NULL;
	const char *keep[PAMRELAY_ENV_MAX];
	size_t i, len, bytes = 0;
	uint32_t n = 0, k;
	int r;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		len = strlen(list[i]);
		if (n < PAMRELAY_ENV_MAX && bytes + len <= PAMRELAY_ENV_BYTES) {
			keep[n++] = list[i];
			bytes += len;
		}
	}
	r = buf_put_u32(b, n);
	for (k = 0; r == 0 && k < n; k++)
		r = buf_put_cstring(b, keep[k]);
	for (i = 0; list != NULL && list[i] != NULL; i++)
		freezero(list[i], strlen(list[i]));
	free(list);
	return r;
}

/*
 * 1 while PAM_USER is still the user the client named. A module that
 * renamed it would have the account and session phases act for another
 * account than the session's (as the password method refuses, in
 * monitor/pam.c).
 */
static int
pamrelay_user_kept(pam_handle_t *h, const char *user)
{
	const void *now = NULL;

	return pam_get_item(h, PAM_USER, &now) == PAM_SUCCESS && now != NULL &&
	    strcmp(now, user) == 0;
}

static __attribute__((unused)) void __attribute__((noreturn))
pamrelay_child_main(int fd, const struct pm_conn *conn, const char *service,
    int disallow_null, int may_change)
{
	struct pamrelay_child c = {fd};
	struct pam_conv conv = {pamrelay_conv, &c};
	pam_handle_t *h = NULL;
	struct buf *b;
	sigset_t none;
	uint32_t changed = 0;
	int rc, devnull;

	/* Nothing of the monitor's but this socket reaches PAM's modules. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}
	if (dup2(fd, 3) != 3)
		_exit(1);
	c.fd = 3;
	closefrom(4);
	rc = pam_start(service, conn->user, &conv, &h);
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(h, PAM_RHOST,
		    conn->client_host != NULL ? conn->client_host
		                              : conn->client_addr);
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(h, PAM_TTY, "ssh");
	/*
	 * sshd's PAM environment for the auth stack: SSH_CONNECTION and the
	 * steps completed so far (SSH_AUTH_INFO_0).
	 */
	if (rc == PAM_SUCCESS && conn->ssh_connection != NULL)
		pamrelay_putenv(h, "SSH_CONNECTION", conn->ssh_connection);
	if (rc == PAM_SUCCESS && conn->auth_info != NULL)
		pamrelay_putenv(h, "SSH_AUTH_INFO_0", conn->auth_info);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(
		    h, disallow_null ? PAM_DISALLOW_NULL_AUTHTOK : 0);
	if (rc == PAM_SUCCESS && !pamrelay_user_kept(h, conn->user)) {
		rc = PAM_AUTH_ERR;
		changed = PAMRELAY_RENAMED;
	}
	/*
	 * The account stack runs here, as sshd's PAM thread runs it, and any
	 * refusal reads as sshd words it ("User account has expired").
	 */
	if (rc == PAM_SUCCESS) {
		/* A child that dies or stalls from here on reads as a
		 * refusal (pamrelay_next). */
		if ((b = buf_new(1)) != NULL && buf_put_u8(b, 'A') == 0)
			(void)pamrelay_send(c.fd, b);
		buf_free(b);
		b = NULL;
		rc = pam_acct_mgmt(h, 0); /* as sshd's do_pam_account() */
		if (rc != PAM_SUCCESS && rc != PAM_NEW_AUTHTOK_REQD)
			rc = PAM_ACCT_EXPIRED;
	}
	/*
	 * An expired password, as OpenSSH's sshpam_thread(): PAM's change
	 * dialogue over the same conversation; the login succeeds only if
	 * the change does. Never for a user whose answers PAM does not get
	 * (module_secret_usable).
	 */
	if (rc == PAM_NEW_AUTHTOK_REQD && !may_change) {
		rc = PAM_AUTH_ERR;
	} else if (rc == PAM_NEW_AUTHTOK_REQD) {
		rc = pam_chauthtok(h, PAM_CHANGE_EXPIRED_AUTHTOK);
		changed = rc == PAM_SUCCESS ? 1 : 2;
		if (rc == PAM_SUCCESS && !pamrelay_user_kept(h, conn->user)) {
			rc = PAM_AUTH_ERR;
			changed = PAMRELAY_RENAMED;
		}
	}
	if ((b = buf_new_secret(PAMRELAY_PKT_MAX)) != NULL &&
	    buf_put_u8(b, 'R') == 0 && buf_put_u32(b, (uint32_t)rc) == 0 &&
	    buf_put_u32(b, changed) == 0 &&
	    pamrelay_put_env(b, rc == PAM_SUCCESS ? h : NULL) == 0)
		(void)pamrelay_send(c.fd, b);
	buf_free(b);
	if (h != NULL)
		pam_end(h, rc);
	_exit(0);
}

/* Start PAM for conn in a child, relaying its prompts. */
static __attribute__((unused)) int
pamrelay_start(struct pamrelay *pr, const struct pm_conn *conn)
{
	const char *service, *empty;
	pid_t parent;
	int sv[2];

	memset(pr, 0, sizeof(*pr));
	pr->fd = -1;
	if ((service = conn->setting(conn, "pamservicename", 0)) == NULL)
		service = "sshd";
	empty = conn->setting(conn, "permitemptypasswords", 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		error("PAM: socketpair: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	parent = getpid();
	if ((pr->pid = fork()) < 0) {
		error("PAM: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return ERR_SYSTEM;
	}
	if (pr->pid == 0) {
		close(sv[0]);
		/* LoginGraceTime may end the monitor mid-conversation (SIGALRM,
		 * monitor/grace.c): the conversation ends with it, as sshd's
		 * PAM process at its kill(0, SIGTERM). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(1);
		/* PAM's modules run here, as root: not with the host keys. */
		if (conn->forget_secrets != NULL)
			conn->forget_secrets(conn);
		pamrelay_child_main(sv[1], conn, service,
		    empty == NULL || strcmp(empty, "yes") != 0,
		    module_secret_usable(conn));
	}
	close(sv[1]);
	pr->fd = sv[0];
	return 0;
}

static __attribute__((unused)) void
pamrelay_stop(struct pamrelay *pr)
{
	uint32_t i;

	for (i = 0; i < pr->nenv; i++)
		freezero(pr->env[i], strlen(pr->env[i]));
	if (pr->pid > 0) {
		kill(pr->pid, SIGKILL);
		while (waitpid(pr->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (pr->fd >= 0)
		close(pr->fd);
	memset(pr, 0, sizeof(*pr));
	pr->fd = -1;
}

static __attribute__((unused)) void
pamrelay_add_info(struct pamrelay *pr, const char *text)
{
	size_t used = strlen(pr->info);

	snprintf(pr->info + used, sizeof(pr->info) - used, "%s\n", text);
}

/* The rest of 'R': PAM's environment. */
static int
pamrelay_get_done(struct pamrelay *pr, struct buf *b)
{
	uint32_t n, i;
	int r;

	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > PAMRELAY_ENV_MAX - pr->nenv)
		return ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &pr->env[pr->nenv], NULL)) != 0)
			return r;
		pr->nenv++;
	}
	return buf_end(b);
}

/*
 * Hand what a successful conversation left to the monitor (ABI 6), as
 * sshd keeps it: PAM's messages, for the banner that ends
 * authentication, and its environment, for the account and session
 * phases.
 */
static __attribute__((unused)) void
pamrelay_keep(struct pamrelay *pr, const struct pm_conn *conn)
{
	size_t len = strlen(pr->info);
	uint32_t i;

	if (len > 0 && pr->info[len - 1] == '\n')
		pr->info[len - 1] = '\0';
	if (pr->info[0] != '\0')
		conn->login_message(conn, pr->info);
	pr->info[0] = '\0';
	for (i = 0; i < pr->nenv; i++)
		conn->pam_env(conn, pr->env[i]);
}

/* A prompt's string: the text not yet shown, then the prompt. */
static int
pamrelay_put_prompt(struct buf *q, const char *text, const char *prompt)
{
	size_t tl = strlen(text), pl = strlen(prompt);
	int r;

	if ((r = buf_put_u32(q, (uint32_t)(tl + pl))) != 0 ||
	    (r = buf_put(q, text, tl)) != 0)
		return r;
	return buf_put(q, prompt, pl);
}

/*
 * Run the conversation to its next question. Returns 1 with an
 * USERAUTH_INFO_REQUEST payload in q (the prompts), 0 with PAM's verdict
 * in *pamrc, or a negative error (the child failed or took too long).
 */
static __attribute__((unused)) int
pamrelay_next(struct pamrelay *pr, struct buf *q, int *pamrc)
{
	struct buf *b, *reply = NULL;
	char *texts[PAM_MAX_NUM_MSG];
	uint32_t n = 0, i, style, rc, nprompts;
	uint8_t type;
	int r;

	memset(texts, 0, sizeof(texts));
	if ((b = buf_new_secret(PAMRELAY_PKT_MAX)) == NULL)
		return ERR_ALLOC;
	for (;;) {
		for (i = 0; i < n; i++) {
			free(texts[i]);
			texts[i] = NULL;
		}
		n = 0;
		if ((r = pamrelay_recv(pr->fd, b, PAMRELAY_WAIT_MS)) != 0) {
			error("PAM: the conversation %s",
			    r == ERR_TIMEOUT ? "timed out" : "failed");
			goto out;
		}
		if ((r = buf_get_u8(b, &type)) != 0)
			goto out;
		if (type == 'A') {
			pr->in_account = 1;
			continue;
		}
		if (type == 'R') {
			if ((r = buf_get_u32(b, &rc)) != 0 ||
			    (r = buf_get_u32(b, &pr->changed)) != 0 ||
			    (r = pamrelay_get_done(pr, b)) != 0)
				goto out;
			*pamrc = (int)rc;
			r = 0;
			goto out;
		}
		if (type != 'P' || (r = buf_get_u32(b, &n)) != 0 || n == 0 ||
		    n > PAM_MAX_NUM_MSG) {
			n = 0;
			r = ERR_FORMAT;
			goto out;
		}
		nprompts = 0;
		for (i = 0; i < n; i++) {
			if ((r = buf_get_u32(b, &style)) != 0 ||
			    (r = buf_get_cstring(b, &texts[i], NULL)) != 0)
				goto out;
			pr->styles[i] = (int)style;
			if (pamrelay_is_prompt((int)style))
				nprompts++;
			else
				pamrelay_add_info(pr, texts[i]);
		}
		pr->nmsg = n;
		if (nprompts > 0)
			break;
		/* Only text: keep it for the next prompts, answer nothing. */
		if ((reply = buf_new(PAMRELAY_PKT_MAX)) == NULL ||
		    (r = buf_put_u32(reply, n)) != 0)
			goto out;
		for (i = 0; i < n; i++)
			if ((r = buf_put_cstring(reply, "")) != 0)
				goto out;
		if ((r = pamrelay_send(pr->fd, reply)) != 0)
			goto out;
		buf_free(reply);
		reply = NULL;
		pr->nmsg = 0;
	}
	/*
	 * RFC 4256 s3.2: name, instruction, language, prompts. PAM's text
	 * goes in front of the first prompt, as sshd puts it: a client
	 * shows a prompt even when it shows no instruction (ssh -q).
	 */
	if ((r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_u32(q, nprompts)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!pamrelay_is_prompt(pr->styles[i]))
			continue;
		if ((r = pamrelay_put_prompt(q, pr->info, texts[i])) != 0 ||
		    (r = buf_put_bool(
		         q, pr->styles[i] == PAM_PROMPT_ECHO_ON)) != 0)
			goto out;
		pr->info[0] = '\0';
	}
	pr->info[0] = '\0';
	r = 1;
out:
	for (i = 0; i < n; i++)
		free(texts[i]);
	buf_free(reply);
	buf_free(b);
	return r;
}

/* The number of prompts of the pending batch. */
static __attribute__((unused)) uint32_t
pamrelay_nprompts(const struct pamrelay *pr)
{
	uint32_t i, k = 0;

	for (i = 0; i < pr->nmsg; i++)
		if (pamrelay_is_prompt(pr->styles[i]))
			k++;
	return k;
}

/* Send the prompts' answers (in prompt order) to the child. */
static __attribute__((unused)) int
pamrelay_answer(struct pamrelay *pr, char *const *answers, uint32_t n)
{
	struct buf *b;
	uint32_t i, k = 0;
	int r;

	if (n != pamrelay_nprompts(pr))
		return ERR_FORMAT;
	if ((b = buf_new_secret(PAMRELAY_PKT_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u32(b, pr->nmsg)) != 0)
		goto out;
	for (i = 0; i < pr->nmsg; i++)
		if ((r = buf_put_cstring(b,
		         pamrelay_is_prompt(pr->styles[i]) ? answers[k++]
		                                           : "")) != 0)
			goto out;
	r = pamrelay_send(pr->fd, b);
	pr->nmsg = 0;
out:
	buf_free(b);
	return r;
}

#endif
