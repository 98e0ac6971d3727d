/*
 * transport.c: SSH binary packet protocol (RFC 4253 s6) and identification
 * exchange (s4.2) over a non-blocking socket. Packets are sealed in place in
 * the output buffer; received packets are opened in place in the input one.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "transport_int.h"

static int
dup_params(struct transport *t, const struct transport_params *p)
{
	t->params = *p;
	return 0;
}

struct transport *
transport_new(int fd, const struct transport_params *p)
{
	struct transport *t;
	char line[VERSION_LINE_MAX + 3];

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = fd;
	dup_params(t, p);
	t->zrecord = 1;
	/*
	 * Only preauth makes a transport this way: its input is decrypted in
	 * place and holds passwords and codes, so it is wiped as it is
	 * compacted, grown and freed, whatever parses it (the session's,
	 * imported, carries bulk data).
	 */
	t->in = buf_new_secret(INPUT_MAX);
	t->out = buf_new(OUTPUT_MAX);
	t->our_version = strdup(p->version);
	if (t->in == NULL || t->out == NULL || t->our_version == NULL)
		goto fail;
	snprintf(line, sizeof(line), "%s\r\n", p->version);
	if (buf_put(t->out, line, strlen(line)) != 0)
		goto fail;
	/* KEXINIT follows once the peer's identification is read (as
	 * sshd: a banner grabber or a bad identification gets none). */
	return t;
fail:
	transport_free(t);
	return NULL;
}

static void
held_free(struct transport *t)
{
	struct held_packet *h, *n;

	for (h = t->held_head; h != NULL; h = n) {
		n = h->next;
		buf_free(h->payload);
		free(h);
	}
	t->held_head = t->held_tail = NULL;
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	cipher_free(t->send.cipher);
	cipher_free(t->recv.cipher);
	mac_free(t->send.mac);
	mac_free(t->recv.mac);
	zcomp_free(t->send.z);
	zcomp_free(t->recv.z);
	buf_free(t->zin);
	buf_free(t->zout);
	wipe(&t->send.keys, sizeof(t->send.keys));
	wipe(&t->recv.keys, sizeof(t->recv.keys));
	buf_free(t->in);
	buf_free(t->out);
	buf_free(t->hold_buf);
	held_free(t);
	kex_state_free(t);
	free(t->our_version);
	free(t->peer_version);
	freezero(t, sizeof(*t));
}

int
transport_fd(const struct transport *t)
{
	return t->fd;
}

size_t
transport_output_pending(const struct transport *t)
{
	return buf_len(t->out);
}

int
transport_output_congested(const struct transport *t)
{
	/* Packets held back during a key exchange count too. */
	return buf_len(t->out) + t->held_bytes >= OUTPUT_CONGESTED;
}

static uint64_t
rekey_bytes(const struct cipher_alg *alg)
{
	if (alg == NULL)
		return UINT64_MAX;
	if (alg->block_size >= 16)
		return ((uint64_t)1 << (alg->block_size * 2)) * alg->block_size;
	return (uint64_t)1 << 30;
}

/* RekeyLimit lowers the cipher's own limit, never raises it. */
static int
worn_out(const struct transport *t, const struct direction *d)
{
	uint64_t limit = rekey_bytes(d->alg);

	if (t->params.rekey_limit != 0 && t->params.rekey_limit < limit)
		limit = t->params.rekey_limit;
	return d->packets_since_keys >= REKEY_PACKETS ||
	    d->bytes_since_keys >= limit;
}

/*
 * Start a key exchange of our own when either direction's keys wear out:
 * only after authentication, as sshd (its "client can't cope with
 * rekeying pre-auth": OpenSSH's client ends the connection at a KEXINIT
 * during userauth).
 */
static int
maybe_rekey(struct transport *t)
{
	if (t->kex != KEX_NONE || t->kex_count == 0 || !t->authenticated ||
	    !transport_may_rekey(t))
		return 0;
	if (!worn_out(t, &t->send) && !worn_out(t, &t->recv))
		return 0;
	debug("rekeying: keys used for %llu/%llu packets",
	    (unsigned long long)t->send.packets_since_keys,
	    (unsigned long long)t->recv.packets_since_keys);
	return kex_send_kexinit(t);
}

const char *
transport_peer_version(const struct transport *t)
{
	return t->peer_version;
}

const char *
transport_peer_addr(const struct transport *t)
{
	return t->params.peer_addr ? t->params.peer_addr : "UNKNOWN";
}

int
transport_peer_port(const struct transport *t)
{
	return t->params.peer_port;
}

int
transport_peer_reset(const struct transport *t)
{
	return t->peer_reset;
}

int
transport_write_broken(const struct transport *t)
{
	return t->write_broken;
}

int
transport_version_refused(const struct transport *t)
{
	return t->version_refused;
}

void
transport_bytes(const struct transport *t, uint64_t *in, uint64_t *out)
{
	*in = t->recv.bytes;
	*out = t->send.bytes;
}

const uint8_t *
transport_session_id(const struct transport *t, size_t *lenp)
{
	if (t->session_id_len == 0)
		return NULL;
	if (lenp != NULL)
		*lenp = t->session_id_len;
	return t->session_id;
}

int
transport_kex_done(const struct transport *t)
{
	return t->kex_count > 0;
}

const char *
transport_negotiated(const struct transport *t, const char *what)
{
	if (strcmp(what, "cipher") == 0)
		return t->send.alg ? t->send.alg->name : "none";
	if (strcmp(what, "kex") == 0)
		return t->neg_kex ? t->neg_kex : "none";
	if (strcmp(what, "hostkey") == 0)
		return t->neg_hostkey ? t->neg_hostkey : "none";
	if (strcmp(what, "mac") == 0) {
		if (t->send.macalg != NULL)
			return t->send.macalg->name;
		return (t->send.alg && t->send.alg->aead) ? "<implicit>"
		                                          : "none";
	}
	if (strcmp(what, "compression") == 0)
		return t->send.keys.comp == COMP_DELAYED ? "zlib@openssh.com"
		    : t->send.keys.comp == COMP_ZLIB     ? "zlib"
		                                         : "none";
	return "none";
}

/*
 * Delayed ACKs: a client with Nagle on (OpenSSH's) holds a small write until
 * its previous one is ACKed, and Linux delays that ACK by up to 40 ms when
 * we have nothing to send back: three such stalls made most of a login.
 * After a small read, unless we are streaming output (whose segments carry
 * the ACKs anyway), re-arm TCP_QUICKACK, which the kernel drops by itself.
 * Bulk reads and bulk sends cost no extra syscall.
 */
#define QUICKACK_READ_MAX (16 * 1024)
#define QUICKACK_SENT_MAX (16 * 1024)

