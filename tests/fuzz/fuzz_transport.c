/*
 * fuzz_transport.c: libFuzzer target for the transport layer as preauth
 * runs it from a client's first byte (lib/transport.c, lib/kex*.c): the
 * identification line, the binary packet protocol before keys, KEXINIT
 * parsing and negotiation (strict KEX, ext-info, first_kex_packet_follows),
 * KEX_ECDH_INIT of every method (curve25519, the NIST curves, the MODP
 * groups, sntrup761 and ML-KEM hybrids), the group exchange's
 * KEX_DH_GEX_REQUEST and _INIT, NEWKEYS, DISCONNECT and the messages out
 * of place; or, past a pretend first exchange, a rekey started by either
 * side with the layers above sending while it runs; at the end, a
 * hand-over state of a quiet transport must read back and import.
 *
 * Input: byte 0 chooses the settings (bits below), byte 1 how the bytes
 * are written to the socket (chunk size), the rest is either the raw
 * byte stream a client writes (raw bit) or records of u16 length | payload
 * that the harness frames as unencrypted packets after an identification
 * line, so that the fuzzer need not find padding rules. Packets the
 * transport returns to the layer above are answered with a packet of the
 * connection protocol (held back while an exchange runs).
 *
 * FUZZ_TRANSPORT_STATES=DIR writes each hand-over state checked into DIR
 * (seeds for fuzz_transport_state); FUZZ_TRANSPORT_VERBOSE=1 shows the log.
 *
 * Host key signatures come from a stand-in (the monitor's job; its side
 * has fuzz_monitor); the group exchange's group from kexgex_fallback.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cipher.h"
#include "crypto.h"
#include "err.h"
#include "kex.h"
#include "kexgex.h"
#include "log.h"
#include "mac.h"
#include "transport.h"
#include "transport_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define P_KEX_MASK 0x0f /* 0: every method, else one of them */
#define P_ZLIB 0x10     /* offer compression */
#define P_REKEY 0x20    /* start past a first exchange, keys still none */
#define P_RAW 0x40      /* the input is the byte stream itself */
#define P_LIMIT 0x80    /* kex_max 2 and a RekeyLimit of a few bytes */

static int fz_verbose;
static const char *fz_states;
static char fz_kex_one[16][64];
static size_t fz_nkex;

static void
fz_log(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (fz_verbose)
		fprintf(stderr, "%s\n", msg);
}

/* The monitor's signature: its shape only, nothing checks it here. */
static int
fz_sign(void *ctx, const char *alg, const uint8_t *hash, size_t hashlen,
    struct buf *sig)
{
	uint8_t s[64];
	struct buf *b;
	int r;

	(void)ctx;
	memset(s, 0x5a, sizeof(s));
	memcpy(s, hash, hashlen < sizeof(s) ? hashlen : sizeof(s));
	if ((b = buf_new(256)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(b, alg)) == 0 &&
	    (r = buf_put_string(b, s, sizeof(s))) == 0)
		r = buf_put(sig, buf_ptr(b), buf_len(b));
	buf_free(b);
	return r;
}

static int
fz_gex(void *ctx, uint32_t min, uint32_t n, uint32_t max, struct buf *p,
    struct buf *g)
{
	(void)ctx;
	return kexgex_fallback(min, n, max, p, g);
}

static void
fz_init(void)
{
	static int done;
	const char *s, *e;
	size_t n;

	if (done)
		return;
	done = 1;
	fz_verbose = getenv("FUZZ_TRANSPORT_VERBOSE") != NULL;
	fz_states = getenv("FUZZ_TRANSPORT_STATES");
	crypto_init();
	log_set_handler(fz_log, NULL);
	log_set_level(fz_verbose ? LL_DEBUG3 : LL_QUIET);
	for (s = kex_supported_list(); *s != '\0' && fz_nkex < 16; s = e) {
		if ((e = strchr(s, ',')) == NULL)
			e = s + strlen(s);
		n = (size_t)(e - s);
		if (n < sizeof(fz_kex_one[0])) {
			memcpy(fz_kex_one[fz_nkex], s, n);
			fz_kex_one[fz_nkex++][n] = '\0';
		}
		if (*e == ',')
			e++;
	}
}

