/*
 * hostkeys.c: load host private keys, and the host certificates that go
 * with them; only the monitor ever holds the keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "sshcert.h"
#include "sshkey.h"

#define HOSTCERT_FILE_MAX (64 * 1024) /* a -cert.pub line is a few KB */

void
hostkeys_free(struct hostkeys *hk)
{
	size_t i;

	for (i = 0; i < hk->n; i++) {
		sshkey_free(hk->keys[i].key);
		free(hk->keys[i].alg);
		free(hk->keys[i].blob);
		free(hk->keys[i].path);
	}
	free(hk->algs);
	memset(hk, 0, sizeof(*hk));
}

/* The host key algorithm a key is offered under (only one per key here). */
static const char *
hostkey_alg(const struct sshkey *key)
{
	if (sshkey_type(key) == KEY_RSA)
		return "rsa-sha2-512";
	return sshkey_type_name(key);
}

/* The algorithm a host certificate is offered under. */
static const char *
hostcert_alg(const struct sshcert *cert)
{
	if (sshkey_type(cert->key) == KEY_RSA)
		return "rsa-sha2-512-cert-v01@openssh.com";
	return cert->type_name;
}

/* Add one entry; takes key. 0 or ERR_ALLOC. */
static int
add_entry(struct hostkeys *hk, struct sshkey *key, const char *alg,
    const uint8_t *blob, size_t bloblen, const char *path)
{
	struct hostkey *e = &hk->keys[hk->n];

	e->key = key;
	e->alg = strdup(alg);
	e->blob = malloc(bloblen);
	e->bloblen = bloblen;
	e->path = strdup(path);
	hk->n++;
	if (e->alg == NULL || e->blob == NULL || e->path == NULL)
		return ERR_ALLOC;
	memcpy(e->blob, blob, bloblen);
	return 0;
}

/* A whole small text file, NUL-terminated; NULL with errno set. */
static char *
read_small_file(const char *path)
{
	FILE *f;
	char *text;
	size_t n;
	int saved;

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	if ((text = malloc(HOSTCERT_FILE_MAX + 1)) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(text, 1, HOSTCERT_FILE_MAX + 1, f);
	saved = ferror(f) ? errno : 0;
	fclose(f);
	if (saved != 0 || n > HOSTCERT_FILE_MAX) {
		free(text);
		errno = saved != 0 ? saved : EFBIG;
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/*
 * One HostCertificate: matched to a loaded host key (one of the first
 * nkeys entries) and added as its certificate algorithm. A certificate
 * that cannot be used is skipped with sshd's error lines. 0 or ERR_ALLOC.
 */
static int
load_cert(struct hostkeys *hk, size_t nkeys, const char *path)
{
	struct sshcert *cert = NULL;
	struct sshkey *key = NULL;
	const char *alg;
	char *text = NULL;
	size_t j;
	int r;

	if (strcasecmp(path, "none") == 0)
		return 0;
	if ((text = read_small_file(path)) == NULL) {
		error("Could not load host certificate \"%s\": %s", path,
		    strerror(errno));
		return 0;
	}
	if ((r = sshcert_parse_text(text, &cert, NULL)) != 0) {
		error("Could not load host certificate \"%s\": %s", path,
		    err_str(r));
		r = 0;
		goto out;
	}
	if (cert->type != SSHCERT_TYPE_HOST) {
		error("Certificate file is not a host certificate: %s", path);
		r = 0;
		goto out;
	}
	for (j = 0; j < nkeys; j++)
		if (cert->key != NULL &&
		    sshkey_equal_public(hk->keys[j].key, cert->key))
			break;
	if (j == nkeys) {
		error("No matching private key for certificate: %s", path);
		r = 0;
		goto out;
	}
	alg = hostcert_alg(cert);
	if (hostkeys_by_alg(hk, alg) != NULL) {
		error("Ignoring duplicate host certificate type %s in \"%s\"",
		    alg, path);
		r = 0;
		goto out;
	}
	if (hk->n >= sizeof(hk->keys) / sizeof(hk->keys[0])) {
		error("Too many host keys and certificates; ignoring \"%s\"",
		    path);
		r = 0;
		goto out;
	}
	/* Each entry owns its key: load it again for the certificate. */
	if ((r = sshkey_load_private(hk->keys[j].path, &key)) != 0) {
		error("Unable to load host key \"%s\" for certificate \"%s\": "
		      "%s",
		    hk->keys[j].path, path, err_str(r));
		r = 0;
		goto out;
	}
	r = add_entry(
	    hk, key, alg, buf_ptr(cert->blob), buf_len(cert->blob), path);
	key = NULL;
	if (r == 0)
		debug("host certificate: #%zu type %s %s", j, alg, path);
out:
	sshkey_free(key);
	sshcert_free(cert);
	free(text);
	return r;
}

int
hostkeys_load(const struct server_config *c, struct hostkeys *hk)
{
	struct sshkey *key;
	struct buf *b;
	size_t i, nkeys, len = 0;
	int r;

	memset(hk, 0, sizeof(*hk));
	for (i = 0; i < c->nhost_key_files; i++) {
		const char *path = c->host_key_files[i];

		if (hk->n >= sizeof(hk->keys) / sizeof(hk->keys[0]))
			break;
		if (access(path, R_OK) != 0 && errno == ENOENT) {
			debug("Unable to load host key \"%s\": No such file",
			    path);
			continue;
		}
		if ((r = sshkey_load_private(path, &key)) != 0) {
			error("Unable to load host key \"%s\": %s", path,
			    err_str(r));
			continue;
		}
		if (hostkeys_by_alg(hk, hostkey_alg(key)) != NULL) {
			error("Ignoring duplicate host key type %s in \"%s\"",
			    hostkey_alg(key), path);
			sshkey_free(key);
			continue;
		}
		if ((b = buf_new(16384)) == NULL ||
		    sshkey_to_blob(key, b) != 0) {
			buf_free(b);
			sshkey_free(key);
			return ERR_ALLOC;
		}
		r = add_entry(
		    hk, key, hostkey_alg(key), buf_ptr(b), buf_len(b), path);
		buf_free(b);
		if (r != 0)
			return r;
	}
	if (hk->n == 0)
		return ERR_NOT_FOUND;
	nkeys = hk->n;
	for (i = 0; i < c->nhost_cert_files; i++)
		if ((r = load_cert(hk, nkeys, c->host_cert_files[i])) != 0)
			return r;
	for (i = 0; i < hk->n; i++)
		len += strlen(hk->keys[i].alg) + 1;
	if ((hk->algs = calloc(1, len + 1)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < hk->n; i++) {
		if (i > 0)
			strcat(hk->algs, ",");
		strcat(hk->algs, hk->keys[i].alg);
	}
	return 0;
}

const struct hostkey *
hostkeys_by_alg(const struct hostkeys *hk, const char *alg)
{
	size_t i;

	for (i = 0; i < hk->n; i++)
		if (strcmp(hk->keys[i].alg, alg) == 0)
			return &hk->keys[i];
	return NULL;
}