static void
quickack(struct transport *t, size_t nread)
{
	int one = 1;
	uint64_t sent = t->send.bytes - t->sent_at_read;

	t->sent_at_read = t->send.bytes;
	if (t->no_quickack || nread >= QUICKACK_READ_MAX ||
	    sent >= QUICKACK_SENT_MAX)
		return;
	if (setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) ==
	    -1)
		t->no_quickack = 1; /* not TCP: never again */
}

int
transport_read(struct transport *t)
{
	uint8_t *p;
	ssize_t n;
	size_t room;
	int r;

	/* Make room without growing past the cap: read at most 256 KiB. */
	room = buf_max(t->in) - buf_len(t->in);
	if (room == 0)
		return 0; /* caller must drain packets first */
	if (room > 256 * 1024)
		room = 256 * 1024;
	if ((r = buf_reserve(t->in, room, &p)) != 0)
		return r;
	n = read(t->fd, p, room);
	if (n < 0) {
		buf_consume_end(t->in, room);
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (errno == ECONNRESET)
			t->peer_reset = t->read_ended = 1;
		return errno == ECONNRESET ? ERR_EOF : ERR_SYSTEM;
	}
	buf_consume_end(t->in, room - (size_t)n);
	if (n == 0) {
		t->read_ended = 1;
		return ERR_EOF;
	}
	quickack(t, (size_t)n);
	return 0;
}

int
transport_write(struct transport *t)
{
	ssize_t n;

	while (buf_len(t->out) > 0) {
		n = write(t->fd, buf_ptr(t->out), buf_len(t->out));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ECONNRESET)
				t->peer_reset = 1;
			if (errno == EPIPE && !t->read_ended)
				t->write_broken = 1;
			return errno == EPIPE || errno == ECONNRESET
			    ? ERR_EOF
			    : ERR_SYSTEM;
		}
		buf_consume(t->out, (size_t)n);
	}
	return 0;
}

/*
 * sshd's answer to an identification it refuses: its text and CRLF, raw
 * (there is no packet protocol yet), then the connection ends.
 */
#define BAD_VERSION "Invalid SSH identification string."

static int
version_error(struct transport *t, const char *msg)
{
	if (buf_put(t->out, msg, strlen(msg)) == 0 &&
	    buf_put(t->out, "\r\n", 2) == 0)
		(void)transport_write(t);
	return ERR_PROTOCOL;
}

/*
 * sscanf's %d as glibc reads it (sshd's parse): strtol's value, held at
 * LONG_MIN/LONG_MAX, then cut to an int. The digits are walked in this
 * NUL-terminated private copy of the line; nothing here can overflow.
 */
static int
scan_int(const char **pp, int *v)
{
	const char *p = *pp;
	unsigned long long n = 0, cap;
	unsigned d;
	long l;
	int neg = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return -1;
	cap = (unsigned long long)LONG_MAX + 1;
	for (; isdigit((unsigned char)*p); p++) {
		d = (unsigned)(*p - '0');
		if (n <= cap)
			n = n > (cap - d) / 10 ? cap + 1 : n * 10 + d;
	}
	if (!neg)
		l = n > LONG_MAX ? LONG_MAX : (long)n;
	else
		l = n >= cap ? LONG_MIN : -(long)n;
	*v = (int)(unsigned int)(unsigned long)l;
	*pp = p;
	return 0;
}

/*
 * The line as sshd's sscanf(line, "SSH-%d.%d-%[^\n]") reads it: the
 * software version (at least one byte), or NULL.
 */
static const char *
scan_version(const char *line, int *major, int *minor)
{
	const char *p = line + 4;

	if (strncmp(line, "SSH-", 4) != 0 || scan_int(&p, major) != 0 ||
	    *p++ != '.' || scan_int(&p, minor) != 0 || *p++ != '-' ||
	    *p == '\0')
		return NULL;
	return p;
}

/*
 * Identification exchange: returns 0 when the peer's line was read. As
 * sshd 9.2 reads it: up to PEER_LINE_MAX bytes before the LF, CRs only
 * right before it, no NUL. sshd does not count the CRs; here one CR more
 * is the most the line may hold, so that a stream of CRs with no LF ends
 * the connection instead of filling the input buffer and being scanned
 * again on every read.
 */
