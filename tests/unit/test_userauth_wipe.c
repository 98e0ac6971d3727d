/*
 * test_userauth_wipe.c: a userauth packet that may carry a secret (a
 * password request, keyboard-interactive answers) is wiped in preauth
 * even when it is not acted on: a request before ssh-userauth was
 * accepted, answers nobody asked for. Both get UNIMPLEMENTED.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "preauth/preauth.h"
#include "transport.h"
#include "t.h"
#include "t_transport.h"

#define SECRET "hunter2-correct-horse"

/* 1 if the secret's bytes are nowhere in b, read or not. */
static int
secret_gone(const struct buf *b)
{
	return memmem(b->data, b->wpos, SECRET, strlen(SECRET)) == NULL;
}

static struct buf *
password_request(void)
{
	struct buf *b = buf_new(1024);

	if (b == NULL || buf_put_cstring(b, "alice") != 0 ||
	    buf_put_cstring(b, "ssh-connection") != 0 ||
	    buf_put_cstring(b, "password") != 0 || buf_put_bool(b, 0) != 0 ||
	    buf_put_cstring(b, SECRET) != 0)
		return NULL;
	return b;
}

static struct buf *
info_response(void)
{
	struct buf *b = buf_new(1024);

	if (b == NULL || buf_put_u32(b, 1) != 0 ||
	    buf_put_cstring(b, SECRET) != 0)
		return NULL;
	return b;
}

int
main(void)
{
	struct transport *t;
	struct userauth ua;
	struct buf *m;
	int sv[2], r;

	log_init("test", LL_QUIET, 0, 0);
	t = t_transport_new(sv);
	T_CHECK("transport_new", t != NULL);
	if (t == NULL)
		return T_DONE();

	memset(&ua, 0, sizeof(ua));
	m = password_request();
	T_CHECK("password request built", m != NULL);
	if (m != NULL) {
		r = userauth_dispatch(&ua, t, -1, SSH2_MSG_USERAUTH_REQUEST, m);
		T_CHECK("a request before ssh-userauth: UNIMPLEMENTED", r == 0);
		T_CHECK("its password is wiped", secret_gone(m));
		buf_free(m);
	}

	m = info_response();
	T_CHECK("info response built", m != NULL);
	if (m != NULL) {
		r = userauth_dispatch(
		    &ua, t, -1, SSH2_MSG_USERAUTH_INFO_RESPONSE, m);
		T_CHECK("answers nobody asked for: UNIMPLEMENTED", r == 0);
		T_CHECK("the answers are wiped", secret_gone(m));
		buf_free(m);
	}

	transport_free(t);
	close(sv[0]);
	close(sv[1]);
	return T_DONE();
}
