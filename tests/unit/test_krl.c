/*
 * test_krl.c: RevokedKeys: KRLs made by ssh-keygen -k give the same
 * verdicts as ssh-keygen -Q for every fixture key and certificate; text
 * lists; hand-built KRLs for each section type and for malformed files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "krl.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "tests/unit/cert_fixtures.h"
#include "tests/unit/t.h"

#define KRL_HEADER_LEN (8 + 4 + 8 + 8 + 8 + 4 + 4)

static const char *
find(const struct fx_item *items, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(items[i].name, name) == 0)
			return items[i].text;
	return NULL;
}

/* A fixture key or certificate by name: exactly one of *kp, *cp is set. */
static int
item(const char *name, struct sshkey **kp, struct sshcert **cp)
{
	const char *t;

	*kp = NULL;
	*cp = NULL;
	if ((t = find(fx_keys, FX_NKEYS, name)) != NULL)
		return sshkey_parse_public_text(t, kp, NULL);
	if ((t = find(fx_certs, FX_NCERTS, name)) != NULL)
		return sshcert_parse_text(t, cp, NULL);
	fprintf(stderr, "no fixture %s\n", name);
	exit(2);
}

static int
check_item(const struct krl *krl, const char *name)
{
	struct sshkey *k;
	struct sshcert *c;
	int r;

	if ((r = item(name, &k, &c)) != 0)
		return r;
	r = krl_check_key(krl, k, c);
	sshkey_free(k);
	sshcert_free(c);
	return r;
}

static struct buf *
krl_bytes(const char *name)
{
	const char *hex = find(fx_krls, FX_NKRLS, name);
	struct buf *b;
	uint8_t *p;
	size_t n;

	if (hex == NULL || (b = buf_new(strlen(hex) / 2 + 1)) == NULL ||
	    buf_reserve(b, strlen(hex) / 2, &p) != 0)
		exit(2);
	n = t_hex(hex, p, strlen(hex) / 2);
	if (n != strlen(hex) / 2)
		exit(2);
	return b;
}

static struct krl *
load_fixture(const char *name)
{
	struct buf *b = krl_bytes(name);
	struct krl *krl = NULL;

	if (krl_from_bytes(buf_ptr(b), buf_len(b), &krl) != 0)
		krl = NULL;
	buf_free(b);
	return krl;
}

static void
test_fixtures(void)
{
	struct krl *krl;
	size_t i, bad = 0;
	int r;
	char name[160];

	for (i = 0; i < FX_NKRLS; i++) {
		krl = load_fixture(fx_krls[i].name);
		snprintf(name, sizeof(name), "ssh-keygen KRL %s parses",
		    fx_krls[i].name);
		T_CHECK(name, krl != NULL && krl_is_binary(krl));
		krl_free(krl);
	}
	for (i = 0; i < FX_NVERDICTS; i++) {
		krl = load_fixture(fx_verdicts[i].krl);
		r = krl == NULL ? ERR_INTERNAL
		                : check_item(krl, fx_verdicts[i].item);
		snprintf(name, sizeof(name), "%s %s: %s as ssh-keygen -Q says",
		    fx_verdicts[i].krl, fx_verdicts[i].item,
		    fx_verdicts[i].revoked ? "REVOKED" : "ok");
		if (fx_verdicts[i].revoked)
			T_CHECK(name, r == ERR_PERM);
		else
			T_CHECK(name, r == 0);
		if (r != (fx_verdicts[i].revoked ? ERR_PERM : 0))
			bad++;
		krl_free(krl);
	}
	T_CHECK("every ssh-keygen -Q verdict matched", bad == 0);
}

static char tmpdir[] = "/tmp/test_krl.XXXXXX";

static char *
write_file(const char *name, const void *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		exit(2);
	return path;
}

