/*
 * fuzz_transport_state.c: libFuzzer target for a hand-over state that
 * preauth (hostile) sent, on both sides that read it: transport_state_algs,
 * the monitor's reading for the audit trail (any input is refused or read
 * into NUL-terminated names that fit, and never consumed), and
 * transport_import, the session process's rebuilding of the transport
 * from it (keys, sequence numbers, unprocessed input and output, zlib
 * histories). An imported transport is then used as the session uses it:
 * the input it carried is opened as packets, a packet is sealed and sent
 * (with compression, if the state says so) and the state exported again.
 *
 * FUZZ_TRANSPORT_STATES=DIR in fuzz_transport writes real states (every
 * cipher, MAC and compression a seed negotiates) to seed this target.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
no_sign(void *ctx, const char *alg, const uint8_t *hash, size_t hashlen,
    struct buf *sig)
{
	(void)ctx;
	(void)alg;
	(void)hash;
	(void)hashlen;
	(void)sig;
	return ERR_INTERNAL;
}

/* The session's side: import, use, export again. */
static void
import(const uint8_t *data, size_t size)
{
	static const struct transport_hostkey hk = {
	    "ssh-ed25519", (const uint8_t *)"\0\0\0\0", 4};
	struct transport_params tp;
	struct transport *t = NULL;
	struct buf *in, *payload, *out;
	uint8_t type;
	int sp[2], i, r;

	if ((in = buf_from_secret(data, size)) == NULL)
		return;
	memset(&tp, 0, sizeof(tp));
	tp.version = "SSH-2.0-OpenSSH_9.6";
	tp.kex_algs = "curve25519-sha256";
	tp.hostkey_algs = "ssh-ed25519";
	tp.ciphers = "aes128-ctr";
	tp.macs = "hmac-sha2-256";
	tp.hostkeys = &hk;
	tp.nhostkeys = 1;
	tp.sign = no_sign;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0)
		abort();
	r = transport_import(sp[0], in, &tp, &t);
	if (getenv("FUZZ_TRANSPORT_STATE_VERBOSE") != NULL)
		fprintf(stderr, "import: %s\n", err_str(r));
	if (r != 0) {
		if (t != NULL)
			abort();
		goto out;
	}
	for (i = 0; i < 4; i++)
		if (transport_next_packet(t, &type, &payload) != 0)
			break;
	if (transport_packet_begin(t, SSH2_MSG_CHANNEL_DATA, &payload) == 0) {
		if (buf_put_u32(payload, 0) == 0 &&
		    buf_put_string(payload, data, size < 512 ? size : 512) == 0)
			(void)transport_packet_send(t);
		else
			transport_packet_cancel(t);
	}
	if ((out = buf_new_secret(1 << 22)) != NULL) {
		(void)transport_export(t, out);
		buf_free(out);
	}
out:
	transport_free(t);
	buf_free(in);
	close(sp[0]);
	close(sp[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct transport_algs a;
	struct buf *b;

	if (!once) {
		once = 1;
		log_set_handler(fuzz_quiet, NULL);
	}
	if ((b = buf_from(data, size)) == NULL)
		return 0;
	if (transport_state_algs(b, &a) == 0 &&
	    (strlen(a.kex) >= sizeof(a.kex) ||
	        strlen(a.hostkey) >= sizeof(a.hostkey) ||
	        strlen(a.cipher_out) >= sizeof(a.cipher_out) ||
	        strlen(a.cipher_in) >= sizeof(a.cipher_in)))
		abort();
	/* The state is only looked at, never consumed. */
	if (buf_len(b) != size)
		abort();
	buf_free(b);
	import(data, size);
	return 0;
}
