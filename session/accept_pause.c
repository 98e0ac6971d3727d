/*
 * accept_pause.c: when accept(2) runs out of descriptors, the pending
 * connection stays queued and the listener stays readable; every listener
 * of the connection rests for a second instead (as OpenSSH's), so the
 * event loop neither spins nor floods the log.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"

#define ACCEPT_PAUSE_MS 1000

int
conn_accept_paused(const struct conn *conn)
{
	return conn->accept_pause_until > conn->now_ms;
}

void
conn_accept_failed(struct conn *conn, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ECONNABORTED)
		return;
	if (err != EMFILE && err != ENFILE) {
		error("accept: %.100s", strerror(err));
		return;
	}
	error("accept: %.100s; not accepting connections for %d ms",
	    strerror(err), ACCEPT_PAUSE_MS);
	conn->accept_pause_until = conn->now_ms + ACCEPT_PAUSE_MS;
}
