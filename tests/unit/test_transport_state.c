/*
 * test_transport_state.c: transport_state_algs, the monitor's reading of
 * the hand-over state (hostile: it comes from preauth) for its audit
 * records: the names it carries, cut to fit, and exact bounds checks.
 */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "transport.h"
#include "t.h"

/* One direction as transport_export writes it (format 2). */
static int
put_direction(struct buf *b, const char *cipher, const char *mac)
{
	static const unsigned char key[64], iv[64], mkey[64];
	int r;

	if ((r = buf_put_cstring(b, cipher)) != 0 ||
	    (r = buf_put_string(b, key, sizeof(key))) != 0 ||
	    (r = buf_put_string(b, iv, sizeof(iv))) != 0 ||
	    (r = buf_put_cstring(b, mac)) != 0 ||
	    (r = buf_put_string(b, mkey, sizeof(mkey))) != 0 ||
	    (r = buf_put_u32(b, 1)) != 0 || (r = buf_put_u32(b, 3)) != 0 ||
	    (r = buf_put_u64(b, 3)) != 0 || (r = buf_put_u64(b, 3)) != 0 ||
	    (r = buf_put_u64(b, 1234)) != 0 || (r = buf_put_bool(b, 0)) != 0)
		return r;
	return 0;
}

static struct buf *
state(uint32_t version, const char *kex, const char *out, const char *in)
{
	static const unsigned char sid[32] = {1};
	struct buf *b = buf_new(65536);

	if (b == NULL || buf_put_u32(b, version) != 0 ||
	    buf_put_string(b, sid, sizeof(sid)) != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_u32(b, 1) != 0 ||
	    buf_put_cstring(b, "SSH-2.0-OpenSSH_9.2") != 0 ||
	    buf_put_cstring(b, kex) != 0 ||
	    buf_put_cstring(b, "ssh-ed25519") != 0 || buf_put_bool(b, 1) != 0 ||
	    put_direction(b, out, "") != 0 ||
	    put_direction(b, in, "hmac-sha2-256-etm@openssh.com") != 0 ||
	    buf_put_string(b, "in", 2) != 0 || buf_put_string(b, "", 0) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
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
		/* Only the trailing in/out buffers may be missing. */
		if (r == 0 && n < buf_len(b) - 10)
			bad++;
		buf_free(cut);
	}
	T_CHECK("truncated states refused", bad == 0);
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