static int
read_version(struct transport *t)
{
	const uint8_t *p;
	size_t len, i, n = 0;
	int cr = 0, major, minor, r;
	char *line = NULL;
	const char *soft;

	p = buf_ptr(t->in);
	len = buf_len(t->in);
	for (i = 0; i < len && p[i] != '\n'; i++) {
		if (p[i] == '\0' || (cr && p[i] != '\r')) {
			error("kex_exchange_identification: "
			      "banner line contains invalid characters");
			return version_error(t, BAD_VERSION);
		}
		if (p[i] == '\r')
			cr = 1;
		else
			n++;
		if (n > PEER_LINE_MAX || i > PEER_LINE_MAX) {
			error("kex_exchange_identification: "
			      "banner line too long");
			return version_error(t, BAD_VERSION);
		}
	}
	if (i == len)
		return ERR_AGAIN;
	if ((line = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	memcpy(line, p, n);
	line[n] = '\0';
	buf_consume(t->in, i + 1);
	if (n <= 4 || strncmp(line, "SSH-", 4) != 0) {
		/* RFC 4253 s4.2: only a server may send other lines (and
		 * sshd takes a bare "SSH-" for one of them). */
		error("kex_exchange_identification: client sent "
		      "invalid protocol identifier \"%.256s\"",
		    line);
		free(line);
		return version_error(t, BAD_VERSION);
	}
	/* As sshd 9.2 parses it, then protocol 2, or 1.99. */
	if ((soft = scan_version(line, &major, &minor)) == NULL) {
		error("Bad remote protocol version identification: '%.100s'",
		    line);
		free(line);
		return version_error(t, BAD_VERSION);
	}
	debug("Remote protocol version %d.%d, remote software version %.100s",
	    major, minor, soft);
	if (major != 2 && !(major == 1 && minor == 99)) {
		error("Protocol major versions differ: 2 vs. %d", major);
		t->version_refused = TRANSPORT_VERSION_OTHER;
		r = version_error(t, "Protocol major versions differ.");
	} else if (strncmp(soft, "Probe-", 6) == 0 ||
	    strstr(soft, "SSH_Version_Mapper") != NULL) {
		/* sshd's compat patterns "Probe-*" and "*SSH_Version_Mapper*":
		 * a scanner, told nothing; the connection just closes. */
		logit("%s from %s port %d with %s.  Don't panic.",
		    soft[0] == 'P' ? "probed" : "scanned",
		    t->params.peer_addr ? t->params.peer_addr : "UNKNOWN",
		    t->params.peer_port, line);
		t->version_refused = TRANSPORT_VERSION_PROBE;
		r = ERR_PROTOCOL;
	} else {
		t->peer_version = line;
		t->version_done = 1;
		line = NULL;
		r = kex_send_kexinit(t);
	}
	free(line);
	return r;
}

/* Drop the bytes of the packet returned by the previous call. */
static void
release_view(struct transport *t)
{
	/* Consumed, not moved or wiped: transport_payload_stays promises the
	 * layer above that a payload stays in place until transport_read. */
	if (t->view_consume > 0) {
		buf_consume(t->in, t->view_consume);
		t->view_consume = 0;
	}
	memset(&t->view, 0, sizeof(t->view));
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
transport_log_fatal(const struct transport *t, const char *what)
{
	const char *addr = transport_peer_addr(t);

	if (t->params.peer_user != NULL)
		logit("ssh_dispatch_run_fatal: Connection from user %s %s port "
		      "%d: %s",
		    t->params.peer_user, addr, t->params.peer_port, what);
	else
		logit("ssh_dispatch_run_fatal: Connection from %s port %d: %s",
		    addr, t->params.peer_port, what);
}

static int
corrupt_mac(struct transport *t, int aead)
{
	/* INFO, as sshd's packet.c logs it for a MAC (not for an AEAD
	 * cipher's tag); then its fatal line. */
	if (!aead)
		logit("Corrupted MAC on input.");
	transport_log_fatal(t, "message authentication code incorrect");
	transport_disconnect(
	    t, SSH2_DISCONNECT_MAC_ERROR, "Corrupted MAC on input.");
	return ERR_MAC;
}

/* Decrypt n bytes at p with a non-AEAD cipher, counting CTR blocks. */
static int
ctr_decrypt(struct direction *d, uint8_t *p, size_t n, size_t aadlen)
{
	int r;

	if ((r = cipher_crypt(d->cipher, d->seqnr, p, p, n, aadlen, 0)) != 0)
		return r;
	d->iv_skip += n / d->alg->block_size;
	return 0;
}

/* 1 while this direction's packets are compressed. */
static int
compressing(const struct transport *t, const struct direction *d)
{
	return d->keys.comp == COMP_ZLIB ||
	    (d->keys.comp == COMP_DELAYED && t->authenticated);
}

int
transport_send_compressed(const struct transport *t)
{
	return compressing(t, &t->send);
}

int
transport_payload_stays(const struct transport *t)
{
	uintptr_t p = (uintptr_t)t->view.data, in = (uintptr_t)t->in->data;

	return t->view.data != NULL && p >= in &&
	    p + t->view.wpos <= in + t->in->wpos;
}

/* A new stream for d; before the hand-over it records its history. */
static int
zstream_new(struct transport *t, struct direction *d, int deflate)
{
	int r;

	if ((r = zcomp_new(&d->z, deflate)) != 0)
		return r;
	return t->zrecord ? zcomp_record(d->z, ZLIB_HISTORY_MAX) : 0;
}

/* The error of a zlib call, logged; ERR_LIMIT: history cap (preauth). */
static int
zstream_error(struct transport *t, int r)
{
	if (r == ERR_LIMIT) {
		error("compressed traffic before authentication exceeds %d "
		      "bytes (zlib hand-over history)",
		    ZLIB_HISTORY_MAX);
		transport_disconnect(t, SSH2_DISCONNECT_COMPRESSION_ERROR,
		    "Too much compressed data before authentication");
		return ERR_PROTOCOL;
	}
	return r;
}

/* Inflate the payload of the packet in t->view into t->zin. */
static int
inflate_view(struct transport *t)
{
	struct direction *d = &t->recv;
	int r;

	if (d->z == NULL && (r = zstream_new(t, d, 0)) != 0)
		return r;
	if (t->zin == NULL &&
	    (t->zin = buf_new_secret(TRANSPORT_MAX_PAYLOAD + 4096)) == NULL)
		return ERR_ALLOC;
	buf_reset(t->zin);
	r = zcomp_inflate(d->z, buf_ptr(&t->view), buf_len(&t->view), t->zin,
	    TRANSPORT_MAX_PAYLOAD);
	if (r == ERR_LIMIT || r == ERR_ALLOC)
		return zstream_error(t, r);
	if (r != 0) {
		error("%s",
		    r == ERR_TOO_BIG ? "decompressed packet too large"
		                     : "corrupted compressed data");
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "Packet corrupt");
		return ERR_PROTOCOL;
	}
	t->view.data = buf_mutable_ptr(t->zin);
	t->view.rpos = 0;
	t->view.wpos = buf_len(t->zin);
	t->view.cap = t->view.max = t->view.wpos;
	return 0;
}

/*
 * Open the next whole packet in t->in in place. On success the payload is
 * exposed through t->view and its bytes are released on the next call.
 * Three shapes: AEAD (cipher authenticates; length AAD or encrypted with
 * its own key), -etm MACs (length in clear, MAC over length||ciphertext,
 * checked before decrypting), and the original one (everything encrypted,
 * MAC over seqnr||plaintext, the first block decrypted to read the length).
 */
static int
open_packet(struct transport *t)
{
	struct direction *d = &t->recv;
	uint8_t *p;
	uint32_t plen;
	size_t block = 8, taglen = 0, need, avail = buf_len(t->in);
	uint8_t padlen;
	int aead = 0, etm = 0, r;

	if (avail < 4)
		return ERR_AGAIN;
	p = buf_mutable_ptr(t->in);
	if (d->cipher != NULL) {
		block = d->alg->block_size;
		aead = d->alg->aead;
		etm = !aead && d->macalg != NULL && d->macalg->etm;
		taglen = aead ? d->alg->tag_len
		              : (d->macalg != NULL ? d->macalg->tag_len : 0);
	}
	/* As sshd, the length is judged once a whole first block is in
	 * (AEAD and -etm: once the four bytes of the length are). */
	if (d->cipher == NULL && avail < block)
		return ERR_AGAIN;
	if (d->cipher != NULL && !aead && !etm) {
		if (!d->head_decrypted) {
			if (avail < block)
				return ERR_AGAIN;
			if ((r = ctr_decrypt(d, p, block, 0)) != 0)
				return r;
			d->head_decrypted = 1;
		}
		plen = get_be32(p);
	} else if (d->cipher != NULL) {
		if ((r = cipher_get_length(
		         d->cipher, &plen, d->seqnr, p, avail)) != 0)
			return r;
	} else
		plen = get_be32(p);
	if (plen < 5 || plen > PACKET_MAX_SIZE) {
		/* Then sshd's fatal line: its EtM and AEAD path stops at
		 * once (SSH_ERR_CONN_CORRUPT), the other after discarding
		 * (SSH_ERR_MAC_INVALID). */
		logit("Bad packet length %u.", plen);
		transport_log_fatal(t,
		    aead || etm ? "Connection corrupted"
		                : "message authentication code "
		                  "incorrect");
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "Packet corrupt");
		return ERR_PROTOCOL;
	}
	/* AEAD and -etm leave the length out of the padded blocks. */
	if ((aead || etm ? plen : plen + 4) % block != 0) {
		/* sshd's "need": the bytes after the first block (a u_int
		 * printed with %d), and its fatal line (SSH_ERR_MAC_INVALID
		 * from ssh_packet_start_discard, which only discards for CBC). */
		logit("padding error: need %d block %zu mod %zu",
		    (int)(aead || etm ? plen : 4 + plen - (uint32_t)block),
		    block, (size_t)((aead || etm ? plen : plen + 4) % block));
		transport_log_fatal(t, "message authentication code incorrect");
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "Packet corrupt");
		return ERR_PROTOCOL;
	}
	need = 4 + (size_t)plen + taglen;
	if (avail < need)
		return ERR_AGAIN;
	if (aead) {
		if ((r = cipher_crypt(
		         d->cipher, d->seqnr, p, p, plen, 4, taglen)) != 0)
			return r == ERR_MAC ? corrupt_mac(t, 1) : r;
		d->iv_skip++;
	} else if (etm) {
		r = mac_verify(
		    d->mac, d->seqnr, p, 4 + (size_t)plen, p + 4 + plen);
		if (r != 0)
			return r == ERR_MAC ? corrupt_mac(t, 0) : r;
		if ((r = ctr_decrypt(d, p, plen, 4)) != 0)
			return r;
	} else if (d->cipher != NULL) {
		d->head_decrypted = 0;
		if ((r = ctr_decrypt(d, p + block, 4 + plen - block, 0)) != 0)
			return r;
		if (d->mac != NULL) {
			r = mac_verify(d->mac, d->seqnr, p, 4 + (size_t)plen,
			    p + 4 + plen);
			if (r != 0)
				return r == ERR_MAC ? corrupt_mac(t, 0) : r;
		}
	}
	if (d->cipher != NULL)
		d->packets_since_keys++;
	padlen = p[4];
	/*
	 * sshd's lines: padding under 4 is SSH_ERR_CONN_CORRUPT (its
	 * "Corrupted padlen" is only the DISCONNECT's text); padding that
	 * leaves no message number is SSH_ERR_MESSAGE_INCOMPLETE.
	 */
	if (padlen < 4) {
		transport_log_fatal(t, "Connection corrupted");
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "Corrupted padlen %u on input.", padlen);
		return ERR_PROTOCOL;
	}
	if ((size_t)padlen + 1 >= plen) {
		transport_log_fatal(t, "incomplete message");
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "Packet corrupt");
		return ERR_PROTOCOL;
	}
	t->view.data = p + 5;
	t->view.rpos = 0;
	t->view.wpos = plen - padlen - 1;
	t->view.cap = t->view.max = t->view.wpos;
	t->view.flags = 0;
	t->view_consume = need;
	if (compressing(t, d) && (r = inflate_view(t)) != 0)
		return r;
	d->seqnr++;
	d->bytes += need - taglen;
	d->bytes_since_keys += need;
	if (d->seqnr == 0 && t->kex_count == 0) {
		error("incoming sequence number wrapped during initial key "
		      "exchange");
		return ERR_PROTOCOL;
	}
	/* The peer ignored our rekey until the nonce would repeat. */
	if (d->packets_since_keys >= MAX_PACKETS_PER_KEY) {
		error("peer did not rekey before its keys wore out");
		return ERR_PROTOCOL;
	}
	return 0;
}

