/*
 * test_transport_state.c: transport_state_algs, the monitor's reading of
 * the hand-over state (hostile: it comes from preauth) for its audit
 * records: the names it carries, cut to fit, and exact bounds checks;
 * transport_import of a zlib stream's history (format 3): one that replays
 * to its hash is taken, a mismatch or a stream the negotiated compression
 * does not allow is refused; an exchange count an int cannot hold (with
 * room for rekeys) is refused; transport_bytes counts packets without
 * their MAC or AEAD tag, as sshd's "Transferred:" line.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "transport.h"
#include "t.h"
#include "zcomp.h"

/* One direction as transport_export writes it (format 3). */
static int
put_direction(struct buf *b, const char *cipher, const char *mac, int comp)
{
	static const unsigned char key[64], iv[64], mkey[64];
	int r;

	if ((r = buf_put_cstring(b, cipher)) != 0 ||
	    (r = buf_put_string(b, key, sizeof(key))) != 0 ||
	    (r = buf_put_string(b, iv, sizeof(iv))) != 0 ||
	    (r = buf_put_cstring(b, mac)) != 0 ||
	    (r = buf_put_string(b, mkey, sizeof(mkey))) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)comp)) != 0 ||
	    (r = buf_put_u32(b, 3)) != 0 || (r = buf_put_u64(b, 3)) != 0 ||
	    (r = buf_put_u64(b, 3)) != 0 || (r = buf_put_u64(b, 1234)) != 0 ||
	    (r = buf_put_bool(b, 0)) != 0)
		return r;
	return 0;
}

