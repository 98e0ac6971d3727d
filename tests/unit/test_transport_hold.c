/*
 * test_transport_hold.c: packets held back during a key exchange (one under
 * way, or the first, before the peer identified itself) are capped: past
 * HELD_MAX, counted with HELD_OVERHEAD per packet, transport_packet_send
 * refuses with ERR_PROTOCOL, the answer to a peer that never completes a
 * rekey while asking for replies (CVE-2025-26466), in preauth and session
 * alike.
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
	return T_DONE();
}
