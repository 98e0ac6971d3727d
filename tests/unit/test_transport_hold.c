/*
 * test_transport_hold.c: packets held back during a key exchange (one under
 * way, or the first, before the peer identified itself) are capped: past
 * HELD_MAX, counted with HELD_OVERHEAD per packet, transport_packet_send
 * refuses with ERR_PROTOCOL, the answer to a peer that never completes a
 * rekey while asking for replies (CVE-2025-26466), in preauth and session
 * alike. Also: a packet refused as too big leaves nothing of itself in the
 * output.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport_int.h"
#include "t.h"
#include "t_transport.h"

/* A KEX-range message (sent at once, not held) past the payload limit. */
static void
test_too_big_leaves_nothing(void)
{
	static uint8_t fill[TRANSPORT_MAX_PAYLOAD];
	struct transport *t;
	struct buf *m;
	size_t before;
	int sv[2], r;

	if ((t = t_transport_new(sv)) == NULL) {
		T_CHECK("transport_new", 0);
		return;
	}
	before = transport_output_pending(t);
	r = transport_packet_begin(t, 30, &m);
	if (r == 0)
		r = buf_put(m, fill, sizeof(fill));
	T_CHECK("built in the output", r == 0);
	T_CHECK("too big: refused", transport_packet_send(t) == ERR_TOO_BIG);
	T_CHECK("nothing of it left to send",
	    transport_output_pending(t) == before);
	transport_free(t);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	struct transport *t;
	struct buf *m;
	size_t n = 0, want = HELD_MAX / (1 + HELD_OVERHEAD);
	int sv[2], r = 0, congested = 0;

	log_init("test", LL_QUIET, 0, 0);
	t = t_transport_new(sv);
	T_CHECK("transport_new", t != NULL);
	if (t == NULL)
		return T_DONE();
	T_CHECK("before the first key exchange: replies are held",
	    transport_kex_busy(t));
	/* REQUEST_FAILURE, one byte each, as for a flood of requests. */
	while (n <= want) {
		if ((r = transport_packet_begin(
		         t, SSH2_MSG_REQUEST_FAILURE, &m)) != 0 ||
		    (r = transport_packet_send(t)) != 0)
			break;
		n++;
		if (transport_output_congested(t))
			congested = 1;
	}
	T_CHECK("held replies congest the output", congested);
	T_CHECK("the cap ends it with ERR_PROTOCOL", r == ERR_PROTOCOL);
	T_CHECK("exactly HELD_MAX's worth was held", n == want);
	transport_free(t);
	close(sv[0]);
	close(sv[1]);
	test_too_big_leaves_nothing();
	return T_DONE();
}