/* What comes before the directions: a new buffer, or NULL. */
static struct buf *
state_head(uint32_t version, const char *kex)
{
	static const unsigned char sid[32] = {1};
	struct buf *b = buf_new(65536);

	if (b == NULL || buf_put_u32(b, version) != 0 ||
	    buf_put_string(b, sid, sizeof(sid)) != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_u32(b, 1) != 0 ||
	    buf_put_cstring(b, "SSH-2.0-OpenSSH_9.2") != 0 ||
	    buf_put_cstring(b, kex) != 0 ||
	    buf_put_cstring(b, "ssh-ed25519") != 0 || buf_put_bool(b, 1) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

/*
 * A state with compression comp both ways; ztail: the zlib histories (NULL:
 * no stream started either way).
 */
static struct buf *
state_z(uint32_t version, const char *kex, const char *out, const char *in,
    int comp, const struct buf *ztail)
{
	struct buf *b = state_head(version, kex);

	if (b == NULL || put_direction(b, out, "", comp) != 0 ||
	    put_direction(b, in, "hmac-sha2-256-etm@openssh.com", comp) != 0 ||
	    buf_put_string(b, "in", 2) != 0 || buf_put_string(b, "", 0) != 0 ||
	    (ztail == NULL &&
	        (buf_put_bool(b, 0) != 0 || buf_put_bool(b, 0) != 0)) ||
	    (ztail != NULL &&
	        buf_put(b, buf_ptr(ztail), buf_len(ztail)) != 0)) {
		buf_free(b);
		return NULL;
	}
	return b;
}

static struct buf *
state(uint32_t version, const char *kex, const char *out, const char *in)
{
	return state_z(version, kex, out, in, 1, NULL);
}

/*
 * The zlib part of a state: a send stream's history after a few packets
 * (its hash byte flipped if bad), no receive stream.
 */
static struct buf *
zlib_tail(int bad)
{
	struct zcomp *z = NULL;
	struct buf *c = buf_new(65536), *t = buf_new(65536);
	static const char msg[] = "SSH_MSG_USERAUTH_REQUEST with a password";
	int k, ok;

	ok = c != NULL && t != NULL && zcomp_new(&z, 1) == 0 &&
	    zcomp_record(z, 65536) == 0;
	for (k = 0; ok && k < 5; k++)
		ok =
		    zcomp_deflate(z, (const uint8_t *)msg, sizeof(msg), c) == 0;
	ok = ok && buf_put_bool(t, 1) == 0 && zcomp_export(z, t) == 0 &&
	    buf_put_bool(t, 0) == 0;
	if (ok && bad)
		buf_mutable_ptr(t)[buf_len(t) - 2] ^= 1; /* last hash byte */
	zcomp_free(z);
	buf_free(c);
	if (!ok) {
		buf_free(t);
		return NULL;
	}
	return t;
}

/* transport_import of a state with zlib histories. */
static int
import_z(int comp, int bad)
{
	struct transport_params p;
	struct transport *t = NULL;
	struct buf *z = zlib_tail(bad), *b;
	int r;

	memset(&p, 0, sizeof(p));
	p.version = "SSH-2.0-OpenSSH_9.2";
	/* A plain zlib import starts a key exchange (its KEXINIT). */
	p.kex_algs = "curve25519-sha256";
	p.hostkey_algs = "ssh-ed25519";
	p.ciphers = "aes128-gcm@openssh.com,aes256-ctr";
	p.macs = "hmac-sha2-256-etm@openssh.com";
	p.compression = "zlib";
	b = state_z(TRANSPORT_STATE_VERSION, "curve25519-sha256",
	    "aes128-gcm@openssh.com", "aes256-ctr", comp, z);
	r = b != NULL ? transport_import(-1, b, &p, &t) : ERR_ALLOC;
	if ((r == 0) != (t != NULL))
		r = ERR_INTERNAL;
	/* Plain zlib ran before authentication: the session rekeys at once
	 * (its KEXINIT waits to go out); zlib@openssh.com did not run. */
	if (r == 0 && (transport_output_pending(t) > 0) != (comp == 2))
		r = ERR_INTERNAL;
	transport_free(t);
	buf_free(b);
	buf_free(z);
	return r;
}

/* transport_import of a state whose exchange count is kc. */
static int
import_count(uint32_t kc)
{
	struct transport_params p;
	struct transport *t = NULL;
	struct buf *b;
	uint8_t *q;
	int r;

	memset(&p, 0, sizeof(p));
	p.version = "SSH-2.0-OpenSSH_9.2";
	b = state(TRANSPORT_STATE_VERSION, "curve25519-sha256",
	    "aes128-gcm@openssh.com", "aes256-ctr");
	if (b == NULL)
		return ERR_ALLOC;
	/* u32 version, string session id (32), bool strict, then the count */
	q = buf_mutable_ptr(b) + 4 + 4 + 32 + 1;
	q[0] = (uint8_t)(kc >> 24);
	q[1] = (uint8_t)(kc >> 16);
	q[2] = (uint8_t)(kc >> 8);
	q[3] = (uint8_t)kc;
	r = transport_import(-1, b, &p, &t);
	if ((r == 0) != (t != NULL))
		r = ERR_INTERNAL;
	transport_free(t);
	buf_free(b);
	return r;
}

/* A state whose both directions use cipher and mac, no compression. */
static struct buf *
state_sym(const char *cipher, const char *mac)
{
	struct buf *b =
	    state_head(TRANSPORT_STATE_VERSION, "curve25519-sha256");

	if (b == NULL || put_direction(b, cipher, mac, 0) != 0 ||
	    put_direction(b, cipher, mac, 0) != 0 ||
	    buf_put_string(b, "", 0) != 0 || buf_put_string(b, "", 0) != 0 ||
	    buf_put_bool(b, 0) != 0 || buf_put_bool(b, 0) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

/*
 * transport_bytes, sshd's "Transferred:" totals: one packet each way on
 * top of the 1234 bytes the state carries, as on the wire less its tag
 * (taglen). Both ends have the same keys, so one reads what the other
 * sends.
 */
static int
bytes_counted(const char *cipher, const char *mac, size_t taglen)
{
	struct transport_params p;
	struct transport *a = NULL, *b = NULL;
	struct buf *sa = state_sym(cipher, mac), *sb = state_sym(cipher, mac);
	struct buf *m, *got;
	uint64_t in, out, bin, bout;
	uint8_t wire[1024], type = 0;
	ssize_t n = -1;
	int sv[2] = {-1, -1}, ok = 0;

	memset(&p, 0, sizeof(p));
	p.version = "SSH-2.0-OpenSSH_9.2";
	if (sa == NULL || sb == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    transport_import(sv[0], sa, &p, &a) != 0 ||
	    transport_import(sv[1], sb, &p, &b) != 0)
		goto out;
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (transport_packet_begin(a, SSH2_MSG_REQUEST_FAILURE, &m) != 0 ||
	    buf_put_cstring(m, "sshd counts these bytes") != 0 ||
	    transport_packet_send(a) != 0 || transport_write(a) != 0 ||
	    transport_output_pending(a) != 0)
		goto out;
	n = recv(sv[1], wire, sizeof(wire), MSG_PEEK);
	if (n <= (ssize_t)taglen || transport_read(b) != 0 ||
	    transport_next_packet(b, &type, &got) != 0 ||
	    type != SSH2_MSG_REQUEST_FAILURE)
		goto out;
	transport_bytes(a, &in, &out);
	transport_bytes(b, &bin, &bout);
	ok = out == 1234 + (uint64_t)n - taglen && in == 1234 &&
	    bin == 1234 + (uint64_t)n - taglen && bout == 1234;
out:
	transport_free(a);
	transport_free(b);
	buf_free(sa);
	buf_free(sb);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return ok;
}

static void
test_bytes(void)
{
	T_CHECK("bytes: aes128-ctr, hmac-sha2-256 not counted",
	    bytes_counted("aes128-ctr", "hmac-sha2-256", 32));
	T_CHECK("bytes: -etm's tag not counted",
	    bytes_counted("aes256-ctr", "hmac-sha2-512-etm@openssh.com", 64));
	T_CHECK("bytes: AES-GCM's tag not counted",
	    bytes_counted("aes128-gcm@openssh.com", "", 16));
	T_CHECK("bytes: chacha20-poly1305's tag not counted",
	    bytes_counted("chacha20-poly1305@openssh.com", "", 16));
}

static void
test_count_import(void)
{
	T_CHECK("exchange count 2 imported", import_count(2) == 0);
	T_CHECK("exchange count past an int refused",
	    import_count(0x80000000u) == ERR_FORMAT);
	T_CHECK("exchange count INT_MAX refused (it would overflow)",
	    import_count(0x7fffffffu) == ERR_FORMAT);
}

static void
test_zlib_import(void)
{
	T_CHECK("zlib history with compression none refused",
	    import_z(0, 0) == ERR_FORMAT);
	T_CHECK("zlib history replays (zlib), a KEXINIT queued",
	    import_z(2, 0) == 0);
	T_CHECK("zlib history replays (zlib@openssh.com, after auth)",
	    import_z(1, 0) == 0);
	T_CHECK(
	    "zlib history: replay mismatch refused", import_z(2, 1) == ERR_MAC);
	T_CHECK("zlib history: unknown compression refused",
	    import_z(3, 0) == ERR_FORMAT);
}

int
main(void)
{
	struct transport_algs a;
	struct buf *b, *cut;
	char longname[300];
	size_t n;
	int r, bad = 0;

	b = state(TRANSPORT_STATE_VERSION, "curve25519-sha256",
	    "chacha20-poly1305@openssh.com", "aes256-ctr");
	T_CHECK("state built", b != NULL);
	if (b == NULL)
		return T_DONE();
	T_CHECK("parses", transport_state_algs(b, &a) == 0);
	T_CHECK("kex", strcmp(a.kex, "curve25519-sha256") == 0);
	T_CHECK("hostkey", strcmp(a.hostkey, "ssh-ed25519") == 0);
	T_CHECK("cipher out",
	    strcmp(a.cipher_out, "chacha20-poly1305@openssh.com") == 0);
	T_CHECK("cipher in", strcmp(a.cipher_in, "aes256-ctr") == 0);
	T_CHECK("chacha key bits (two keys)", a.key_bits_out == 512);
	T_CHECK("aes256 key bits", a.key_bits_in == 256);
	T_CHECK("aead out, not in", a.aead_out == 1 && a.aead_in == 0);
	T_CHECK("mac out implicit", strcmp(a.mac_out, "<implicit>") == 0);
	T_CHECK(
	    "mac in", strcmp(a.mac_in, "hmac-sha2-256-etm@openssh.com") == 0);
	T_CHECK("state left unread", buf_len(b) > 0);

	/* Every truncation is an error, never a read past the end. */
	for (n = 0; n < buf_len(b); n++) {
		cut = buf_from(buf_ptr(b), n);
		r = cut != NULL ? transport_state_algs(cut, &a) : ERR_ALLOC;
		/* Only the trailing in/out buffers and zlib parts may be
		 * missing. */
		if (r == 0 && n < buf_len(b) - 12)
			bad++;
		buf_free(cut);
	}
	T_CHECK("truncated states refused", bad == 0);
	test_zlib_import();
	test_count_import();
	test_bytes();
	buf_free(b);

	b = state(1, "curve25519-sha256", "aes128-gcm@openssh.com",
	    "aes128-gcm@openssh.com");
	T_CHECK("other version refused",
	    b != NULL && transport_state_algs(b, &a) == ERR_FORMAT);
	buf_free(b);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	b = state(
	    TRANSPORT_STATE_VERSION, longname, longname, "no such cipher");
	T_CHECK("hostile names parse",
	    b != NULL && transport_state_algs(b, &a) == 0);
	T_CHECK("names cut to fit",
	    strlen(a.kex) == sizeof(a.kex) - 1 &&
	        strlen(a.cipher_out) == sizeof(a.cipher_out) - 1);
	T_CHECK("unknown cipher: no key size, no aead",
	    a.key_bits_in == 0 && a.aead_in == 0);
	buf_free(b);
	return T_DONE();
}