/*
 * As sshd: message number 0 and the local-extension range (192..255) end
 * the connection, less PING and PONG (192, 193) once the first key
 * exchange is done: OpenSSH 9.5 took them, and postern knows them.
 */
static int
invalid_type(struct transport *t, uint8_t type)
{
	int ping = type == SSH2_MSG_PING || type == SSH2_MSG_PONG;

	if (type != 0 && (type < 192 || (ping && t->kex_count > 0)))
		return 0;
	transport_log_fatal(t, "Protocol error");
	transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
	    "Invalid ssh2 packet type: %u", type);
	return ERR_PROTOCOL;
}

int
transport_next_packet(struct transport *t, uint8_t *type, struct buf **pp)
{
	int r, consumed;
	uint8_t msg;

	release_view(t);
	if (!t->version_done) {
		if ((r = read_version(t)) != 0)
			return r;
	}
	for (;;) {
		release_view(t);
		if ((r = open_packet(t)) != 0)
			return r;
		if ((r = buf_get_u8(&t->view, &msg)) != 0) {
			transport_disconnect(
			    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "empty packet");
			return ERR_PROTOCOL;
		}
		if ((r = invalid_type(t, msg)) != 0)
			return r;
		if (t->ignore_next) {
			t->ignore_next = 0;
			continue;
		}
		t->last_type = msg;
		consumed = 0;
		if ((r = kex_dispatch(t, msg, &t->view, &consumed)) != 0)
			return r;
		if ((r = maybe_rekey(t)) != 0)
			return r;
		if (consumed) {
			/* Each may have queued an answer: one read's worth
			 * of them must not go past the caller's pause. */
			if (t->params.out_pause != 0 &&
			    buf_len(t->out) >= t->params.out_pause)
				return ERR_AGAIN;
			continue;
		}
		*type = msg;
		*pp = &t->view;
		return 0;
	}
}

/* Replace the payload at start + 5 in t->out by its compressed form. */
static int
deflate_payload(struct transport *t, size_t start)
{
	struct direction *d = &t->send;
	size_t plen = buf_len(t->out) - start - 5;
	int r;

	if (d->z == NULL && (r = zstream_new(t, d, 1)) != 0)
		return r;
	if (t->zout == NULL &&
	    (t->zout = buf_new_secret(TRANSPORT_MAX_PAYLOAD + 4096)) == NULL)
		return ERR_ALLOC;
	buf_reset(t->zout);
	if ((r = zcomp_deflate(
	         d->z, buf_ptr(t->out) + start + 5, plen, t->zout)) != 0) {
		/* Drop the unsealed packet before any disconnect follows. */
		buf_consume_end(t->out, buf_len(t->out) - start);
		return zstream_error(t, r);
	}
	if ((r = buf_consume_end(t->out, plen)) != 0 ||
	    (r = buf_put(t->out, buf_ptr(t->zout), buf_len(t->zout))) != 0)
		return r;
	buf_reset(t->zout);
	return 0;
}

/*
 * The padding length seal_in_place gives a payload of payload_len bytes;
 * *taglenp is the MAC or AEAD tag length that follows the padding.
 */
