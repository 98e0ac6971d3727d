/* transport_int.h: transport internals shared by transport.c and kex*.c. */
#ifndef POSTERN_TRANSPORT_INT_H
#define POSTERN_TRANSPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cipher.h"
#include "crypto.h"
#include "mac.h"
#include "transport.h"
#include "zcomp.h"

#define VERSION_LINE_MAX 255
/* The longest identification line a client may send: sshd 9.2's. */
#define PEER_LINE_MAX 8192
/*
 * The exchange hash's input: both identification lines, both KEXINITs
 * (a peer's may fill a whole packet), the host key, the public values and
 * K, with room to spare.
 */
#define KEX_HASH_INPUT_MAX (2 * TRANSPORT_MAX_PAYLOAD + 65536)
#define OUTPUT_CONGESTED (1024 * 1024)
#define OUTPUT_MAX (32 * 1024 * 1024)
#define INPUT_MAX (2 * 1024 * 1024)
/*
 * Packets held back during a key exchange (transport_packet_begin): each
 * costs its payload plus HELD_OVERHEAD (allocations, and the header,
 * padding and MAC it gets when sealed). Past HELD_MAX the peer is not
 * finishing the exchange it was asked for and is disconnected; half the
 * output cap, so that the held packets always fit the output when sent.
 */
#define HELD_OVERHEAD 128
#define HELD_MAX (OUTPUT_MAX / 2)
#define PACKET_MAX_SIZE (256 * 1024)
#define KEX_MAX_KEY 64

/* Compression methods (the "compression" name-lists of KEXINIT). */
#define COMP_NONE 0
#define COMP_DELAYED 1 /* zlib@openssh.com: from USERAUTH_SUCCESS on */
#define COMP_ZLIB 2    /* zlib: from NEWKEYS on */
/*
 * Before the hand-over (transport_new, not transport_import) a zlib
 * stream records its history for zcomp_export, at most this many bytes
 * per direction: preauth traffic is a few KiB, and both histories must
 * fit one IPC message with the rest of the state.
 */
#define ZLIB_HISTORY_MAX (64 * 1024)

struct kex_keys {
	const struct cipher_alg *cipher;
	const struct mac_alg *mac; /* NULL with an AEAD cipher */
	int comp;                  /* COMP_* */
	uint8_t key[KEX_MAX_KEY];
	uint8_t iv[KEX_MAX_KEY];
	uint8_t mac_key[KEX_MAX_KEY];
};

/* One direction of the packet protocol. */
struct direction {
	struct cipher_ctx *cipher;
	const struct cipher_alg *alg;
	struct mac_ctx *mac;
	const struct mac_alg *macalg;
	struct kex_keys keys; /* raw material, kept for hand-over */
	uint32_t seqnr;
	uint64_t packets_since_keys;
	/* IV advance since the keys: GCM packets, or CTR blocks. */
	uint64_t iv_skip;
	uint64_t bytes; /* packets without their tags (transport_bytes) */
	uint64_t bytes_since_keys;
	/* Receiving, CTR without -etm: the first block of the packet at the
	 * head of the input is decrypted already (it holds the length). */
	int head_decrypted;
	/* zlib stream, used while keys.comp says so; every NEWKEYS starts a
	 * new one (OpenSSH's start_compression_in/out at ssh_set_newkeys). */
	struct zcomp *z;
};

/*
 * Rekey before a key wears out: 2^31 packets (a sequence number, and so
 * chacha20's nonce, must never repeat under one key), or by volume as
 * OpenSSH does: 2^(2*blocksize) blocks for 16-byte ciphers, 1 GiB for
 * 8-byte ones.
 */
#define REKEY_PACKETS (1ULL << 31)
#define MAX_PACKETS_PER_KEY (1ULL << 32)

enum kex_state {
	KEX_NONE = 0,     /* no exchange in progress */
	KEX_WAIT_KEXINIT, /* we sent ours, waiting for the peer's */
	KEX_WAIT_INIT,    /* waiting for the method's first message */
	KEX_WAIT_NEWKEYS, /* we sent NEWKEYS, waiting for the peer's */
};

struct held_packet {
	struct buf *payload;
	struct held_packet *next;
};

struct transport {
	int fd;
	struct transport_params params;
	char *our_version;
	char *peer_version;
	int version_done;
	int peer_reset;      /* a read or write saw ECONNRESET */
	int read_ended;      /* a read saw the end or ECONNRESET */
	int write_broken;    /* a write saw EPIPE before that */
	int version_refused; /* TRANSPORT_VERSION_*, or 0 */
	unsigned prebanner_lines;

	struct buf *in;      /* raw bytes from the socket */
	struct buf *out;     /* sealed packets waiting to be written */
	struct buf view;     /* payload of the packet last returned */
	size_t view_consume; /* bytes of `in` to drop on the next call */
	struct direction send, recv;
	uint64_t sent_at_read; /* send.bytes at the last read (quickack) */
	int no_quickack;       /* the socket is not TCP */

	/* Packet being built by the caller (offset from out->rpos). */
	int building;
	size_t build_start;
	struct buf *hold_buf; /* payload scratch when packets are held */
	struct held_packet *held_head, *held_tail;
	size_t held_bytes; /* payloads + HELD_OVERHEAD each */

