/* hostkeys.c: load host private keys; only the monitor ever holds them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "sshkey.h"

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

int
hostkeys_load(const struct server_config *c, struct hostkeys *hk)
{
	struct sshkey *key;
	struct buf *b;
	size_t i, len = 0;
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
		hk->keys[hk->n].key = key;
		hk->keys[hk->n].alg = strdup(hostkey_alg(key));
		hk->keys[hk->n].bloblen = buf_len(b);
		hk->keys[hk->n].blob = malloc(buf_len(b));
		hk->keys[hk->n].path = strdup(path);
		if (hk->keys[hk->n].blob == NULL ||
		    hk->keys[hk->n].alg == NULL ||
		    hk->keys[hk->n].path == NULL) {
			buf_free(b);
			return ERR_ALLOC;
		}
		memcpy(hk->keys[hk->n].blob, buf_ptr(b), buf_len(b));
		buf_free(b);
		len += strlen(hk->keys[hk->n].alg) + 1;
		hk->n++;
	}
	if (hk->n == 0)
		return ERR_NOT_FOUND;
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