static size_t
seal_trailer(const struct transport *t, size_t payload_len, size_t *taglenp)
{
	const struct direction *d = &t->send;
	size_t block = d->cipher ? d->alg->block_size : 8;
	size_t body = 1 + payload_len, padlen;
	int aead = d->cipher != NULL && d->alg->aead;
	int etm = !aead && d->macalg != NULL && d->macalg->etm;

	*taglenp = 0;
	if (aead)
		*taglenp = d->alg->tag_len;
	else if (d->macalg != NULL)
		*taglenp = d->macalg->tag_len;
	/* AEAD and -etm: pad (padlen byte + payload + padding) to the block
	 * size; otherwise the length field counts too. */
	padlen = block - ((aead || etm ? body : body + 4) % block);
	if (padlen < 4)
		padlen += block;
	return padlen;
}

/*
 * Seal a payload that starts at out->rpos + start in t->out: prepend
 * length and padding length (reserved by the caller), add padding,
 * encrypt in place and append the tag. The three packet shapes are those
 * of open_packet.
 */
static int
seal_in_place(struct transport *t, size_t start)
{
	struct direction *d = &t->send;
	size_t block = d->cipher ? d->alg->block_size : 8;
	size_t taglen, payload_len, body, padlen;
	uint8_t *pad, *p;
	int aead = d->cipher != NULL && d->alg->aead;
	int etm = !aead && d->macalg != NULL && d->macalg->etm;
	int r;

	if (compressing(t, d) && (r = deflate_payload(t, start)) != 0)
		return r;
	payload_len = t->out->wpos - t->out->rpos - start - 5;
	body = 1 + payload_len;
	padlen = seal_trailer(t, payload_len, &taglen);
	if ((r = buf_reserve(t->out, padlen + taglen, &pad)) != 0)
		return r;
	random_padding(pad, padlen);
	p = t->out->data + t->out->rpos + start;
	body += padlen;
	p[0] = (uint8_t)(body >> 24);
	p[1] = (uint8_t)(body >> 16);
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	p[4] = (uint8_t)padlen;
	if (aead) {
		if ((r = cipher_crypt(
		         d->cipher, d->seqnr, p, p, body, 4, taglen)) != 0)
			return r;
		d->iv_skip++;
	} else if (etm) {
		if ((r = cipher_crypt(d->cipher, d->seqnr, p, p, body, 4, 0)) !=
		        0 ||
		    (r = mac_compute(
		         d->mac, d->seqnr, p, 4 + body, p + 4 + body)) != 0)
			return r;
		d->iv_skip += body / block;
	} else if (d->cipher != NULL) {
		if ((d->mac != NULL &&
		        (r = mac_compute(d->mac, d->seqnr, p, 4 + body,
		             p + 4 + body)) != 0) ||
		    (r = cipher_crypt(
		         d->cipher, d->seqnr, p, p, 4 + body, 0, 0)) != 0)
			return r;
		d->iv_skip += (4 + body) / block;
	} else
		buf_consume_end(t->out, taglen); /* none: no tag */
	if (d->cipher != NULL)
		d->packets_since_keys++;
	d->seqnr++;
	d->bytes += 4 + body;
	d->bytes_since_keys += 4 + body + taglen;
	if (d->seqnr == 0 && t->kex_count == 0)
		return ERR_PROTOCOL;
	if (d->packets_since_keys >= MAX_PACKETS_PER_KEY)
		return ERR_PROTOCOL;
	return 0;
}

/*
 * A packet that could not be sealed leaves nothing in the output: its
 * length placeholder and plaintext would otherwise go out with whatever
 * is sent next (a DISCONNECT, say).
 */
static void
drop_unsealed(struct transport *t, size_t start)
{
	if (buf_len(t->out) > start)
		(void)buf_consume_end(t->out, buf_len(t->out) - start);
}

/* Seal a complete payload (message number first) into the output. */
int
transport_seal(struct transport *t, const uint8_t *payload, size_t len)
{
	size_t start = buf_len(t->out);
	int r;

	if (len == 0 || len > TRANSPORT_MAX_PAYLOAD)
		return ERR_TOO_BIG;
	if ((r = buf_reserve(t->out, 5, NULL)) != 0 ||
	    (r = buf_put(t->out, payload, len)) != 0 ||
	    (r = seal_in_place(t, start)) != 0)
		drop_unsealed(t, start);
	return r;
}

int
transport_send_raw_payload(struct transport *t, struct buf *payload)
{
	return transport_seal(t, buf_ptr(payload), buf_len(payload));
}

/* Messages the transport may send while a key exchange is running. */
static int
is_kex_message(uint8_t type)
{
	return (type >= 1 && type <= 4) || (type >= 20 && type <= 49);
}

/*
 * 1 while non-transport packets must wait: we sent KEXINIT, not NEWKEYS,
 * or (before the peer's identification) the first KEXINIT is still to
 * come.
 */
static int
holding(const struct transport *t)
{
	return (t->kex != KEX_NONE || t->kex_count == 0) && !t->sent_newkeys;
}

int
transport_packet_begin(struct transport *t, uint8_t type, struct buf **pp)
{
	int r;

	if (t->building)
		return ERR_INTERNAL;
	if (holding(t) && !is_kex_message(type)) {
		if (t->hold_buf == NULL &&
		    (t->hold_buf = buf_new(TRANSPORT_MAX_PAYLOAD)) == NULL)
			return ERR_ALLOC;
		buf_reset(t->hold_buf);
		if ((r = buf_put_u8(t->hold_buf, type)) != 0)
			return r;
		t->building = 2;
		*pp = t->hold_buf;
		return 0;
	}
	t->build_start = buf_len(t->out);
	if ((r = buf_reserve(t->out, 5, NULL)) != 0 ||
	    (r = buf_put_u8(t->out, type)) != 0)
		return r;
	t->building = 1;
	*pp = t->out;
	return 0;
}

int
transport_packet_send(struct transport *t)
{
	struct held_packet *h;
	size_t len, cost;
	int r;

	if (t->building == 2) {
		t->building = 0;
		cost = buf_len(t->hold_buf) + HELD_OVERHEAD;
		if (t->held_bytes + cost > HELD_MAX) {
			/* CVE-2025-26466: a peer that never answers KEXINIT. */
			error("Disconnecting: peer did not answer the key "
			      "exchange; %zu bytes of packets held back",
			    t->held_bytes);
			transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
			    "too much output held back during key exchange");
			return ERR_PROTOCOL;
		}
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return ERR_ALLOC;
		if ((h->payload = buf_from(
		         buf_ptr(t->hold_buf), buf_len(t->hold_buf))) == NULL) {
			free(h);
			return ERR_ALLOC;
		}
		if (t->held_tail != NULL)
			t->held_tail->next = h;
		else
			t->held_head = h;
		t->held_tail = h;
		t->held_bytes += cost;
		return 0;
	}
	if (t->building != 1)
		return ERR_INTERNAL;
	t->building = 0;
	len = buf_len(t->out) - t->build_start - 5;
	if (len > TRANSPORT_MAX_PAYLOAD)
		r = ERR_TOO_BIG;
	else
		r = seal_in_place(t, t->build_start);
	if (r != 0) {
		drop_unsealed(t, t->build_start);
		return r;
	}
	return maybe_rekey(t);
}