/* Everything the server wrote is read by the client, and dropped. */
static void
fz_drain(struct transport *t, int peer)
{
	char tmp[65536];

	for (;;) {
		if (transport_output_pending(t) > 0 && transport_write(t) != 0)
			return;
		if (recv(peer, tmp, sizeof(tmp), MSG_DONTWAIT) <= 0 &&
		    transport_output_pending(t) == 0)
			return;
	}
}

/* An unencrypted packet (RFC 4253 s6) around payload, block size 8. */
static size_t
fz_frame(uint8_t *out, const uint8_t *payload, size_t len, uint8_t extra)
{
	size_t pad = 8 - (5 + len) % 8;

	if (pad < 4)
		pad += 8;
	pad += 8 * (extra % 4);
	out[0] = (uint8_t)((1 + len + pad) >> 24);
	out[1] = (uint8_t)((1 + len + pad) >> 16);
	out[2] = (uint8_t)((1 + len + pad) >> 8);
	out[3] = (uint8_t)(1 + len + pad);
	out[4] = (uint8_t)pad;
	memcpy(out + 5, payload, len);
	memset(out + 5 + len, 0, pad);
	return 5 + len + pad;
}

/* The layers above: whatever comes up is answered while kex may hold. */
static int
fz_pump(struct transport *t, int peer)
{
	struct buf *payload, *reply;
	uint8_t type;
	int r;

	for (;;) {
		if ((r = transport_read(t)) != 0 && r != ERR_EOF)
			return r;
		r = transport_next_packet(t, &type, &payload);
		if (r == ERR_AGAIN)
			break;
		if (r != 0)
			return r;
		if (fz_verbose)
			fprintf(stderr, "up: message %u, %zu bytes\n", type,
			    buf_len(payload));
		/* Nothing goes up before the first exchange is done, and the
		 * transport's and key exchange's own numbers never do. */
		if (t->kex_count == 0 || type <= 4 ||
		    (type >= 20 && type <= 49))
			abort();
		if (type & 1) {
			if ((r = transport_send_unimplemented(t)) != 0)
				return r;
		} else {
			if ((r = transport_packet_begin(
			         t, SSH2_MSG_REQUEST_FAILURE, &reply)) != 0)
				return r;
			if ((r = buf_put(reply, buf_ptr(payload),
			         buf_len(payload) < 64 ? buf_len(payload)
			                               : 64)) != 0) {
				transport_packet_cancel(t);
				return r;
			}
			if ((r = transport_packet_send(t)) != 0)
				return r;
		}
		fz_drain(t, peer);
	}
	fz_drain(t, peer);
	return transport_rekey_timer(t);
}

/* FUZZ_TRANSPORT_STATES=DIR: seeds for fuzz_transport_state. */
static void
fz_write_state(const struct buf *state)
{
	static unsigned n;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state-%u-%d", fz_states, n++,
	    (int)getpid());
	if ((f = fopen(path, "we")) == NULL)
		return;
	fwrite(buf_ptr(state), 1, buf_len(state), f);
	fclose(f);
}

