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

/*
 * out_pause: out-of-place packets, each answered (UNIMPLEMENTED), stop
 * being handled within one call once the answers reach the pause; the
 * rest wait in the input. Before, one call handled all that was read.
 */
static void
test_out_pause(void)
{
	static const char version[] = "SSH-2.0-x\r\n";
	/* SERVICE_REQUEST (5) before any KEXINIT: 16 bytes, unencrypted. */
	static const uint8_t junk[16] = {0, 0, 0, 12, 10, 5};
	static uint8_t all[1000 * sizeof(junk)];
	struct transport *t;
	struct buf *m;
	uint8_t type;
	size_t pause = 4096, i;
	int sv[2], r;

	if ((t = t_transport_new_pause(sv, pause)) == NULL) {
		T_CHECK("out_pause: transport_new", 0);
		return;
	}
	r = write(sv[1], version, sizeof(version) - 1) ==
	        (ssize_t)(sizeof(version) - 1)
	    ? 0
	    : -1;
	/* One write: a socketpair counts each small one's overhead. */
	for (i = 0; i < 1000; i++)
		memcpy(all + i * sizeof(junk), junk, sizeof(junk));
	if (r == 0 && write(sv[1], all, sizeof(all)) != (ssize_t)sizeof(all))
		r = -1;
	T_CHECK("out_pause: set up", r == 0);
	if (r == 0) {
		r = transport_read(t);
		T_CHECK("out_pause: all 16000 bytes read",
		    r == 0 && buf_len(t->in) >= 1000 * sizeof(junk));
		r = transport_next_packet(t, &type, &m);
		T_CHECK(
		    "out_pause: the call stops at the pause", r == ERR_AGAIN);
		T_CHECK("out_pause: answers up to the pause, one past it",
		    transport_output_pending(t) >= pause &&
		        transport_output_pending(t) < pause + 64);
		T_CHECK("out_pause: the other packets wait",
		    buf_len(t->in) >= 500 * sizeof(junk));
	}
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
	test_out_pause();
	return T_DONE();
}