void
transport_packet_cancel(struct transport *t)
{
	if (t->building == 1)
		drop_unsealed(t, t->build_start);
	t->building = 0;
}

/*
 * Read fd's data straight into data packets laid out back to back in the
 * output: one readv(2) fills the data fields of up to TRANSPORT_BATCH_MAX
 * packets of maxdata bytes (want in all), each then sealed in place. A
 * single large read empties a pipe in one go (one wake-up of its writer)
 * and costs no copy. The payload of each packet is prefix, the data's
 * length (uint32) and the data.
 */
int
transport_read_packets(struct transport *t, int fd, const uint8_t *prefix,
    size_t prefixlen, size_t maxdata, size_t want, ssize_t *nread)
{
	struct iovec iov[TRANSPORT_BATCH_MAX];
	size_t hdr = 5 + prefixlen + 4, taglen, slot, count, i, len, base;
	size_t total, left;
	uint8_t *p, *q;
	ssize_t n;
	int r;

	*nread = 0;
	if (t->building || holding(t) || compressing(t, &t->send) ||
	    maxdata == 0 || want == 0 ||
	    prefixlen + 4 + maxdata > TRANSPORT_MAX_PAYLOAD)
		return ERR_AGAIN;
	/*
	 * Not past a RekeyLimit in one go: the batch ends about where the
	 * keys wear out, so that the exchange starts there (as sshd checks
	 * before each packet), not up to a whole batch later.
	 */
	if (t->params.rekey_limit != 0 && t->kex_count > 0) {
		uint64_t used = t->send.bytes_since_keys;
		uint64_t rest = used < t->params.rekey_limit
		    ? t->params.rekey_limit - used
		    : 1;

		if (rest < want)
			want = (size_t)rest;
	}
	slot = hdr + maxdata +
	    seal_trailer(t, prefixlen + 4 + maxdata, &taglen) + taglen;
	count = (want + maxdata - 1) / maxdata;
	if (count > TRANSPORT_BATCH_MAX) {
		count = TRANSPORT_BATCH_MAX;
		want = count * maxdata;
	}
	/* A shorter last packet may need up to a block more padding. */
	total = count * slot + 64;
	base = buf_len(t->out);
	if ((r = buf_reserve(t->out, total, &p)) != 0)
		return r;
	for (i = 0; i < count; i++) {
		iov[i].iov_base = p + i * slot + hdr;
		iov[i].iov_len = i + 1 < count ? maxdata : want - i * maxdata;
	}
	do {
		n = readv(fd, iov, (int)count);
	} while (n == -1 && errno == EINTR);
	*nread = n;
	/* Give the room back; the packets below take it again without moving
	 * the buffer, which has the capacity now. */
	(void)buf_consume_end(t->out, total);
	if (n <= 0)
		return 0;
	for (i = 0, left = (size_t)n; left > 0; i++) {
		len = left < maxdata ? left : maxdata;
		if ((r = buf_reserve(t->out, hdr + len, &q)) != 0)
			return r;
		if (q != p + i * slot)
			return ERR_INTERNAL;
		memcpy(q + 5, prefix, prefixlen);
		q[5 + prefixlen] = (uint8_t)(len >> 24);
		q[5 + prefixlen + 1] = (uint8_t)(len >> 16);
		q[5 + prefixlen + 2] = (uint8_t)(len >> 8);
		q[5 + prefixlen + 3] = (uint8_t)len;
		if ((r = seal_in_place(t, base + i * slot)) != 0)
			return r;
		left -= len;
	}
	return maybe_rekey(t);
}

void
transport_flush_held(struct transport *t)
{
	struct held_packet *h;

	while ((h = t->held_head) != NULL) {
		t->held_head = h->next;
		t->held_bytes -= buf_len(h->payload) + HELD_OVERHEAD;
		if (transport_send_raw_payload(t, h->payload) != 0)
			error_f("could not send a held packet");
		buf_free(h->payload);
		free(h);
	}
	t->held_tail = NULL;
	if (t->authenticated_held) {
		t->authenticated_held = 0;
		t->authenticated = 1;
	}
}

/*
 * Advance an IV by n uses: GCM's 64-bit invocation counter (RFC 5647
 * s7.1, bytes 4..11) by n packets, or a CTR counter block (RFC 4344 s4,
 * the whole 16-byte big-endian integer) by n blocks.
 */
static void
iv_advance(const struct cipher_alg *alg, uint8_t *iv, uint64_t n)
{
	size_t lo, hi, i;
	unsigned carry = 0;

	if (n == 0 || alg->iv_len < 12)
		return;
	lo = alg->aead ? 4 : 0;
	hi = alg->aead ? 12 : alg->iv_len;
	for (i = hi; i > lo; i--) {
		carry += iv[i - 1] + (unsigned)(n & 0xff);
		iv[i - 1] = (uint8_t)carry;
		carry >>= 8;
		n >>= 8;
	}
}

/* Install keys for one direction; skip advances the IV (hand-over). */
static int
install_keys(
    struct direction *d, const struct kex_keys *k, int encrypt, uint64_t skip)
{
	uint8_t iv[KEX_MAX_KEY];
	int r;

	cipher_free(d->cipher);
	mac_free(d->mac);
	/* As OpenSSH, a zlib stream starts afresh with every set of keys. */
	zcomp_free(d->z);
	d->cipher = NULL;
	d->mac = NULL;
	d->z = NULL;
	d->alg = k->cipher;
	d->macalg = k->mac;
	d->keys = *k;
	d->packets_since_keys = 0;
	d->iv_skip = skip;
	d->bytes_since_keys = 0;
	d->head_decrypted = 0;
	memcpy(iv, k->iv, sizeof(iv));
	iv_advance(k->cipher, iv, skip);
	r = cipher_init(&d->cipher, k->cipher, k->key, iv, encrypt);
	wipe(iv, sizeof(iv));
	if (r == 0 && k->mac != NULL)
		r = mac_init(&d->mac, k->mac, k->mac_key);
	return r;
}

void
transport_set_send_keys(struct transport *t, struct kex_keys *k)
{
	if (install_keys(&t->send, k, 1, 0) != 0)
		fatal_f("cannot install send keys");
	wipe(k, sizeof(*k));
}

void
transport_set_recv_keys(struct transport *t, struct kex_keys *k)
{
	if (install_keys(&t->recv, k, 0, 0) != 0)
		fatal_f("cannot install receive keys");
	wipe(k, sizeof(*k));
	/* The peer's NEWKEYS ends an exchange (ours went first). */
	transport_rekey_clock_start(t);
}