static void
cleanup(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/krl", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

static void
test_load(void)
{
	struct buf *b = krl_bytes("krl_ca");
	struct krl *krl = NULL;
	char *path;

	path = write_file("krl", buf_ptr(b), buf_len(b));
	T_CHECK("krl_load: binary KRL",
	    krl_load(path, &krl) == 0 && krl_is_binary(krl));
	T_CHECK("krl_load: revokes serial 1001",
	    krl != NULL && check_item(krl, "ed_full") == ERR_PERM &&
	        check_item(krl, "serial1601") == 0);
	krl_free(krl);
	krl = NULL;
	buf_free(b);

	errno = 0;
	T_CHECK("krl_load: missing file is an error",
	    krl_load("/nonexistent/revoked", &krl) == ERR_SYSTEM &&
	        errno == ENOENT && krl == NULL);
	T_CHECK("krl_load: directory is an error",
	    krl_load(tmpdir, &krl) == ERR_SYSTEM && krl == NULL);
	path = write_file("empty", "", 0);
	T_CHECK("krl_load: empty file revokes nothing",
	    krl_load(path, &krl) == 0 && !krl_is_binary(krl) &&
	        check_item(krl, "u_ed") == 0 &&
	        check_item(krl, "ed_full") == 0);
	krl_free(krl);
	krl = NULL;
	if (getuid() != 0) {
		chmod(path, 0);
		T_CHECK("krl_load: unreadable file is an error",
		    krl_load(path, &krl) == ERR_SYSTEM);
	}
	T_CHECK("krl_load: /dev/null revokes nothing",
	    krl_load("/dev/null", &krl) == 0 && check_item(krl, "u_ed") == 0);
	krl_free(krl);
}

static struct krl *
text_krl(const char *text)
{
	struct krl *krl = NULL;

	if (krl_from_bytes((const uint8_t *)text, strlen(text), &krl) != 0)
		return NULL;
	return krl;
}

static void
test_text(void)
{
	struct krl *krl;
	char *text;
	size_t len;

	len = strlen(find(fx_keys, FX_NKEYS, "u_ec521")) +
	    strlen(find(fx_keys, FX_NKEYS, "ca_rsa")) +
	    strlen(find(fx_certs, FX_NCERTS, "forever")) + 256;
	text = malloc(len);
	snprintf(text, len,
	    "# revoked keys\n\n   \t\n  %s\r\n%s\n\t# a comment\n%s\n",
	    find(fx_keys, FX_NKEYS, "u_ec521"),
	    find(fx_keys, FX_NKEYS, "ca_rsa"),
	    find(fx_certs, FX_NCERTS, "forever"));
	krl = text_krl(text);
	T_CHECK("text list parses", krl != NULL && !krl_is_binary(krl));
	T_CHECK("text: listed key revoked",
	    krl != NULL && check_item(krl, "u_ec521") == ERR_PERM);
	T_CHECK("text: listed CA key revoked",
	    krl != NULL && check_item(krl, "ca_rsa") == ERR_PERM);
	T_CHECK("text: certificate of a listed key revoked",
	    krl != NULL && check_item(krl, "ec521_edca") == ERR_PERM);
	T_CHECK("text: certificates signed by a listed CA revoked",
	    krl != NULL && check_item(krl, "ec256_rsaca") == ERR_PERM &&
	        check_item(krl, "rsa_sha256") == ERR_PERM &&
	        check_item(krl, "serial5004rsa") == ERR_PERM);
	T_CHECK("text: a certificate line revokes its key",
	    krl != NULL && check_item(krl, "u_other") == ERR_PERM);
	T_CHECK("text: other keys and certificates pass",
	    krl != NULL && check_item(krl, "u_ed") == 0 &&
	        check_item(krl, "u_rsa") == 0 &&
	        check_item(krl, "ca_ed") == 0 &&
	        check_item(krl, "ed_full") == 0 &&
	        check_item(krl, "rsa_ecca") == 0 &&
	        check_item(krl, "serial1600") == 0);
	krl_free(krl);
	free(text);

	krl = text_krl("# only a comment\n\n");
	T_CHECK("text: comments only revoke nothing",
	    krl != NULL && check_item(krl, "u_ed") == 0);
	krl_free(krl);
	/* DSA is a key type OpenSSH reads and postern does not. */
	krl = text_krl("ssh-dss AAAAB3NzaC1kc3MAAAABAQAAAAECAAAAAQMAAAABBA== "
	               "dsa\n");
	T_CHECK("text: foreign key type tolerated",
	    krl != NULL && check_item(krl, "u_ed") == 0);
	krl_free(krl);
	krl = NULL;
	T_CHECK("text: foreign type whose blob names another type",
	    text_krl(
	        "ssh-dss AAAAC3NzaC1lZDI1NTE5AAAAIF/mS1penhMEXsUSdnLYTm+IQf"
	        "CAJD9ww/SfeZxAVSgu\n") == NULL);
	T_CHECK("text: garbage line is an error",
	    text_krl("# fine\nnot a key\n") == NULL);
	T_CHECK("text: unknown key type is an error",
	    text_krl("ssh-foo AAAA\n") == NULL);
	T_CHECK("text: bad base64 is an error",
	    text_krl("ssh-ed25519 AAAA!!!!\n") == NULL);
	T_CHECK("text: options prefix is an error",
	    text_krl("no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/mS1penhMEX"
	             "sUSdnLYTm+IQfCAJD9ww/SfeZxAVSgu\n") == NULL);
	T_CHECK("text: NUL byte is an error",
	    krl_from_bytes((const uint8_t *)"#\0\n", 3, &krl) == ERR_FORMAT);
	{
		/* A certificate whose signature was tampered with. */
		char *bad = strdup(find(fx_certs, FX_NCERTS, "forever"));
		size_t n = strcspn(bad + 33, " ") + 33;

		bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
		T_CHECK("text: bad certificate line is an error",
		    text_krl(bad) == NULL);
		free(bad);
	}
}

/* Hand-built KRLs (PROTOCOL.krl). */
static struct buf *
krl_new_buf(void)
{
	struct buf *b = buf_new(0);

	buf_put(b, "SSHKRL\n", 8);
	buf_put_u32(b, 1);
	buf_put_u64(b, 1);
	buf_put_u64(b, 1700000000);
	buf_put_u64(b, 0);
	buf_put_string(b, NULL, 0);
	buf_put_cstring(b, "test");
	return b;
}

static void
put_section(struct buf *b, uint8_t type, const struct buf *data)
{
	buf_put_u8(b, type);
	buf_put_stringb(b, data);
}

static struct buf *
key_blob(const char *name)
{
	struct sshkey *k = NULL;
	struct buf *b = buf_new(0);

	if (sshkey_parse_public_text(find(fx_keys, FX_NKEYS, name), &k, NULL) !=
	    0)
		exit(2);
	sshkey_to_blob(k, b);
	sshkey_free(k);
	return b;
}

/* A certificates section: CA blob (NULL: any CA) and one subsection. */
static struct buf *
cert_section(const struct buf *ca, uint8_t sub, const struct buf *data)
{
	struct buf *s = buf_new(0);

	if (ca != NULL)
		buf_put_stringb(s, ca);
	else
		buf_put_string(s, NULL, 0);
	buf_put_string(s, NULL, 0);
	if (data != NULL)
		put_section(s, sub, data);
	return s;
}

/* Parse a hand-built KRL; returns its krl_from_bytes() code. */
static int
built(struct buf *b, struct krl **krlp)
{
	int r = krl_from_bytes(buf_ptr(b), buf_len(b), krlp);

	buf_free(b);
	return r;
}

/* A one-section KRL with the given body: returns the parse code. */
static int
one_section(uint8_t type, struct buf *data)
{
	struct buf *b = krl_new_buf();
	struct krl *krl = NULL;
	int r;

	put_section(b, type, data);
	buf_free(data);
	r = built(b, &krl);
	krl_free(krl);
	return r;
}

static int
one_cert_subsection(const char *ca, uint8_t sub, struct buf *data)
{
	struct buf *cab = ca != NULL ? key_blob(ca) : NULL;
	int r;

	r = one_section(1, cert_section(cab, sub, data));
	buf_free(cab);
	buf_free(data);
	return r;
}

static struct buf *
u64s(uint64_t a, uint64_t b, int n)
{
	struct buf *d = buf_new(0);

	buf_put_u64(d, a);
	if (n > 1)
		buf_put_u64(d, b);
	return d;
}

static void
test_built_sections(void)
{
	struct buf *b, *d, *s, *ca, *k;
	struct krl *krl = NULL;
	uint8_t bits[4];

	b = krl_new_buf();
	T_CHECK("built: header only",
	    built(b, &krl) == 0 && krl != NULL && krl_is_binary(krl) &&
	        check_item(krl, "ed_full") == 0);
	krl_free(krl);
	krl = NULL;

	/* Any-CA section revoking a key id. */
	b = krl_new_buf();
	d = buf_new(0);
	buf_put_cstring(d, "id-ec521");
	s = cert_section(NULL, 0x23, d);
	put_section(b, 1, s);
	buf_free(d);
	buf_free(s);
	T_CHECK("built: any-CA key id",
	    built(b, &krl) == 0 && check_item(krl, "ec521_edca") == ERR_PERM &&
	        check_item(krl, "ed_full") == 0 &&
	        check_item(krl, "u_ec521") == 0);
	krl_free(krl);
	krl = NULL;

	/* Bitmap: offset 9000, bits 29 and 31 -> serials 9029 and 9031. */
	b = krl_new_buf();
	d = buf_new(0);
	buf_put_u64(d, 9000);
	bits[0] = 0xa0;
	bits[1] = 0x00;
	bits[2] = 0x00;
	bits[3] = 0x00;
	buf_put_mpint_bytes(d, bits, 4);
	ca = key_blob("ca_ed");
	s = cert_section(ca, 0x22, d);
	put_section(b, 1, s);
	buf_free(d);
	buf_free(s);
	T_CHECK("built: serial bitmap",
	    built(b, &krl) == 0 && check_item(krl, "serial9029") == ERR_PERM &&
	        check_item(krl, "serial12288") == 0 &&
	        check_item(krl, "ed_full") == 0);
	krl_free(krl);
	krl = NULL;

	/* Same CA's serial list under another CA's section does not apply. */
	b = krl_new_buf();
	d = u64s(5004, 0, 1);
	s = cert_section(ca, 0x20, d);
	put_section(b, 1, s);
	buf_free(d);
	buf_free(s);
	T_CHECK("built: serial revokes only under its CA",
	    built(b, &krl) == 0 && check_item(krl, "serial5004") == ERR_PERM &&
	        check_item(krl, "serial5004rsa") == 0);
	krl_free(krl);
	krl = NULL;

	/* Overlapping ranges and an open-ended one merge correctly. */
	b = krl_new_buf();
	s = buf_new(0);
	buf_put_stringb(s, ca);
	buf_put_string(s, NULL, 0);
	d = u64s(1000, 1500, 2);
	put_section(s, 0x21, d);
	buf_free(d);
	d = u64s(1400, 1550, 2);
	put_section(s, 0x21, d);
	buf_free(d);
	d = u64s(9029, UINT64_MAX, 2);
	put_section(s, 0x21, d);
	buf_free(d);
	d = u64s(12288, UINT64_MAX, 2);
	put_section(s, 0x21, d);
	buf_free(d);
	put_section(b, 1, s);
	buf_free(s);
	T_CHECK("built: overlapping ranges",
	    built(b, &krl) == 0 && check_item(krl, "serial1550") == ERR_PERM &&
	        check_item(krl, "ed_full") == ERR_PERM &&
	        check_item(krl, "serial1600") == 0 &&
	        check_item(krl, "serial9029") == ERR_PERM &&
	        check_item(krl, "serial12288") == ERR_PERM &&
	        check_item(krl, "serial5004") == 0 &&
	        check_item(krl, "forever") == 0);
	krl_free(krl);
	krl = NULL;

	/* Explicit keys, SHA1 and SHA256 of the CA: its certs are revoked. */
	b = krl_new_buf();
	d = buf_new(0);
	k = key_blob("ca_ec");
	buf_put_stringb(d, k);
	buf_put_string(d, NULL, 0);
	put_section(b, 2, d);
	buf_free(d);
	buf_free(k);
	T_CHECK("built: explicit CA key",
	    built(b, &krl) == 0 && check_item(krl, "rsa_ecca") == ERR_PERM &&
	        check_item(krl, "ca_ec") == ERR_PERM &&
	        check_item(krl, "u_rsa") == 0);
	krl_free(krl);
	krl = NULL;
	{
		uint8_t md[DIGEST_MAX_LEN];

		b = krl_new_buf();
		k = key_blob("ca_ed");
		d = buf_new(0);
		digest_memory(DIGEST_SHA1, buf_ptr(k), buf_len(k), md);
		buf_put_string(d, md, 20);
		put_section(b, 3, d);
		buf_free(d);
		T_CHECK("built: SHA1 of the CA",
		    built(b, &krl) == 0 &&
		        check_item(krl, "ed_full") == ERR_PERM &&
		        check_item(krl, "ec256_rsaca") == 0);
		krl_free(krl);
		krl = NULL;
		b = krl_new_buf();
		d = buf_new(0);
		digest_memory(DIGEST_SHA256, buf_ptr(k), buf_len(k), md);
		buf_put_string(d, md, 32);
		put_section(b, 5, d);
		buf_free(d);
		T_CHECK("built: SHA256 of the CA",
		    built(b, &krl) == 0 &&
		        check_item(krl, "serial1600") == ERR_PERM &&
		        check_item(krl, "u_ed") == 0);
		krl_free(krl);
		krl = NULL;
		buf_free(k);
	}

	/* Non-critical extensions are skipped; critical ones refused. */
	b = krl_new_buf();
	d = buf_new(0);
	buf_put_cstring(d, "bloom-explicit-key");
	buf_put_bool(d, 0);
	buf_put_cstring(d, "contents");
	put_section(b, 255, d);
	buf_free(d);
	d = buf_new(0);
	buf_put_cstring(d, "cert-bloom-key-id");
	buf_put_bool(d, 0);
	buf_put_string(d, NULL, 0);
	s = cert_section(ca, 0x39, d);
	buf_free(d);
	d = u64s(1001, 0, 1);
	put_section(s, 0x20, d);
	buf_free(d);
	put_section(b, 1, s);
	buf_free(s);
	T_CHECK("built: non-critical extensions ignored",
	    built(b, &krl) == 0 && check_item(krl, "ed_full") == ERR_PERM);
	krl_free(krl);
	krl = NULL;
	d = buf_new(0);
	buf_put_cstring(d, "must-understand@example.com");
	buf_put_bool(d, 1);
	buf_put_string(d, NULL, 0);
	T_CHECK("built: critical extension refused",
	    one_section(255, d) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_cstring(d, "must-understand@example.com");
	buf_put_bool(d, 1);
	buf_put_string(d, NULL, 0);
	T_CHECK("built: critical certificate extension refused",
	    one_cert_subsection("ca_ed", 0x39, d) == ERR_FORMAT);

	/* A DSA CA (a type OpenSSH knows) is kept; garbage is refused. */
	b = krl_new_buf();
	d = buf_new(0);
	buf_put_cstring(d, "ssh-dss");
	buf_put_string(d, "\x01", 1);
	s = cert_section(d, 0x20, NULL);
	put_section(b, 1, s);
	buf_free(d);
	buf_free(s);
	T_CHECK("built: DSA CA section tolerated", built(b, &krl) == 0);
	krl_free(krl);
	krl = NULL;
	d = buf_new(0);
	buf_put_cstring(d, "ssh-foo");
	T_CHECK("built: unknown CA key type refused",
	    one_section(1, cert_section(d, 0x20, NULL)) == ERR_FORMAT);
	buf_free(d);
	d = key_blob("ca_ed");
	buf_put_u8(d, 0);
	T_CHECK("built: CA key with trailing byte refused",
	    one_section(1, cert_section(d, 0x20, NULL)) == ERR_FORMAT);
	buf_free(d);
	buf_free(ca);
}

static void
test_malformed(void)
{
	struct buf *b, *d;
	struct krl *krl = NULL;
	uint8_t bit = 0x01;

	b = krl_new_buf();
	buf_put_u8(b, 2);
	T_CHECK("malformed: section type without body",
	    built(b, &krl) == ERR_SHORT);
	b = buf_new(0);
	buf_put(b, "SSHKRL\n", 8);
	buf_put_u32(b, 2);
	T_CHECK("malformed: format version 2", built(b, &krl) == ERR_FORMAT);
	b = buf_new(0);
	buf_put(b, "SSHKRL\n", 8);
	buf_put_u32(b, 1);
	T_CHECK("malformed: truncated header", built(b, &krl) == ERR_SHORT);
	b = buf_new(0);
	buf_put(b, "SSHKRL\n", 8);
	buf_put_u32(b, 1);
	buf_put_u64(b, 0);
	buf_put_u64(b, 0);
	buf_put_u64(b, 0);
	buf_put_string(b, NULL, 0);
	buf_put_string(b, "a\0b", 3);
	T_CHECK("malformed: NUL in comment", built(b, &krl) == ERR_STRING_NUL);
	T_CHECK("malformed: unknown section 6",
	    one_section(6, buf_new(0)) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_string(d, "key", 3);
	T_CHECK("malformed: signature section refused",
	    one_section(4, d) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_string(d, "0123456789012345678", 19);
	T_CHECK("malformed: 19-byte SHA1", one_section(3, d) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_string(d, "01234567890123456789", 20);
	buf_put_u8(d, 0);
	T_CHECK("malformed: SHA1 section with a stray byte",
	    one_section(3, d) == ERR_SHORT);
	d = buf_new(0);
	buf_put_string(d, "0123456789012345678901234567890", 31);
	T_CHECK("malformed: 31-byte SHA256", one_section(5, d) == ERR_FORMAT);
	T_CHECK("malformed: serial 0",
	    one_cert_subsection("ca_ed", 0x20, u64s(0, 0, 1)) == ERR_FORMAT);
	T_CHECK("serial list of one",
	    one_cert_subsection("ca_ed", 0x20, u64s(5, 0, 1)) == 0);
	d = u64s(5, 0, 1);
	buf_put_u8(d, 0);
	T_CHECK("malformed: serial list with a stray byte (short)",
	    one_cert_subsection("ca_ed", 0x20, d) == ERR_SHORT);
	T_CHECK("malformed: range lo > hi",
	    one_cert_subsection("ca_ed", 0x21, u64s(9, 8, 2)) == ERR_FORMAT);
	T_CHECK("malformed: range from 0",
	    one_cert_subsection("ca_ed", 0x21, u64s(0, 8, 2)) == ERR_FORMAT);
	d = u64s(1, 2, 2);
	buf_put_u64(d, 3);
	T_CHECK("malformed: range with trailing data",
	    one_cert_subsection("ca_ed", 0x21, d) == ERR_TRAILING);
	d = u64s(0, 0, 1);
	buf_put_mpint_bytes(d, &bit, 1);
	T_CHECK("malformed: bitmap revoking serial 0",
	    one_cert_subsection("ca_ed", 0x22, d) == ERR_FORMAT);
	d = u64s(UINT64_MAX, 0, 1);
	bit = 0x02;
	buf_put_mpint_bytes(d, &bit, 1);
	T_CHECK("malformed: bitmap beyond 2^64",
	    one_cert_subsection("ca_ed", 0x22, d) == ERR_FORMAT);
	d = u64s(UINT64_MAX, 0, 1);
	bit = 0x01;
	buf_put_mpint_bytes(d, &bit, 1);
	T_CHECK("bitmap revoking serial 2^64-1",
	    one_cert_subsection("ca_ed", 0x22, d) == 0);
	d = u64s(7, 0, 1);
	buf_put_string(d, "\x80", 1);
	T_CHECK("malformed: negative bitmap",
	    one_cert_subsection("ca_ed", 0x22, d) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_string(d, "a\0b", 3);
	T_CHECK("malformed: key id with NUL",
	    one_cert_subsection("ca_ed", 0x23, d) == ERR_STRING_NUL);
	T_CHECK("malformed: unknown certificate subsection",
	    one_cert_subsection("ca_ed", 0x24, buf_new(0)) == ERR_FORMAT);
	d = buf_new(0);
	buf_put_cstring(d, "ext");
	T_CHECK(
	    "malformed: truncated extension", one_section(255, d) == ERR_SHORT);
}

/* Every truncation of a fixture KRL: an error unless on a boundary. */
static void
test_truncations(void)
{
	struct krl *krl;
	struct buf *b, *walk;
	size_t i, j, n, len, nbound, bounds[64], bad;
	uint8_t t;
	int r, boundary;
	char name[96];

	for (i = 0; i < FX_NKRLS; i++) {
		b = krl_bytes(fx_krls[i].name);
		len = buf_len(b);
		/* Top-level section boundaries, after the header. */
		walk = buf_from(buf_ptr(b), len);
		buf_consume(walk, KRL_HEADER_LEN - 8);
		buf_skip_string(walk);
		buf_skip_string(walk);
		nbound = 0;
		bounds[nbound++] = len - buf_len(walk);
		while (buf_len(walk) > 0 && nbound < 64) {
			buf_get_u8(walk, &t);
			buf_skip_string(walk);
			bounds[nbound++] = len - buf_len(walk);
		}
		buf_free(walk);
		bad = 0;
		for (j = 0; j < len; j++) {
			krl = NULL;
			r = krl_from_bytes(buf_ptr(b), j, &krl);
			krl_free(krl);
			boundary = 0;
			for (n = 0; n < nbound; n++)
				if (bounds[n] == j)
					boundary = 1;
			/* Under 8 bytes it is no KRL, so a text list. */
			if (j < 8)
				continue;
			if ((r == 0) != boundary)
				bad++;
		}
		snprintf(name, sizeof(name),
		    "%s: every truncation refused except at section ends",
		    fx_krls[i].name);
		T_CHECK(name, bad == 0);
		buf_free(b);
	}
}

static void
test_arguments(void)
{
	struct krl *krl = text_krl("");
	struct sshcert *c = NULL;
	struct sshkey *k = NULL;

	T_CHECK("check with neither key nor cert",
	    krl != NULL && krl_check_key(krl, NULL, NULL) == 0);
	krl_free(krl);
	krl = load_fixture("krl_files");
	item("rsa_ecca", &k, &c);
	T_CHECK("cert checked with key NULL",
	    krl != NULL && c != NULL &&
	        krl_check_key(krl, NULL, c) == ERR_PERM);
	sshcert_free(c);
	item("u_other", &k, &c);
	T_CHECK("plain key checked with cert NULL",
	    krl != NULL && k != NULL &&
	        krl_check_key(krl, k, NULL) == ERR_PERM);
	sshkey_free(k);
	krl_free(krl);
}

int
main(void)
{
	crypto_init();
	log_init("test_krl", LL_QUIET, 0, 1);
	if (mkdtemp(tmpdir) == NULL)
		return 2;
	test_fixtures();
	test_load();
	test_text();
	test_built_sections();
	test_malformed();
	test_truncations();
	test_arguments();
	cleanup();
	return T_DONE();
}
