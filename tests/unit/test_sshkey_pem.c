/*
 * test_sshkey_pem.c: private keys in PEM and PKCS#8 (lib/sshkey_pem.c):
 * each fixture parses to the public key ssh-keygen printed, signs what
 * verifies; encrypted keys, unknown curves and garbage are refused; a key
 * file others may read is refused as sshd does; generated keys written
 * as openssh-key-v1 read back as the same key.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sshkey.h"
#include "t.h"

#include "pem_fixtures.h"

static int
parse(const char *text, struct sshkey **k)
{
	return sshkey_parse_private((const uint8_t *)text, strlen(text), k);
}

/* Parses, matches its public key, and signs what verifies with alg. */
static void
check_key(const char *name, const char *text, const char *pub, const char *alg)
{
	struct sshkey *k = NULL;
	struct buf *sig = buf_new(16384);
	char *txt = NULL, label[128];
	static const uint8_t msg[] = "exchange hash";
	int r;

	r = parse(text, &k);
	snprintf(label, sizeof(label), "%s: parses", name);
	T_CHECK(label, r == 0 && k != NULL);
	if (r != 0 || k == NULL) {
		buf_free(sig);
		return;
	}
	snprintf(label, sizeof(label), "%s: private", name);
	T_CHECK(label, sshkey_is_private(k));
	snprintf(label, sizeof(label), "%s: public key as ssh-keygen's", name);
	T_CHECK(label,
	    sshkey_format_public_text(k, &txt) == 0 && strcmp(txt, pub) == 0);
	snprintf(label, sizeof(label), "%s: signs with %s", name, alg);
	T_CHECK(label,
	    sig != NULL && sshkey_sign(k, sig, msg, sizeof(msg), alg) == 0 &&
	        sshkey_verify(k, buf_ptr(sig), buf_len(sig), msg, sizeof(msg),
	            alg, 1024) == 0);
	free(txt);
	buf_free(sig);
	sshkey_free(k);
}

static void
test_fixtures(void)
{
	check_key(
	    "EC PEM P-256", ec256_pem, ec256_pem_pub, "ecdsa-sha2-nistp256");
	check_key("PKCS#8 P-384", ec384_pkcs8, ec384_pkcs8_pub,
	    "ecdsa-sha2-nistp384");
	check_key("RSA PEM", rsa_pem, rsa_pem_pub, "rsa-sha2-512");
	check_key("RSA PEM", rsa_pem, rsa_pem_pub, "rsa-sha2-256");
	check_key("RSA PKCS#8", rsa_pkcs8, rsa_pkcs8_pub, "rsa-sha2-256");
	check_key(
	    "Ed25519 PKCS#8", ed25519_pkcs8, ed25519_pkcs8_pub, "ssh-ed25519");
}

static void
test_refused(void)
{
	struct sshkey *k = NULL;
	char *cut;
	size_t n;

	T_CHECK("encrypted PKCS#8 refused as encrypted",
	    parse(enc_pkcs8, &k) == ERR_ENCRYPTED && !k);
	T_CHECK("encrypted traditional PEM refused as encrypted",
	    parse(enc_ec_pem, &k) == ERR_ENCRYPTED && !k);
	T_CHECK("secp256k1 refused", parse(k1_pkcs8, &k) == ERR_KEY_TYPE);
	T_CHECK("garbage refused",
	    parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
	          "KEY-----\n",
	        &k) == ERR_FORMAT);
	T_CHECK("empty refused", parse("", &k) != 0 && k == NULL);
	/* A truncated body must not parse. */
	n = strlen(rsa_pem);
	cut = strdup(rsa_pem);
	memcpy(cut + n / 2, "-----END RSA PRIVATE KEY-----\n", 31);
	T_CHECK("truncated RSA PEM refused", parse(cut, &k) != 0 && k == NULL);
	free(cut);
}

static void
test_permissions(void)
{
	char path[] = "/tmp/postern-pem-XXXXXX";
	struct sshkey *k = NULL;
	int fd = mkstemp(path);

	T_CHECK("temp file",
	    fd >= 0 &&
	        write(fd, ec256_pem, strlen(ec256_pem)) ==
	            (ssize_t)strlen(ec256_pem));
	close(fd);
	chmod(path, 0600);
	T_CHECK("0600 key loads", sshkey_load_private(path, &k) == 0 && k);
	sshkey_free(k);
	k = NULL;
	chmod(path, 0640);
	T_CHECK("0640 key refused: bad permissions",
	    sshkey_load_private(path, &k) == ERR_PERM && k == NULL);
	chmod(path, 0604);
	T_CHECK("0604 key refused: bad permissions",
	    sshkey_load_private(path, &k) == ERR_PERM && k == NULL);
	unlink(path);
}

static void
roundtrip(const char *name, enum sshkey_type type, unsigned bits)
{
	struct sshkey *k = NULL, *back = NULL;
	struct buf *file = buf_new(65536);
	char label[128];
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";

	snprintf(label, sizeof(label), "%s: generated and written", name);
	T_CHECK(label,
	    file != NULL && sshkey_generate(type, bits, &k) == 0 &&
	        sshkey_write_private(k, "host@example", file) == 0);
	if (k == NULL) {
		buf_free(file);
		return;
	}
	snprintf(label, sizeof(label), "%s: armored", name);
	T_CHECK(label,
	    buf_len(file) > sizeof(begin) &&
	        memcmp(buf_ptr(file), begin, sizeof(begin) - 1) == 0);
	snprintf(label, sizeof(label), "%s: reads back as the same key", name);
	T_CHECK(label,
	    sshkey_parse_private(buf_ptr(file), buf_len(file), &back) == 0 &&
	        sshkey_equal_public(k, back) && sshkey_is_private(back) &&
	        sshkey_bits(back) == bits);
	sshkey_free(k);
	sshkey_free(back);
	buf_free(file);
}

static void
test_generate(void)
{
	struct sshkey *k = NULL;

	roundtrip("ed25519", KEY_ED25519, 256);
	roundtrip("ecdsa P-256", KEY_ECDSA, 256);
	roundtrip("ecdsa P-521", KEY_ECDSA, 521);
	roundtrip("rsa 2048", KEY_RSA, 2048);
	T_CHECK("no ECDSA on other curves",
	    sshkey_generate(KEY_ECDSA, 255, &k) == ERR_KEY_TYPE && k == NULL);
	T_CHECK("no short RSA",
	    sshkey_generate(KEY_RSA, 1024, &k) == ERR_KEY_TYPE && k == NULL);
}

int
main(void)
{
	crypto_init();
	test_fixtures();
	test_refused();
	test_permissions();
	test_generate();
	return T_DONE();
}
