/*
 * transport.h: the SSH transport layer (RFC 4253) over a non-blocking
 * socket: version exchange, binary packet protocol, key exchange, rekeying.
 * Used by postern-preauth (from the first byte) and postern-session (after
 * the hand-over of keys and sequence numbers).
 */
#ifndef POSTERN_TRANSPORT_H
#define POSTERN_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

struct buf;
struct transport;

/* SSH message numbers (RFC 4250 s4.1). */
#define SSH2_MSG_DISCONNECT 1
#define SSH2_MSG_IGNORE 2
#define SSH2_MSG_UNIMPLEMENTED 3
#define SSH2_MSG_DEBUG 4
#define SSH2_MSG_SERVICE_REQUEST 5
#define SSH2_MSG_SERVICE_ACCEPT 6
#define SSH2_MSG_EXT_INFO 7
#define SSH2_MSG_KEXINIT 20
#define SSH2_MSG_NEWKEYS 21
#define SSH2_MSG_KEX_ECDH_INIT 30
#define SSH2_MSG_KEX_ECDH_REPLY 31
#define SSH2_MSG_USERAUTH_REQUEST 50
#define SSH2_MSG_USERAUTH_FAILURE 51
#define SSH2_MSG_USERAUTH_SUCCESS 52
#define SSH2_MSG_USERAUTH_BANNER 53
#define SSH2_MSG_USERAUTH_PK_OK 60
#define SSH2_MSG_USERAUTH_INFO_REQUEST 60
#define SSH2_MSG_USERAUTH_INFO_RESPONSE 61
#define SSH2_MSG_USERAUTH_GSSAPI_EXCHANGE_COMPLETE 63 /* RFC 4462 */
#define SSH2_MSG_GLOBAL_REQUEST 80
#define SSH2_MSG_REQUEST_SUCCESS 81
#define SSH2_MSG_REQUEST_FAILURE 82
#define SSH2_MSG_CHANNEL_OPEN 90
#define SSH2_MSG_CHANNEL_OPEN_CONFIRMATION 91
#define SSH2_MSG_CHANNEL_OPEN_FAILURE 92
#define SSH2_MSG_CHANNEL_WINDOW_ADJUST 93
#define SSH2_MSG_CHANNEL_DATA 94
#define SSH2_MSG_CHANNEL_EXTENDED_DATA 95
#define SSH2_MSG_CHANNEL_EOF 96
#define SSH2_MSG_CHANNEL_CLOSE 97
#define SSH2_MSG_CHANNEL_REQUEST 98
#define SSH2_MSG_CHANNEL_SUCCESS 99
#define SSH2_MSG_CHANNEL_FAILURE 100
#define SSH2_MSG_PING 192
#define SSH2_MSG_PONG 193

/* Disconnect reasons (RFC 4250 s4.2.2). */
#define SSH2_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT 1
#define SSH2_DISCONNECT_PROTOCOL_ERROR 2
#define SSH2_DISCONNECT_KEY_EXCHANGE_FAILED 3
#define SSH2_DISCONNECT_MAC_ERROR 5
#define SSH2_DISCONNECT_COMPRESSION_ERROR 6
#define SSH2_DISCONNECT_SERVICE_NOT_AVAILABLE 7
#define SSH2_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED 8
#define SSH2_DISCONNECT_CONNECTION_LOST 10
#define SSH2_DISCONNECT_BY_APPLICATION 11
#define SSH2_DISCONNECT_TOO_MANY_CONNECTIONS 12
#define SSH2_DISCONNECT_AUTH_CANCELLED_BY_USER 13
#define SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE 14
#define SSH2_DISCONNECT_ILLEGAL_USER_NAME 15

/* Channel open failure reasons (RFC 4254 s5.1). */
#define SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED 1
#define SSH2_OPEN_CONNECT_FAILED 2
#define SSH2_OPEN_UNKNOWN_CHANNEL_TYPE 3
#define SSH2_OPEN_RESOURCE_SHORTAGE 4

#define SSH2_EXTENDED_DATA_STDERR 1

/* Largest payload we accept or send (RFC 4253 s6.1 requires >= 32768). */
#define TRANSPORT_MAX_PAYLOAD (256 * 1024)

/*
 * Host-key signing is done by the monitor; the transport asks through this
 * callback: sign hash (the exchange hash H) with the host key whose public
 * blob is hostkey_blob, using signature algorithm alg; append the signature
 * blob to sig.
 */
typedef int (*transport_sign_fn)(void *ctx, const char *alg,
    const uint8_t *hash, size_t hashlen, struct buf *sig);

/*
 * DH group exchange: the monitor picks the group (ModuliFile); the
 * transport asks through this callback (with sign_ctx) for a group of
 * about n bits within [min, max] (the client's numbers, unclamped), p
 * and g as big-endian magnitudes.
 */
