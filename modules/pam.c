/*
 * pam.so: keyboard-interactive:pam under UsePAM yes. The PAM stack
 * (PAMServiceName) runs in a child of the monitor (pam_relay.h); each
 * batch of its prompts goes to the client as one USERAUTH_INFO_REQUEST,
 * echo flags kept, PAM's informational and error text in front of the
 * first prompt (as sshd), and the client's answers go back to PAM. Text
 * PAM says after its last prompt is shown in a banner: after a success in
 * the one that ends authentication, as sshd's loginmsg; after a failure
 * with the failure's reply (sshd sends it in an INFO_REQUEST without
 * prompts and fails the attempt only when the client answers: a client
 * that never answers would escape MaxAuthTries and the log).
 */
#include <stdlib.h>
#include <string.h>

#include "modules/pam_relay.h"

#define SSH2_MSG_USERAUTH_INFO_REQUEST 60

struct kbdint_state {
	struct pamrelay relay;
	int running;
};

static int
kbdint_start(const struct pm_conn *conn, void **statep)
{
	struct kbdint_state *st;

	(void)conn;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ERR_ALLOC;
	st->relay.fd = -1;
	*statep = st;
	return 0;
}

static void
kbdint_stop(struct kbdint_state *st)
{
	if (st->running)
		pamrelay_stop(&st->relay);
	st->running = 0;
}

/* PM_CONTINUE with q, an INFO_REQUEST's payload; 0 or ERR_ALLOC. */
static int
kbdint_ask(struct pm_result *res, const struct buf *q)
{
	if ((res->msg = malloc(buf_len(q))) == NULL)
		return ERR_ALLOC;
	memcpy(res->msg, buf_ptr(q), buf_len(q));
	res->msg_len = buf_len(q);
	res->msg_type = SSH2_MSG_USERAUTH_INFO_REQUEST;
	res->verdict = PM_CONTINUE;
	return 0;
}

/* Carry the conversation on to its next question or its verdict. */
static int
kbdint_step(
    struct kbdint_state *st, const struct pm_conn *conn, struct pm_result *res)
{
	struct buf *q;
	uint32_t changed;
	int r, pamrc = PAM_AUTH_ERR, texted = 0, in_account;

	res->verdict = PM_FAILURE;
	if ((q = buf_new(PAMRELAY_PKT_MAX)) == NULL) {
		kbdint_stop(st);
		return 0;
	}
	r = pamrelay_next(&st->relay, q, &pamrc);
	if (r == 1) {
		if (kbdint_ask(res, q) != 0)
			kbdint_stop(st);
		buf_free(q);
		return 0;
	}
	changed = st->relay.changed;
	in_account = st->relay.in_account;
	if (r == 0 && pamrc == PAM_SUCCESS && module_secret_usable(conn))
		pamrelay_keep(&st->relay, conn);
	else if (r == 0 && st->relay.info[0] != '\0') {
		/* The failure's text, shown with it, and without sshd's
		 * "PAM: ..." line, as sshd words a failure it explained. */
		res->banner = strdup(st->relay.info);
		texted = 1;
	}
	buf_free(q);
	kbdint_stop(st);
	if (r == 0 && changed == PAMRELAY_RENAMED)
		error("PAM: authentication changed the user name: refused");
	else if (r == 0 && changed != 0) {
		if (changed == 1)
			logit("PAM: expired password changed for %.127s",
			    conn->user);
		else
			logit("PAM: password change for %.127s failed: %s",
			    conn->user, pam_strerror(NULL, pamrc));
	}
	/* sshd's words for a failed PAM conversation (fail2ban counts it). */
	if (r == 0 && pamrc != PAM_SUCCESS && !texted) {
		error("PAM: %s for %s%.100s from %.100s",
		    pam_strerror(NULL, pamrc),
		    conn->user_valid ? "" : "illegal user ", conn->user,
		    conn->client_addr);
	}
	if (r == 0 && pamrc == PAM_SUCCESS && module_secret_usable(conn))
		res->verdict = PM_SUCCESS;
	res->maxtries = r == 0 && pamrc == PAM_MAXTRIES;
	/*
	 * The child reports every refusal of the account stack as
	 * PAM_ACCT_EXPIRED; one that died or stalled in it (a directory
	 * server slower than PAMRELAY_WAIT_MS) is no better: sshd would
	 * still be waiting, until LoginGraceTime.
	 */
	res->account_refused =
	    (r == 0 && pamrc == PAM_ACCT_EXPIRED) || (r < 0 && in_account);
	return 0;
}

static int
kbdint_request(void *state, const struct pm_conn *conn, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct kbdint_state *st = state;
	const char *use = conn->setting(conn, "usepam", 0);

	(void)data;
	(void)len;
	res->verdict = PM_FAILURE;
	kbdint_stop(st);
	if (use == NULL || strcmp(use, "yes") != 0) {
		debug("keyboard-interactive:pam needs UsePAM yes");
		return 0;
	}
	if (pamrelay_start(&st->relay, conn) != 0)
		return 0;
	st->running = 1;
	return kbdint_step(st, conn, res);
}

static int
kbdint_response(void *state, const struct pm_conn *conn, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct kbdint_state *st = state;
	char *answers[PAM_MAX_NUM_MSG];
	struct buf *b;
	uint32_t n = 0, i;
	int r = 0;

	memset(answers, 0, sizeof(answers));
	res->verdict = PM_FAILURE;
	if (!st->running)
		return 0;
	if ((b = buf_from_secret(data, len)) == NULL) {
		kbdint_stop(st);
		return 0;
	}
	if ((r = buf_get_u32(b, &n)) != 0 || n > PAM_MAX_NUM_MSG)
		goto bad;
	for (i = 0; i < n; i++)
		if ((r = buf_get_cstring(b, &answers[i], NULL)) != 0)
			goto bad;
	if ((r = buf_end(b)) != 0)
		goto bad;
	if (n != pamrelay_nprompts(&st->relay)) {
		logit("keyboard-interactive:pam: %u answers to %u prompts", n,
		    pamrelay_nprompts(&st->relay));
		kbdint_stop(st);
		goto done;
	}
	/*
	 * A blank answer goes to PAM as any other, as sshd sends it: PAM
	 * decides (PermitEmptyPasswords no is PAM_DISALLOW_NULL_AUTHTOK),
	 * logs and counts the failure, or asks again (a new password).
	 */
	/* Refused, invalid, or root without PermitRootLogin yes: PAM gets
	 * answers that cannot match, on the same path. */
	if (!module_secret_usable(conn))
		for (i = 0; i < n; i++) {
			char *fake = module_fake_secret(answers[i]);

			freezero(answers[i], strlen(answers[i]));
			if ((answers[i] = fake) == NULL) {
				kbdint_stop(st);
				goto done;
			}
		}
	if (pamrelay_answer(&st->relay, answers, n) != 0) {
		kbdint_stop(st);
		goto done;
	}
	r = kbdint_step(st, conn, res);
	goto done;
bad:
	kbdint_stop(st);
	r = ERR_FORMAT;
done:
	for (i = 0; i < n && i < PAM_MAX_NUM_MSG; i++)
		if (answers[i] != NULL)
			freezero(answers[i], strlen(answers[i]));
	buf_free(b);
	return r;
}

static void
kbdint_finish(void *state)
{
	struct kbdint_state *st = state;

	if (st == NULL)
		return;
	kbdint_stop(st);
	free(st);
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "keyboard-interactive",
    .submethod = "pam",
    .start = kbdint_start,
    .request = kbdint_request,
    .response = kbdint_response,
    .finish = kbdint_finish,
};