/* A quiet transport's hand-over state reads back and imports. */
static void
fz_handover(struct transport *t)
{
	struct transport_params tp = t->params;
	struct transport_algs a;
	struct transport *t2 = NULL;
	struct buf *state, *copy;
	int sp[2];

	/* Not the pretend first keys (none) of a P_REKEY start. */
	if (t->kex != KEX_NONE || !t->version_done || t->kex_count == 0 ||
	    t->building || t->held_head != NULL || t->send.cipher == NULL ||
	    t->recv.cipher == NULL)
		return;
	if ((state = buf_new_secret(1 << 20)) == NULL)
		abort();
	if (transport_export(t, state) == 0) {
		if (transport_state_algs(state, &a) != 0)
			abort();
		if (fz_states != NULL)
			fz_write_state(state);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) !=
		    0)
			abort();
		if ((copy = buf_from(buf_ptr(state), buf_len(state))) == NULL)
			abort();
		if (transport_import(sp[0], copy, &tp, &t2) != 0)
			abort();
		transport_free(t2);
		buf_free(copy);
		close(sp[0]);
		close(sp[1]);
	}
	buf_free(state);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char version[] = "SSH-2.0-OpenSSH_9.6p1 fuzz\r\n";
	static struct transport_hostkey hk[4];
	static const uint8_t blob[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20"
	                              "0123456789abcdef0123456789abcdef";
	struct transport_params tp;
	struct transport *t;
	uint8_t profile, chunk, pkt[65536 + 64];
	size_t len, n, i;
	int sp[2], r = 0;

	fz_init();
	if (size < 2)
		return 0;
	profile = data[0];
	chunk = data[1];
	data += 2;
	size -= 2;

	for (i = 0; i < 4; i++) {
		static const char *algs[] = {"ssh-ed25519", "rsa-sha2-512",
		    "rsa-sha2-256", "ecdsa-sha2-nistp256"};
		hk[i].alg = algs[i];
		hk[i].blob = blob;
		hk[i].bloblen = sizeof(blob) - 1;
	}
	memset(&tp, 0, sizeof(tp));
	tp.version = "SSH-2.0-OpenSSH_9.6";
	i = profile & P_KEX_MASK;
	tp.kex_algs =
	    i == 0 || i > fz_nkex ? kex_supported_list() : fz_kex_one[i - 1];
	tp.hostkey_algs =
	    "ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256";
	tp.ciphers = cipher_supported_list();
	tp.macs = mac_supported_list();
	tp.compression = profile & P_ZLIB ? "none,zlib@openssh.com,zlib" : NULL;
	tp.hostkeys = hk;
	tp.nhostkeys = 4;
	tp.sign = fz_sign;
	tp.gex_group = fz_gex;
	tp.server_sig_algs = "ssh-ed25519,rsa-sha2-512";
	tp.peer_addr = "192.0.2.9";
	tp.peer_port = 50022;
	if (profile & P_LIMIT) {
		tp.kex_max = 2;
		tp.rekey_limit = 64;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0)
		abort();
	if ((t = transport_new(sp[0], &tp)) == NULL)
		abort();
	if (profile & P_REKEY) {
		/* As after a first exchange whose keys were "none". */
		kex_state_free(t);
		t->kex = KEX_NONE;
		t->kex_count = 1;
		t->strict = (chunk & 0x80) != 0;
		t->version_done = 1;
		if ((t->peer_version = strdup(version)) == NULL)
			abort();
		t->peer_version[strlen(t->peer_version) - 2] = '\0';
		memset(t->session_id, 0x11, 32);
		t->session_id_len = 32;
		transport_set_authenticated(t);
	}
	fz_drain(t, sp[1]);
	chunk = (uint8_t)((chunk & 0x7f) + 1);

	if (profile & P_RAW) {
		while (r == 0 && size > 0) {
			n = size < chunk ? size : chunk;
			if (send(sp[1], data, n, MSG_DONTWAIT) != (ssize_t)n)
				break;
			data += n;
			size -= n;
			r = fz_pump(t, sp[1]);
		}
	} else {
		if (!(profile & P_REKEY) &&
		    send(sp[1], version, sizeof(version) - 1, MSG_DONTWAIT) !=
		        (ssize_t)(sizeof(version) - 1))
			abort();
		while (r == 0 && size >= 2) {
			len = (size_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
			if (len > size)
				len = size;
			n = fz_frame(pkt, data, len, chunk);
			data += len;
			size -= len;
			if (send(sp[1], pkt, n, MSG_DONTWAIT) != (ssize_t)n)
				break;
			r = fz_pump(t, sp[1]);
		}
	}
	if (fz_verbose)
		fprintf(stderr, "end: %s, kex %d, exchanges %d\n", err_str(r),
		    t->kex, t->kex_count);
	if (r == 0)
		fz_handover(t);
	transport_free(t);
	close(sp[0]);
	close(sp[1]);
	return 0;
}