/*
 * Hand-over state, format 3. Per direction: cipher name, key, IV, MAC
 * name ("" for none), MAC key, compression method, sequence number,
 * packets and IV uses (GCM packets, CTR blocks) since the keys, bytes,
 * and whether the head of the input is decrypted already (CTR); after the
 * unprocessed input and output, each direction's zlib stream history.
 */

static int
export_direction(const struct direction *d, struct buf *out)
{
	int r;

	if ((r = buf_put_cstring(out, d->alg ? d->alg->name : "none")) != 0 ||
	    (r = buf_put_string(out, d->keys.key, sizeof(d->keys.key))) != 0 ||
	    (r = buf_put_string(out, d->keys.iv, sizeof(d->keys.iv))) != 0 ||
	    (r = buf_put_cstring(out, d->macalg ? d->macalg->name : "")) != 0 ||
	    (r = buf_put_string(
	         out, d->keys.mac_key, sizeof(d->keys.mac_key))) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)d->keys.comp)) != 0 ||
	    (r = buf_put_u32(out, d->seqnr)) != 0 ||
	    (r = buf_put_u64(out, d->packets_since_keys)) != 0 ||
	    (r = buf_put_u64(out, d->iv_skip)) != 0 ||
	    (r = buf_put_u64(out, d->bytes)) != 0 ||
	    (r = buf_put_bool(out, d->head_decrypted)) != 0)
		return r;
	return 0;
}

static int
import_direction(struct direction *d, struct buf *in, int encrypt)
{
	struct kex_keys k;
	const uint8_t *key, *iv, *mkey;
	size_t keylen, ivlen, mkeylen;
	char *name = NULL, *mname = NULL;
	uint64_t packets, skip;
	uint32_t comp;
	int head, r;

	memset(&k, 0, sizeof(k));
	if ((r = buf_get_cstring(in, &name, NULL)) != 0 ||
	    (r = buf_get_string_direct(in, &key, &keylen)) != 0 ||
	    (r = buf_get_string_direct(in, &iv, &ivlen)) != 0 ||
	    (r = buf_get_cstring(in, &mname, NULL)) != 0 ||
	    (r = buf_get_string_direct(in, &mkey, &mkeylen)) != 0 ||
	    (r = buf_get_u32(in, &comp)) != 0 ||
	    (r = buf_get_u32(in, &d->seqnr)) != 0 ||
	    (r = buf_get_u64(in, &packets)) != 0 ||
	    (r = buf_get_u64(in, &skip)) != 0 ||
	    (r = buf_get_u64(in, &d->bytes)) != 0 ||
	    (r = buf_get_bool(in, &head)) != 0)
		goto out;
	if (keylen != sizeof(k.key) || ivlen != sizeof(k.iv) ||
	    mkeylen != sizeof(k.mac_key) || comp > COMP_ZLIB ||
	    (k.cipher = cipher_by_name(name)) == NULL) {
		r = ERR_FORMAT;
		goto out;
	}
	/* A cipher that does not authenticate needs a MAC; AEAD none. */
	k.mac = mac_by_name(mname);
	if ((k.cipher->aead && *mname != '\0') ||
	    (!k.cipher->aead && k.mac == NULL) ||
	    (head && (encrypt || k.cipher->aead || k.mac->etm))) {
		r = ERR_FORMAT;
		goto out;
	}
	k.comp = (int)comp;
	memcpy(k.key, key, keylen);
	memcpy(k.iv, iv, ivlen);
	memcpy(k.mac_key, mkey, mkeylen);
	if ((r = install_keys(d, &k, encrypt, skip)) != 0)
		goto out;
	d->packets_since_keys = packets;
	d->head_decrypted = head;
out:
	wipe(&k, sizeof(k));
	free(name);
	free(mname);
	return r;
}

/*
 * A zlib stream travels as its history (zcomp_export): bool started, then
 * string history and string SHA-256 of its output.
 */
static int
export_zlib(struct direction *d, struct buf *out)
{
	int r;

	if (!zcomp_used(d->z))
		return buf_put_bool(out, 0);
	if ((r = buf_put_bool(out, 1)) != 0)
		return r;
	return zcomp_export(d->z, out);
}

/* The session side replays it: refused unless it matches the hash. */
static int
import_zlib(
    struct transport *t, struct direction *d, struct buf *in, int deflate)
{
	int started, r;

	if ((r = buf_get_bool(in, &started)) != 0 || !started)
		return r;
	if (!compressing(t, d))
		return ERR_FORMAT;
	return zcomp_import(&d->z, deflate, in, TRANSPORT_MAX_PAYLOAD);
}

int
transport_export(struct transport *t, struct buf *out)
{
	int r;

	if (t->kex != KEX_NONE || t->kex_count == 0 || t->building ||
	    t->held_head != NULL)
		return ERR_BAD_STATE;
	release_view(t);
	if ((r = buf_put_u32(out, TRANSPORT_STATE_VERSION)) != 0 ||
	    (r = buf_put_string(out, t->session_id, t->session_id_len)) != 0 ||
	    (r = buf_put_bool(out, t->strict)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)t->kex_count)) != 0 ||
	    (r = buf_put_cstring(out, t->peer_version)) != 0 ||
	    (r = buf_put_cstring(out, t->neg_kex ? t->neg_kex : "")) != 0 ||
	    (r = buf_put_cstring(out, t->neg_hostkey ? t->neg_hostkey : "")) !=
	        0 ||
	    (r = buf_put_bool(out, t->authenticated)) != 0 ||
	    (r = export_direction(&t->send, out)) != 0 ||
	    (r = export_direction(&t->recv, out)) != 0 ||
	    (r = buf_put_stringb(out, t->in)) != 0 ||
	    (r = buf_put_stringb(out, t->out)) != 0 ||
	    (r = export_zlib(&t->send, out)) != 0 ||
	    (r = export_zlib(&t->recv, out)) != 0)
		return r;
	return 0;
}

/* One direction of a hand-over state: its algorithms; keys are skipped. */
static int
state_direction(struct buf *in, char *name, size_t namelen, char *mac,
    size_t maclen, unsigned *bits, int *aead)
{
	const struct cipher_alg *alg;
	char *s = NULL, *m = NULL;
	uint32_t u;
	uint64_t n;
	int b, r;

	if ((r = buf_get_cstring(in, &s, NULL)) != 0 ||
	    (r = buf_skip_string(in)) != 0 || (r = buf_skip_string(in)) != 0 ||
	    (r = buf_get_cstring(in, &m, NULL)) != 0 ||
	    (r = buf_skip_string(in)) != 0 || (r = buf_get_u32(in, &u)) != 0 ||
	    (r = buf_get_u32(in, &u)) != 0 || (r = buf_get_u64(in, &n)) != 0 ||
	    (r = buf_get_u64(in, &n)) != 0 || (r = buf_get_u64(in, &n)) != 0 ||
	    (r = buf_get_bool(in, &b)) != 0)
		goto out;
	snprintf(name, namelen, "%s", s);
	alg = cipher_by_name(s);
	*bits = alg != NULL ? (unsigned)alg->key_len * 8 : 0;
	*aead = alg != NULL && alg->aead;
	snprintf(mac, maclen, "%s", *aead ? "<implicit>" : m);
out:
	free(s);
	free(m);
	return r;
}

