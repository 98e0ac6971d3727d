/*
 * test_session_wipe.c: after login, a userauth message (a password
 * request, keyboard-interactive answers) reaching the session is answered
 * with UNIMPLEMENTED, as sshd does, and wiped first: it may carry a
 * secret the client sent by mistake.
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "session/channel.h"
#include "transport.h"
#include "t.h"
#include "t_transport.h"

#define SECRET "hunter2-correct-horse"

int
main(void)
{
	struct conn conn;
	struct buf *m;
	int sv[2], r;
	uint8_t type;

	log_init("test", LL_QUIET, 0, 0);
	memset(&conn, 0, sizeof(conn));
	conn.t = t_transport_new(sv);
	T_CHECK("transport_new", conn.t != NULL);
	if (conn.t == NULL)
		return T_DONE();
	for (type = SSH2_MSG_USERAUTH_REQUEST; type <= 79; type += 11) {
		m = buf_new(256);
		T_CHECK("message built",
		    m != NULL && buf_put_cstring(m, "alice") == 0 &&
		        buf_put_cstring(m, "ssh-connection") == 0 &&
		        buf_put_cstring(m, "password") == 0 &&
		        buf_put_bool(m, 0) == 0 &&
		        buf_put_cstring(m, SECRET) == 0);
		if (m == NULL)
			break;
		r = conn_dispatch(&conn, type, m);
		T_CHECK(
		    "a userauth message after login: UNIMPLEMENTED", r == 0);
		T_CHECK("its bytes are wiped",
		    memmem(m->data, m->wpos, SECRET, strlen(SECRET)) == NULL);
		buf_free(m);
	}
	transport_free(conn.t);
	close(sv[0]);
	close(sv[1]);
	return T_DONE();
}
