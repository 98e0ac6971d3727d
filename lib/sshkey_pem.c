/*
 * sshkey_pem.c: private keys in OpenSSL's PEM forms, read by OpenSSL:
 * traditional "BEGIN RSA/EC PRIVATE KEY" and PKCS#8 "BEGIN PRIVATE KEY".
 * Encrypted keys are refused, as for openssh-key-v1 files.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "err.h"
#include "sshkey_int.h"

/* No passphrase: an encrypted key fails to decode, and says so in *u. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

int
sshkey_parse_pem(const uint8_t *data, size_t len, struct sshkey **keyp)
{
	BIO *bio;
	EVP_PKEY *pkey = NULL;
	int r, encrypted = 0;

	*keyp = NULL;
	if (len > INT32_MAX)
		return ERR_TOO_BIG;
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return ERR_ALLOC;
	if ((pkey = PEM_read_bio_PrivateKey(
	         bio, NULL, no_passphrase, &encrypted)) == NULL) {
		r = encrypted ? ERR_ENCRYPTED : ERR_FORMAT;
		goto out;
	}
	r = sshkey_from_evp(pkey, keyp);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return r;
}