int
transport_state_algs(const struct buf *state, struct transport_algs *a)
{
	struct buf in = *state; /* a view: keys are read in place, not copied */
	char *kex = NULL, *hostkey = NULL;
	uint32_t version, kc;
	int strict, authed, r;

	memset(a, 0, sizeof(*a));
	if ((r = buf_get_u32(&in, &version)) != 0)
		return r;
	if (version != TRANSPORT_STATE_VERSION)
		return ERR_FORMAT;
	if ((r = buf_skip_string(&in)) != 0 ||
	    (r = buf_get_bool(&in, &strict)) != 0 ||
	    (r = buf_get_u32(&in, &kc)) != 0 ||
	    (r = buf_skip_string(&in)) != 0 ||
	    (r = buf_get_cstring(&in, &kex, NULL)) != 0 ||
	    (r = buf_get_cstring(&in, &hostkey, NULL)) != 0 ||
	    (r = buf_get_bool(&in, &authed)) != 0 ||
	    (r = state_direction(&in, a->cipher_out, sizeof(a->cipher_out),
	         a->mac_out, sizeof(a->mac_out), &a->key_bits_out,
	         &a->aead_out)) != 0 ||
	    (r = state_direction(&in, a->cipher_in, sizeof(a->cipher_in),
	         a->mac_in, sizeof(a->mac_in), &a->key_bits_in, &a->aead_in)) !=
	        0)
		goto out;
	snprintf(a->kex, sizeof(a->kex), "%s", kex);
	snprintf(a->hostkey, sizeof(a->hostkey), "%s", hostkey);
out:
	free(kex);
	free(hostkey);
	return r;
}

int
transport_import(int fd, struct buf *in, const struct transport_params *p,
    struct transport **tp)
{
	struct transport *t = NULL;
	const uint8_t *sid;
	size_t sidlen;
	uint32_t version, kc;
	int r;

	*tp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_ALLOC;
	t->fd = fd;
	dup_params(t, p);
	t->version_done = 1;
	t->in = buf_new(INPUT_MAX);
	t->out = buf_new(OUTPUT_MAX);
	t->our_version = strdup(p->version);
	if (t->in == NULL || t->out == NULL || t->our_version == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_u32(in, &version)) != 0)
		goto out;
	if (version != TRANSPORT_STATE_VERSION) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = buf_get_string_direct(in, &sid, &sidlen)) != 0)
		goto out;
	if (sidlen == 0 || sidlen > sizeof(t->session_id)) {
		r = ERR_FORMAT;
		goto out;
	}
	memcpy(t->session_id, sid, sidlen);
	t->session_id_len = sidlen;
	if ((r = buf_get_bool(in, &t->strict)) != 0 ||
	    (r = buf_get_u32(in, &kc)) != 0 ||
	    (r = buf_get_cstring(in, &t->peer_version, NULL)) != 0 ||
	    (r = buf_get_cstring(in, &t->neg_kex, NULL)) != 0 ||
	    (r = buf_get_cstring(in, &t->neg_hostkey, NULL)) != 0 ||
	    (r = buf_get_bool(in, &t->authenticated)) != 0 ||
	    (r = import_direction(&t->send, in, 1)) != 0 ||
	    (r = import_direction(&t->recv, in, 0)) != 0 ||
	    (r = buf_get_stringb(in, t->in)) != 0 ||
	    (r = buf_get_stringb(in, t->out)) != 0 ||
	    (r = import_zlib(t, &t->send, in, 1)) != 0 ||
	    (r = import_zlib(t, &t->recv, in, 0)) != 0)
		goto out;
	if ((r = buf_end(in)) != 0)
		goto out;
	/* The count must fit an int with room for the rekeys to come
	 * (preauth hands over after one or two exchanges). */
	if (kc > INT_MAX / 2) {
		r = ERR_FORMAT;
		goto out;
	}
	t->kex_count = kc == 0 ? 1 : (int)kc;
	transport_rekey_clock_start(t);
	/*
	 * Plain zlib ran before authentication: the inflate window rebuilt
	 * from the history holds what the client typed to log in
	 * (passwords, codes, failed ones too). A key exchange at once
	 * starts both streams afresh, and the old ones are wiped as freed.
	 */
	if (((t->recv.z != NULL && t->recv.keys.comp == COMP_ZLIB) ||
	        (t->send.z != NULL && t->send.keys.comp == COMP_ZLIB)) &&
	    (r = kex_send_kexinit(t)) != 0)
		goto out;
	*tp = t;
	t = NULL;
out:
	transport_free(t);
	return r;
}

void
transport_set_authenticated(struct transport *t)
{
	if (t->held_head != NULL)
		t->authenticated_held = 1;
	else
		t->authenticated = 1;
}

int
transport_unimplemented(struct transport *t, uint8_t type, int in_kex)
{
	struct buf *p;
	uint32_t seq = t->recv.seqnr - 1; /* the packet's own number */
	int r;

	/* sshd's lines, at INFO. */
	if (in_kex)
		logit("kex_protocol_error: type %u seq %u", type, seq);
	else
		logit("dispatch_protocol_error: type %u seq %u", type, seq);
	if ((r = transport_packet_begin(t, SSH2_MSG_UNIMPLEMENTED, &p)) != 0 ||
	    (r = buf_put_u32(p, seq)) != 0)
		return r;
	return transport_packet_send(t);
}

int
transport_send_unimplemented(struct transport *t)
{
	return transport_unimplemented(t, t->last_type, 0);
}

void
transport_disconnect(struct transport *t, uint32_t reason, const char *fmt, ...)
{
	char msg[256];
	struct buf *b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!t->version_done)
		goto flush; /* no packet protocol yet: just close */
	if ((b = buf_new(512)) == NULL)
		goto flush;
	if (buf_put_u8(b, SSH2_MSG_DISCONNECT) == 0 &&
	    buf_put_u32(b, reason) == 0 && buf_put_cstring(b, msg) == 0 &&
	    buf_put_cstring(b, "") == 0)
		(void)transport_send_raw_payload(t, b);
	buf_free(b);
flush:
	/* Best effort: one non-blocking write of what is queued. */
	(void)transport_write(t);
}