typedef int (*transport_gex_fn)(void *ctx, uint32_t min, uint32_t n,
    uint32_t max, struct buf *p, struct buf *g);

struct transport_hostkey {
	const char *alg;     /* host key algorithm name, e.g. "ssh-ed25519" */
	const uint8_t *blob; /* public key blob */
	size_t bloblen;
};

struct transport_params {
	const char
	    *version; /* our identification, e.g. "SSH-2.0-OpenSSH_9.2" */
	const char *kex_algs; /* comma lists, in preference order */
	const char *hostkey_algs;
	const char *ciphers;
	const char *macs;
	const char *compression; /* NULL: "none" */
	const struct transport_hostkey *hostkeys;
	size_t nhostkeys;
	transport_sign_fn sign;
	void *sign_ctx;
	transport_gex_fn gex_group;  /* NULL: no group exchange */
	const char *server_sig_algs; /* EXT_INFO server-sig-algs value */
	const char *peer_addr;       /* for log lines */
	int peer_port;
	const char *peer_user; /* for log lines: NULL before authentication */
	/* RekeyLimit: bytes either way under one set of keys (0: only the
	 * cipher's own limit), seconds from one exchange to the next we
	 * start (0: none). */
	uint64_t rekey_limit;
	uint32_t rekey_interval;
	/* Exchanges we may take part in, the first included (0: no limit):
	 * we start none beyond it (preauth: what the monitor will sign). */
	int kex_max;
	/* Output pending from which transport_next_packet stops handling
	 * transport-level packets (answered or not) and returns ERR_AGAIN,
	 * rather than at its caller's next call (0: no limit). */
	size_t out_pause;
};

/* transport_new: a server-side transport on a connected socket fd. */
struct transport *transport_new(int fd, const struct transport_params *params);
void transport_free(struct transport *t);
int transport_fd(const struct transport *t);

/*
 * Event loop interface. transport_read reads what is available (ERR_EOF on
 * close); transport_write writes what it can of the queued output (0 even
 * if some remains). Neither blocks: the fd is non-blocking.
 */
int transport_read(struct transport *t);
int transport_write(struct transport *t);
/* Bytes queued for sending; poll for POLLOUT while this is non-zero. */
size_t transport_output_pending(const struct transport *t);
/* 1 while the caller should stop producing data (output queue is full). */
int transport_output_congested(const struct transport *t);
/* transport_send_compressed: 1 while sent packets are compressed. */
int transport_send_compressed(const struct transport *t);
/*
 * transport_payload_stays: 1 when the payload of the packet that
 * transport_next_packet last gave stays where it is, unchanged, until the
 * next transport_read (it lies in the input buffer; an inflated one does
 * not). The caller may keep pointers into it until then.
 */
int transport_payload_stays(const struct transport *t);

/*
 * transport_next_packet: the next packet for the layer above, or ERR_AGAIN
 * when more input is needed. The transport consumes IGNORE, DEBUG,
 * UNIMPLEMENTED and key-exchange messages itself; DISCONNECT gives
 * ERR_DISCONNECTED. On success *type is the message number and *payload
 * reads the bytes after it; both are valid until the next call.
 * Any other error: the caller logs it and ends the connection.
 */
int transport_next_packet(
    struct transport *t, uint8_t *type, struct buf **payload);

/*
 * Sending: transport_packet_begin returns a buffer with the message number
 * already written; append the payload to it, then call
 * transport_packet_send to seal and queue it. During a key exchange,
 * packets other than transport messages are held back and sent after it.
 */
int transport_packet_begin(
    struct transport *t, uint8_t type, struct buf **payload);
int transport_packet_send(struct transport *t);
/* transport_packet_cancel: drop the packet begun and not yet sent. */
void transport_packet_cancel(struct transport *t);
/*
 * transport_read_packets: read up to want bytes from fd straight into data
 * packets of at most maxdata bytes each (payload: prefix, uint32 length,
 * data) and queue them; *nread is readv(2)'s result (<= 0: nothing queued).
 * ERR_AGAIN: not possible now (key exchange, compression); use
 * transport_packet_begin instead.
 */
#define TRANSPORT_BATCH_MAX 32
int transport_read_packets(struct transport *t, int fd, const uint8_t *prefix,
    size_t prefixlen, size_t maxdata, size_t want, ssize_t *nread);

/*
 * transport_send_unimplemented: answer the packet last returned by
 * transport_next_packet with SSH_MSG_UNIMPLEMENTED (RFC 4253 s11.4).
 */
int transport_send_unimplemented(struct transport *t);

