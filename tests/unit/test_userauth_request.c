/*
 * test_userauth_request.c: a userauth request preauth cannot copy into
 * its IPC request (the user name alone over IPC_MAX_MESSAGE) ends with
 * that error, and nothing reaches the monitor: a half-built request was
 * sent when copying the user, service or method name failed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "preauth/preauth.h"
#include "transport.h"
#include "t.h"
#include "t_transport.h"

/* USERAUTH_REQUEST fields with a user name of len bytes. */
static struct buf *
big_user_request(size_t len)
{
	struct buf *b = buf_new(len + 1024);
	uint8_t *p;

	if (b == NULL || buf_put_u32(b, (uint32_t)len) != 0 ||
	    buf_reserve(b, len, &p) != 0)
		return NULL;
	memset(p, 'a', len);
	if (buf_put_cstring(b, "ssh-connection") != 0 ||
	    buf_put_cstring(b, "none") != 0)
		return NULL;
	return b;
}

int
main(void)
{
	struct transport *t;
	struct userauth ua;
	struct buf *m;
	uint8_t byte;
	int sv[2], ipc[2], r;
	ssize_t n;

	log_init("test", LL_QUIET, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	t = t_transport_new(sv);
	T_CHECK("transport_new", t != NULL);
	T_CHECK(
	    "ipc socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, ipc) == 0);
	if (t == NULL)
		return T_DONE();
	/* The "monitor" never answers: a request sent would find EOF. */
	(void)shutdown(ipc[1], SHUT_WR);

	memset(&ua, 0, sizeof(ua));
	ua.service_ok = 1;
	m = big_user_request(IPC_MAX_MESSAGE + 16);
	T_CHECK("request built", m != NULL);
	if (m != NULL) {
		r = userauth_dispatch(
		    &ua, t, ipc[0], SSH2_MSG_USERAUTH_REQUEST, m);
		T_CHECK("the copy's error is returned", r == ERR_TOO_BIG);
		n = recv(ipc[1], &byte, 1, MSG_DONTWAIT);
		T_CHECK("nothing was sent to the monitor",
		    n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
		buf_free(m);
	}

	transport_free(t);
	close(sv[0]);
	close(sv[1]);
	close(ipc[0]);
	close(ipc[1]);
	return T_DONE();
}
