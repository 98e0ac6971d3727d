/*
 * fixed.so: a test-only method, keyboard-interactive:fixed, that asks one
 * question and accepts one fixed answer. It exists to show that a method
 * can be added without touching the core: it uses only lib/ and
 * modules/postern_module.h. Never install it.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "modules/postern_module.h"

#define FIXED_ANSWER "postern-fixed-answer"
/* abi1.c builds this module as one made for an older ABI. */
#ifndef FIXED_ABI
#define FIXED_ABI POSTERN_MODULE_ABI
#endif
#define SSH2_MSG_USERAUTH_INFO_REQUEST 60

struct fixed_state {
	int asked;
};

static int
fixed_start(const struct pm_conn *conn, void **state)
{
	*state = calloc(1, sizeof(struct fixed_state));
	return *state == NULL ? ERR_ALLOC : 0;
}

/* USERAUTH_REQUEST: string language, string submethods. Ask. */
static int
fixed_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct fixed_state *st = state;
	struct buf *m, *q;
	int r;

	res->verdict = PM_FAILURE;
	if ((m = buf_from(data, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_skip_string(m)) != 0 || (r = buf_skip_string(m)) != 0 ||
	    (r = buf_end(m)) != 0) {
		buf_free(m);
		return ERR_PROTOCOL;
	}
	buf_free(m);
	if ((q = buf_new(4096)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(q, "postern test")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 ||
	    (r = buf_put_cstring(q, "")) != 0 || (r = buf_put_u32(q, 1)) != 0 ||
	    (r = buf_put_cstring(q, "Fixed answer: ")) != 0 ||
	    (r = buf_put_bool(q, 0)) != 0) {
		buf_free(q);
		return r;
	}
	if ((res->msg = malloc(buf_len(q))) == NULL) {
		buf_free(q);
		return ERR_ALLOC;
	}
	memcpy(res->msg, buf_ptr(q), buf_len(q));
	res->msg_len = buf_len(q);
	res->msg_type = SSH2_MSG_USERAUTH_INFO_REQUEST;
	res->verdict = PM_CONTINUE;
	st->asked = 1;
	buf_free(q);
	return 0;
}

/* INFO_RESPONSE: u32 n, n x string. Exactly one, equal to the answer. */
static int
fixed_response(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	struct fixed_state *st = state;
	const uint8_t *ans;
	size_t alen;
	uint32_t n;
	struct buf *m;
	int r;

	res->verdict = PM_FAILURE;
	if (!st->asked)
		return ERR_PROTOCOL;
	st->asked = 0;
	/* The monitor names the exchange being answered (conn->method). */
	if (c->method == NULL || strcmp(c->method, "keyboard-interactive") != 0)
		return ERR_PROTOCOL;
	if ((m = buf_from(data, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_u32(m, &n)) != 0 || n != 1 ||
	    (r = buf_get_string_direct(m, &ans, &alen)) != 0 ||
	    (r = buf_end(m)) != 0) {
		buf_free(m);
		return ERR_PROTOCOL;
	}
	if (c->user_valid && alen == strlen(FIXED_ANSWER) &&
	    ct_eq(ans, FIXED_ANSWER, alen))
		res->verdict = PM_SUCCESS;
	buf_free(m);
	return 0;
}

static void
fixed_finish(void *state)
{
	free(state);
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = FIXED_ABI,
    .method = "keyboard-interactive",
    .submethod = "fixed",
    .start = fixed_start,
    .request = fixed_request,
    .response = fixed_response,
    .finish = fixed_finish,
};