/* Queue a DISCONNECT with reason and description, then flush best-effort. */
void transport_disconnect(struct transport *t, uint32_t reason, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* The session id (first exchange hash); NULL before the first KEX. */
const uint8_t *transport_session_id(const struct transport *t, size_t *lenp);
/* 1 after the first key exchange finished (NEWKEYS both ways). */
int transport_kex_done(const struct transport *t);
/* The client's identification string, as it came (log_emit() escapes it). */
const char *transport_peer_version(const struct transport *t);
/* The peer's address ("UNKNOWN" if not given) and port, for log lines. */
const char *transport_peer_addr(const struct transport *t);
int transport_peer_port(const struct transport *t);
/*
 * sshd's sshpkt_fatal() line (INFO) for an error that ends the connection:
 * "ssh_dispatch_run_fatal: Connection from [user U ]ADDR port P: WHAT",
 * the user after authentication (peer_user); in preauth the monitor puts
 * it in once known.
 */
void transport_log_fatal(const struct transport *t, const char *what);
/* 1 if the peer reset the connection (ECONNRESET): ERR_EOF says closed. */
int transport_peer_reset(const struct transport *t);
/*
 * 1 if a write failed with EPIPE (the peer reset the connection, seen
 * by a write) before any read saw the connection's end: sshd's
 * sshpkt_fatal() then says "Broken pipe", not "Connection closed".
 */
int transport_write_broken(const struct transport *t);
/* Why the peer's identification was refused, if it was for one of these
 * reasons: another protocol version, or a scanner sshd turns away. */
#define TRANSPORT_VERSION_OTHER 1
#define TRANSPORT_VERSION_PROBE 2
int transport_version_refused(const struct transport *t);
/*
 * Bytes of packets received and sent on this connection, preauth's
 * included: length field, padding and payload as on the wire (compressed),
 * not the MAC or AEAD tag nor the identification lines, as sshd counts
 * them for its "Transferred:" line.
 */
void transport_bytes(const struct transport *t, uint64_t *in, uint64_t *out);
/*
 * Negotiated algorithms, for logs and audit: "cipher", "mac", "kex",
 * "hostkey", "compression" (the server to client direction).
 */
const char *transport_negotiated(const struct transport *t, const char *what);

/*
 * RekeyLimit's interval, run by the caller's event loop (never from a
 * signal handler): transport_rekey_poll_ms is the poll() timeout until it
 * is due (-1: nothing to wait for); transport_rekey_timer starts a key
 * exchange once it has passed.
 */
int transport_rekey_poll_ms(const struct transport *t);
/* 1 while a key exchange runs or packets wait for its end. */
int transport_kex_busy(const struct transport *t);
/* The monotonic clock in milliseconds, for event-loop timers. */
int64_t transport_monotime_ms(void);
/* poll()'s timeout until the monotonic time due (0: none, -1 returned). */
int transport_poll_ms_until(int64_t due);
int transport_rekey_timer(struct transport *t);
/*
 * The RekeyLimit settings in IPC messages (docs/ipc.md): u64 bytes,
 * u32 seconds; transport_rekey_get stores them into p.
 */
int transport_rekey_put(struct buf *b, uint64_t bytes, uint32_t secs);
int transport_rekey_get(struct buf *b, struct transport_params *p);

/*
 * transport_set_authenticated: call right after queueing
 * USERAUTH_SUCCESS; delayed compression (zlib@openssh.com) starts with
 * the next packet in each direction (after the key exchange, if one
 * holds USERAUTH_SUCCESS back).
 */
void transport_set_authenticated(struct transport *t);

/*
 * Hand-over from preauth to the session process through the monitor:
 * transport_export serialises keys, IVs, sequence numbers, strict-kex state
 * and unprocessed input/output into out (a secret buffer);
 * transport_import rebuilds a transport on fd from it. params supplies the
 * algorithm lists and signing callback for later rekeys.
 */
#define TRANSPORT_STATE_VERSION 3
int transport_export(struct transport *t, struct buf *out);
int transport_import(int fd, struct buf *in, const struct transport_params *p,
    struct transport **tp);

/*
 * transport_state_algs: the algorithms a hand-over state (transport_export)
 * was negotiated with, read without copying its keys: what the monitor
 * records in the audit trail. Names are cut to fit.
 */
struct transport_algs {
	char kex[64];
	char hostkey[64];
	char cipher_out[64]; /* server to client */
	char cipher_in[64];  /* client to server */
	char mac_out[64];    /* "<implicit>" for an AEAD cipher */
	char mac_in[64];
	unsigned key_bits_out, key_bits_in;
	int aead_out, aead_in; /* 1: the cipher authenticates (no MAC) */
};
int transport_state_algs(const struct buf *state, struct transport_algs *a);

#endif
