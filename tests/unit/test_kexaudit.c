/*
 * test_kexaudit.c: the decoder of IPC_AUDIT_KEX (lib/kexaudit.c), whose
 * sender (preauth, a session) is not trusted: only names the server
 * offered get through, sizes come from the cipher table, every field is
 * checked and nothing may trail.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "kexaudit.h"
#include "tests/unit/t.h"

static const struct kexaudit_lists lists = {
    "curve25519-sha256,mlkem768x25519-sha256",
    "ssh-ed25519",
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr",
    "hmac-sha2-256-etm@openssh.com",
};

/* A report with these fields (extra appended after them). */
static struct buf *
report(uint32_t num, const char *kex, const char *hk, const char *cin,
    const char *cout, const char *min, const char *mout, int extra)
{
	struct buf *b = buf_new(4096);

	if (b == NULL || buf_put_u32(b, num) != 0 ||
	    buf_put_cstring(b, kex) != 0 || buf_put_cstring(b, hk) != 0 ||
	    buf_put_cstring(b, cin) != 0 || buf_put_cstring(b, cout) != 0 ||
	    buf_put_cstring(b, min) != 0 || buf_put_cstring(b, mout) != 0 ||
	    (extra && buf_put_u8(b, 0) != 0)) {
		buf_free(b);
		return NULL;
	}
	return b;
}

static int
decode(struct buf *b, uint32_t *num, struct transport_algs *a)
{
	int r = b == NULL ? ERR_ALLOC : kexaudit_decode(b, &lists, num, a);

	buf_free(b);
	return r;
}

int
main(void)
{
	struct transport_algs a;
	uint32_t num = 0;
	char longname[200];

	T_CHECK("good report",
	    decode(report(1, "curve25519-sha256", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "aes256-gcm@openssh.com", "", "", 0),
	        &num, &a) == 0 &&
	        num == 1 && strcmp(a.kex, "curve25519-sha256") == 0 &&
	        strcmp(a.hostkey, "ssh-ed25519") == 0 &&
	        strcmp(a.cipher_in, "chacha20-poly1305@openssh.com") == 0 &&
	        strcmp(a.cipher_out, "aes256-gcm@openssh.com") == 0 &&
	        a.aead_in && a.aead_out && a.key_bits_in == 512 &&
	        a.key_bits_out == 256);
	T_CHECK("a cipher with a MAC",
	    decode(report(2, "mlkem768x25519-sha256", "ssh-ed25519",
	               "aes128-ctr", "chacha20-poly1305@openssh.com",
	               "hmac-sha2-256-etm@openssh.com", "", 0),
	        &num, &a) == 0 &&
	        num == 2 && !a.aead_in && a.aead_out &&
	        strcmp(a.mac_in, "hmac-sha2-256-etm@openssh.com") == 0 &&
	        strcmp(a.mac_out, "<implicit>") == 0 && a.key_bits_in == 128);
	T_CHECK("a cipher without its MAC",
	    decode(
	        report(2, "mlkem768x25519-sha256", "ssh-ed25519", "aes128-ctr",
	            "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("a MAC not offered",
	    decode(
	        report(2, "mlkem768x25519-sha256", "ssh-ed25519", "aes128-ctr",
	            "chacha20-poly1305@openssh.com", "hmac-sha1", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("exchange number 0 refused",
	    decode(report(0, "curve25519-sha256", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("kex not offered",
	    decode(report(1, "diffie-hellman-group1-sha1", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("a prefix of an offered name is not that name",
	    decode(report(1, "curve25519", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("a list is not a name",
	    decode(report(1, "curve25519-sha256,mlkem768x25519-sha256",
	               "ssh-ed25519", "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("host key not offered",
	    decode(report(1, "curve25519-sha256", "ssh-rsa",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("cipher not offered",
	    decode(report(1, "curve25519-sha256", "ssh-ed25519",
	               "aes128-gcm@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("a MAC with an AEAD cipher",
	    decode(report(1, "curve25519-sha256", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com",
	               "hmac-sha2-256-etm@openssh.com", "", 0),
	        &num, &a) == ERR_FORMAT);
	T_CHECK("trailing bytes",
	    decode(report(1, "curve25519-sha256", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 1),
	        &num, &a) != 0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_CHECK("an over-long name",
	    decode(report(1, longname, "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) != 0);
	T_CHECK("a control character cannot pass (not offered)",
	    decode(report(1, "curve25519-sha256\n", "ssh-ed25519",
	               "chacha20-poly1305@openssh.com",
	               "chacha20-poly1305@openssh.com", "", "", 0),
	        &num, &a) == ERR_FORMAT);
	{
		struct buf *b = buf_new(16);

		T_CHECK("truncated",
		    b != NULL && buf_put_u32(b, 1) == 0 &&
		        decode(b, &num, &a) != 0);
	}
	return T_DONE();
}