	/* Key exchange. */
	enum kex_state kex;
	int kex_count;     /* completed exchanges */
	int strict;        /* kex-strict negotiated in the first exchange */
	int ext_info_c;    /* client supports EXT_INFO */
	int ignore_next;   /* wrong first_kex_packet_follows guess */
	uint8_t last_type; /* of the packet last read (UNIMPLEMENTED) */
	int sent_newkeys;
	struct buf *my_kexinit;
	struct buf *peer_kexinit;
	char *neg_kex, *neg_hostkey, *neg_cipher_c2s, *neg_cipher_s2c;
	char *neg_mac_c2s, *neg_mac_s2c;
	char *neg_comp_c2s, *neg_comp_s2c;
	int authenticated; /* USERAUTH_SUCCESS sent: delayed compression on */
	int zrecord;       /* record zlib history for the hand-over */
	struct buf *zin;   /* the inflated payload of the packet last read */
	/* deflate scratch (not zin: a reply may be compressed while the
	 * caller still reads the packet last returned) */
	struct buf *zout;
	struct kex_keys pending_c2s, pending_s2c;
	uint8_t session_id[DIGEST_MAX_LEN];
	size_t session_id_len;
	int hash_alg;
	/* When the keys last changed (monotonic ms): RekeyLimit's interval. */
	int64_t rekey_clock_ms;
	/* USERAUTH_SUCCESS is held back by a key exchange: compression
	 * starts when it is sent (transport_flush_held). */
	int authenticated_held;
	struct kexgex *gex; /* a group exchange in progress (kexgex.c) */
};

/* transport.c */
int transport_seal(struct transport *t, const uint8_t *payload, size_t len);
int transport_send_raw_payload(struct transport *t, struct buf *payload);
void transport_set_send_keys(struct transport *t, struct kex_keys *k);
void transport_set_recv_keys(struct transport *t, struct kex_keys *k);
void transport_flush_held(struct transport *t);

/* transport_rekey.c: RekeyLimit's interval starts again (new keys). */
void transport_rekey_clock_start(struct transport *t);
/* 0 when params.kex_max forbids us to start another exchange. */
int transport_may_rekey(const struct transport *t);

/* kex.c */
int kex_send_kexinit(struct transport *t);
/*
 * kex_server_compute: the server's half of an ECDH-shaped method: from
 * the client's public value, the server's public value (qs) and the
 * encoded shared secret K (kbuf). Exposed for known-answer tests.
 */
int kex_server_compute(const char *name, const uint8_t *qc, size_t qclen,
    struct buf *qs, struct buf *kbuf, int *hash_alg);
/* kexdh.c: ECDH over a NIST curve (RFC 5656 s4), K = mpint(x). */
int kex_ecdh_nist_server(const char *curve, size_t field_len, const uint8_t *qc,
    size_t qclen, struct buf *qs, struct buf *kbuf);
/*
 * kexdh.c: DH over a named MODP group (RFC 4253 s8): e in, f out, both
 * as big-endian magnitudes; K as an mpint.
 */
int kex_dh_modp_server(const char *group, const uint8_t *e, size_t elen,
    struct buf *qs, struct buf *kbuf);
/* kex.c: the host key for a negotiated algorithm, or NULL. */
const struct transport_hostkey *find_hostkey(
    struct transport *t, const char *alg);
/* kex.c: the exchange hash's common start: V_C, V_S, I_C, I_S, K_S. */
int kex_hash_start(
    struct transport *t, struct buf *hb, const struct transport_hostkey *hk);
/*
 * kex.c: H = HASH(hb) into h (*hlenp bytes), the session id if it is the
 * first, and the monitor's signature of H with the negotiated host key.
 */
int kex_hash_sign(struct transport *t, const struct buf *hb, uint8_t *h,
    size_t *hlenp, struct buf *sig);
/*
 * kex.c: after the method's reply is sent: derive the keys from K (kbuf)
 * and H, send NEWKEYS (and EXT_INFO after the first exchange).
 */
int kex_send_newkeys(
    struct transport *t, const struct buf *kbuf, const uint8_t *h, size_t hlen);
/* kexdh.c: the shared secret of two EVP keys into out; validate: OpenSSL
 * checks the peer's key again. */
struct evp_pkey_st;
int kex_evp_derive(struct evp_pkey_st *priv, struct evp_pkey_st *peer,
    int validate, uint8_t *out, size_t *outlen);
/*
 * kexdh.c: sshd's checks of the peer's DH public value e in the group p:
 * 1 < e < p-1 (RFC 4253 s8) and at least 4 bits set. Logs as sshd.
 */
struct bignum_st;
int kex_dh_pub_check(const struct bignum_st *e, const struct bignum_st *p);
/* kexgex.c: the transport side of diffie-hellman-group-exchange-*. */
#define KEXGEX_NAMES                                                           \
	"diffie-hellman-group-exchange-sha256,"                                \
	"diffie-hellman-group-exchange-sha1"
int kexgex_hash_alg(const char *kex); /* DIGEST_*, 0 if not one */
/* 1 if type is the message a group exchange in negotiation waits for. */
int kexgex_wants(const struct transport *t, uint8_t type);
int kexgex_input(struct transport *t, uint8_t type, struct buf *payload);
void kexgex_free(struct transport *t);
/* kex_dispatch: handle a transport/KEX message; *consumed set if it was. */
int kex_dispatch(
    struct transport *t, uint8_t type, struct buf *payload, int *consumed);
void kex_state_free(struct transport *t);
/*
 * Answer the packet last read (of message number type) with
 * UNIMPLEMENTED, logged as sshd: kex_protocol_error in the first key
 * exchange (in_kex), dispatch_protocol_error elsewhere.
 */
int transport_unimplemented(struct transport *t, uint8_t type, int in_kex);

#endif
