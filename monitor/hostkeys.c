/*
 * hostkeys.c: load host private keys and the host certificates that go
 * with them, and list the host key algorithms they are offered under;
 * only the monitor ever holds the keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alglist.h"
#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "monitor.h"
#include "monitor/hostkey_agent.h"
#include "sshcert.h"
#include "sshkey.h"

#define HOSTCERT_FILE_MAX (64 * 1024) /* a -cert.pub line is a few KB */
#define NAME_MAX_LEN 64
/* What a proof signs: its name, the session id and a key blob. */
#define HOSTKEY_PROVE_NAME "hostkeys-prove-00@openssh.com"
#define HOSTKEY_PROVE_DATA_MAX (64 * 1024)
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

void
hostkeys_free(struct hostkeys *hk)
{
	size_t i;

	for (i = 0; i < hk->n; i++)
		free(hk->keys[i].alg);
	for (i = 0; i < hk->npub; i++) {
		sshkey_free(hk->pub[i].key);
		free(hk->pub[i].blob);
		free(hk->pub[i].path);
	}
	for (i = 0; i < hk->ncert; i++) {
		free(hk->cert[i].blob);
		free(hk->cert[i].path);
	}
	free(hk->algs);
	free(hk->agent_sock);
	memset(hk, 0, sizeof(*hk));
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

static int
copy_blob(const uint8_t *blob, size_t len, uint8_t **out)
{
	if ((*out = malloc(len)) == NULL)
		return ERR_ALLOC;
	memcpy(*out, blob, len);
	return 0;
}

/* The loaded key equal to key, or NULL. */
static const struct hostkey_pub *
same_key(const struct hostkeys *hk, const struct sshkey *key)
{
	size_t i;

	for (i = 0; i < hk->npub; i++)
		if (sshkey_equal_public(hk->pub[i].key, key))
			return &hk->pub[i];
	return NULL;
}

/* A public key file ("TYPE BASE64 [comment]"), or NULL. */
static struct sshkey *
load_public(const char *path)
{
	struct sshkey *key = NULL;
	char *text;

	if ((text = read_small_file(path)) == NULL)
		return NULL;
	if (sshkey_parse_public_text(text, &key, NULL) != 0)
		key = NULL;
	free(text);
	return key;
}

/*
 * One HostKey file. Missing files are skipped quietly, unusable ones
 * with sshd's error line. 0 or ERR_ALLOC.
 */
/*
 * 1 if path is a DSA key: its .pub says ssh-dss, or it is PEM DSA. sshd
 * 9.2 loads those and offers them only under HostKeyAlgorithms +ssh-dss;
 * postern has no DSA, and an upgraded host's HostKey line for one is not
 * an error at every start and connection.
 */
static int
is_dsa_key(const char *path)
{
	static const char pem[] = "-----BEGIN DSA PRIVATE KEY-----";
	char name[4096], head[sizeof(pem)];
	size_t n;
	FILE *f;
	int i, dsa = 0;

	for (i = 0; i < 2 && !dsa; i++) {
		if (snprintf(name, sizeof(name), "%s%s", path,
		        i == 0 ? ".pub" : "") >= (int)sizeof(name) ||
		    (f = fopen(name, "re")) == NULL)
			continue;
		n = fread(head, 1, sizeof(head) - 1, f);
		fclose(f);
		head[n] = '\0';
		dsa = i == 0 ? strncmp(head, "ssh-dss ", 8) == 0
		             : strncmp(head, pem, sizeof(pem) - 1) == 0;
	}
	return dsa;
}

static int
load_key(const struct server_config *c, struct hostkeys *hk, const char *path)
{
	struct sshkey *key = NULL;
	struct buf *b = NULL;
	struct hostkey_pub *p;
	const struct hostkey_pub *dup;
	char pub[4096];
	int r, agent = 0;

	if (hk->npub >= N_ELEMS(hk->pub)) {
		error("Too many host keys; ignoring \"%s\"", path);
		return 0;
	}
	/*
	 * With HostKeyAgent, a HostKey naming a public key file, or a
	 * private key file that is absent beside its .pub, is the agent's.
	 */
	if (hk->agent_sock != NULL && (key = load_public(path)) != NULL)
		agent = 1;
	else if (access(path, R_OK) != 0 && errno == ENOENT) {
		snprintf(pub, sizeof(pub), "%s.pub", path);
		if (hk->agent_sock == NULL ||
		    (key = load_public(pub)) == NULL) {
			/* As sshd: an error for a HostKey line, not a default. */
			if (c->host_keys_implicit)
				debug("Unable to load host key: %s", path);
			else
				error("Unable to load host key: %s", path);
			return 0;
		}
		agent = 1;
	} else if ((r = sshkey_load_private(path, &key)) != 0) {
		/* As sshd: the reason, then that the key is not loaded; both
		 * at DEBUG for a default key. */
		enum log_level ll =
		    c->host_keys_implicit ? LL_DEBUG1 : LL_ERROR;

		if (r == ERR_KEY_TYPE && is_dsa_key(path)) {
			verbose("Not offering host key \"%s\" (ssh-dss): "
			        "postern has no DSA",
			    path);
			return 0;
		}

		log_msg(ll, __func__, 0, "Unable to load host key \"%s\": %s",
		    path, r == ERR_PERM ? "bad permissions" : err_str(r));
		log_msg(ll, __func__, 0, "Unable to load host key: %s", path);
		return 0;
	}
	/*
	 * As sshd: a FILE.pub that is not the private key's public half is
	 * named (it is not used: the private key's own public half is).
	 */
	if (!agent) {
		struct sshkey *pubkey;

		snprintf(pub, sizeof(pub), "%s.pub", path);
		if ((pubkey = load_public(pub)) != NULL &&
		    !sshkey_equal_public(pubkey, key))
			error("Public key for %s does not match private key",
			    path);
		sshkey_free(pubkey);
	}
	/* RequiredRSASize holds for host keys too, as sshd 9.2's check. */
	if (sshkey_type(key) == KEY_RSA &&
	    c->required_rsa_size != CONFIG_UNSET &&
	    sshkey_bits(key) < (unsigned)c->required_rsa_size) {
		error("main: Host key %s: Invalid key length", path);
		sshkey_free(key);
		return 0;
	}
	if (agent)
		debug("will rely on agent for hostkey %s", path);
	/*
	 * Stricter than sshd: with no HostKey line, the default ECDSA key
	 * (NIST curve) is left out; a HostKey line naming it offers it.
	 */
	if (c->host_keys_implicit && sshkey_type(key) == KEY_ECDSA) {
		verbose("Not offering host key \"%s\" (%s): name it in a "
		        "HostKey line to offer it",
		    path, sshkey_type_name(key));
		sshkey_free(key);
		return 0;
	}
	/*
	 * Several keys of one type are all loaded, as by sshd: the first
	 * signs the exchanges, and hostkeys-00 lists the others too, for
	 * clients to learn them before a rotation (ssh_config(5)
	 * UpdateHostKeys). The same key named twice (a snippet repeating
	 * the main file's HostKey) is quietly loaded once.
	 */
	if ((dup = same_key(hk, key)) != NULL) {
		debug("Host key \"%s\" is the same as \"%s\"", path, dup->path);
		sshkey_free(key);
		return 0;
	}
	if ((b = buf_new(16384)) == NULL || (r = sshkey_to_blob(key, b)) != 0) {
		buf_free(b);
		sshkey_free(key);
		return ERR_ALLOC;
	}
	p = &hk->pub[hk->npub++];
	p->key = key;
	p->agent = agent;
	p->bloblen = buf_len(b);
	r = copy_blob(buf_ptr(b), buf_len(b), &p->blob);
	buf_free(b);
	if (r == 0 && (p->path = strdup(path)) == NULL)
		r = ERR_ALLOC;
	return r;
}

/* 1 if the file at path begins with prefix. */
static int
file_starts_with(const char *path, const char *prefix)
{
	char head[64];
	size_t n, want = strlen(prefix);
	FILE *f;

	if (want >= sizeof(head) || (f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(head, 1, want, f);
	fclose(f);
	return n == want && memcmp(head, prefix, want) == 0;
}

/*
 * A HostCertificate file as sshd's sshkey_load_public reads it: the file
 * itself, else FILE.pub, as "TYPE BASE64 [comment]"; else the public half
 * of an openssh-key-v1 private key (never a certificate). 1 with *certp
 * for a certificate, 0 for a plain key, -1 for none of these.
 */
static int
read_cert_file(const char *path, struct sshcert **certp)
{
	char name[4096], *text;
	struct sshkey *plain = NULL;
	int i, found = -1;

	*certp = NULL;
	for (i = 0; i < 2 && found < 0; i++) {
		if (snprintf(name, sizeof(name), "%s%s", path,
		        i == 0 ? "" : ".pub") >= (int)sizeof(name) ||
		    (text = read_small_file(name)) == NULL)
			continue;
		if (sshcert_parse_text(text, certp, NULL) == 0)
			found = 1;
		else if (sshkey_parse_public_text(text, &plain, NULL) == 0)
			found = 0;
		sshkey_free(plain);
		plain = NULL;
		free(text);
	}
	if (found < 0 && file_starts_with(path, SSHKEY_V1_BEGIN))
		found = 0;
	return found;
}

/*
 * One HostCertificate, matched to a loaded host key; a later one for the
 * same key replaces it, as in sshd. A certificate that cannot be used is
 * skipped with sshd's error lines. 0 or ERR_ALLOC.
 */
static int
load_cert(struct hostkeys *hk, const char *path)
{
	struct sshcert *cert = NULL;
	struct hostkey_cert *hc;
	uint8_t *blob = NULL;
	char *dup = NULL;
	size_t j, k;
	int r = 0;

	if (strcasecmp(path, "none") == 0)
		return 0;
	switch (read_cert_file(path, &cert)) {
	case 1:
		break;
	case 0:
		/* A plain public key (the host key's .pub): sshd's words. */
		error("Certificate file is not a certificate: %s", path);
		return 0;
	default:
		/* sshd's words whatever the reason (its sshkey_load_public
		 * says the file is not found when no reading works). */
		error("Could not load host certificate \"%s\": No such file "
		      "or directory",
		    path);
		return 0;
	}
	for (j = 0; j < hk->npub; j++)
		if (cert->key != NULL &&
		    sshkey_equal_public(hk->pub[j].key, cert->key))
			break;
	if (j == hk->npub) {
		error("No matching private key for certificate: %s", path);
		goto out;
	}
	/* Stricter than sshd 9.2, which would offer a user certificate. */
	if (cert->type != SSHCERT_TYPE_HOST) {
		error("Certificate file is not a host certificate: %s", path);
		goto out;
	}
	if ((r = copy_blob(buf_ptr(cert->blob), buf_len(cert->blob), &blob)) !=
	        0 ||
	    (dup = strdup(path)) == NULL) {
		free(blob);
		r = ERR_ALLOC;
		goto out;
	}
	for (k = 0; k < hk->ncert; k++)
		if (hk->cert[k].pub == j)
			break;
	if (k == hk->ncert) {
		if (hk->ncert >= N_ELEMS(hk->cert)) {
			error("Too many host certificates; ignoring \"%s\"",
			    path);
			free(blob);
			free(dup);
			goto out;
		}
		hk->ncert++;
	}
	/* As sshd: the last certificate of a key is the one served. */
	hc = &hk->cert[k];
	free(hc->blob);
	free(hc->path);
	hc->pub = j;
	hc->blob = blob;
	hc->bloblen = buf_len(cert->blob);
	hc->path = dup;
	debug("host certificate: #%zu type %s %s", j, cert->type_name, path);
out:
	sshcert_free(cert);
	return r;
}

/* The key (plain or certificate) that can serve host key algorithm alg. */
static int
find_for_alg(const struct hostkeys *hk, const char *alg, struct hostkey *e)
{
	const char *plain;
	size_t i;

	memset(e, 0, sizeof(*e));
	if ((plain = sshcert_sig_alg_for(alg)) != NULL) {
		/* As sshd: the certificate of the first HostKey that has one
		 * of this type, whatever the HostCertificate lines' order. */
		for (i = 0; i < hk->npub; i++) {
			const struct hostkey_pub *p = &hk->pub[i];
			size_t k;

			/* A certificate is of its key's type. */
			if (!sshkey_sig_alg_ok(p->key, plain, 1))
				continue;
			for (k = 0; k < hk->ncert; k++)
				if (hk->cert[k].pub == i) {
					e->key = p->key;
					e->agent = p->agent;
					e->blob = hk->cert[k].blob;
					e->bloblen = hk->cert[k].bloblen;
					e->path = hk->cert[k].path;
					return 1;
				}
		}
		return 0;
	}
	for (i = 0; i < hk->npub; i++)
		if (sshkey_sig_alg_ok(hk->pub[i].key, alg, 1)) {
			e->key = hk->pub[i].key;
			e->agent = hk->pub[i].agent;
			e->blob = hk->pub[i].blob;
			e->bloblen = hk->pub[i].bloblen;
			e->path = hk->pub[i].path;
			return 1;
		}
	return 0;
}

/*
 * After the offer, an entry for each further loaded key of a type the
 * offer serves (a second ed25519 key, for a rotation), under the name of
 * the offered algorithm that serves its type: the first entry of a name
 * is the one that signs, and hostkeys-00 lists every entry's key. 0 or
 * ERR_ALLOC.
 */
static int
add_more_of_a_type(struct hostkeys *hk)
{
	size_t i, j, n = hk->n;

	for (i = 0; i < hk->npub && hk->n < N_ELEMS(hk->keys); i++) {
		const struct hostkey_pub *p = &hk->pub[i];
		const char *alg = NULL;

		for (j = 0; j < n; j++) {
			if (hk->keys[j].blob == p->blob)
				break; /* offered itself */
			if (alg == NULL && hk->keys[j].key != p->key &&
			    sshcert_sig_alg_for(hk->keys[j].alg) == NULL &&
			    sshkey_sig_alg_ok(p->key, hk->keys[j].alg, 1))
				alg = hk->keys[j].alg;
		}
		if (j < n || alg == NULL)
			continue;
		memset(&hk->keys[hk->n], 0, sizeof(hk->keys[hk->n]));
		if ((hk->keys[hk->n].alg = strdup(alg)) == NULL)
			return ERR_ALLOC;
		hk->keys[hk->n].key = p->key;
		hk->keys[hk->n].agent = p->agent;
		hk->keys[hk->n].blob = p->blob;
		hk->keys[hk->n].bloblen = p->bloblen;
		hk->keys[hk->n].path = p->path;
		hk->n++;
	}
	return 0;
}

/* The index in hk->pub (HostKey order) of entry e's key. */
static size_t
pub_index(const struct hostkeys *hk, const struct hostkey *e)
{
	size_t i;

	for (i = 0; i < hk->npub; i++)
		if (hk->pub[i].key == e->key)
			break;
	return i;
}

/*
 * The entries in HostKey order (stable), so that hostkeys-00 lists the keys
 * as sshd does and a client's known_hosts learns them in that order. Each
 * name's first entry stays first of its name: it is the first key in
 * HostKey order that serves the name (find_for_alg), and the offer string
 * is already built.
 */
static void
sort_by_hostkey_line(struct hostkeys *hk)
{
	struct hostkey e;
	size_t i, j, k;

	for (i = 1; i < hk->n; i++) {
		e = hk->keys[i];
		k = pub_index(hk, &e);
		for (j = i; j > 0 && pub_index(hk, &hk->keys[j - 1]) > k; j--)
			hk->keys[j] = hk->keys[j - 1];
		hk->keys[j] = e;
	}
}

/*
 * The offer: every name of HostKeyAlgorithms, in its order, that a
 * loaded key or certificate can serve (perhaps none: ""). 0 or ERR_ALLOC.
 */
static int
build_offer(const struct server_config *c, struct hostkeys *hk)
{
	const char *list =
	    c->hostkey_algorithms ? c->hostkey_algorithms : "ssh-ed25519";
	const char *p = list;
	char name[NAME_MAX_LEN];
	struct hostkey e;
	size_t n, len = 0, i;
	int r;

	while (*p != '\0') {
		n = strcspn(p, ",");
		if (n > 0 && n < sizeof(name) && hk->n < N_ELEMS(hk->keys)) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (find_for_alg(hk, name, &e)) {
				if ((e.alg = strdup(name)) == NULL)
					return ERR_ALLOC;
				hk->keys[hk->n++] = e;
				len += n + 1;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	/* None at all, as sshd: it runs, and each key exchange fails ("no
	 * matching host key type found"). */
	if ((hk->algs = calloc(1, len + 1)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < hk->n; i++) {
		if (i > 0)
			strcat(hk->algs, ",");
		strcat(hk->algs, hk->keys[i].alg);
	}
	if ((r = add_more_of_a_type(hk)) != 0)
		return r;
	sort_by_hostkey_line(hk);
	return 0;
}

/* hostkeys_set_log_level's level; -1: none. */
static int load_log_level = -1;

void
hostkeys_set_log_level(int level)
{
	load_log_level = level;
}

void
hostkeys_use_log_level(void)
{
	if (load_log_level > (int)log_get_level())
		log_set_level((enum log_level)load_log_level);
}

static int load_keys(const struct server_config *c, struct hostkeys *hk);

int
hostkeys_load(const struct server_config *c, struct hostkeys *hk)
{
	enum log_level was = log_get_level();
	int r;

	hostkeys_use_log_level();
	r = load_keys(c, hk);
	log_set_level(was);
	return r;
}

/*
 * A SIGHUP's check: whether a host key of c loads, saying nothing, as the
 * restarted listener loads them again and says why one does not (sshd
 * says it once).
 */
int
hostkeys_probe(const struct server_config *c)
{
	enum log_level was = log_get_level();
	struct hostkeys hk;
	int r;

	log_set_level(LL_QUIET);
	r = load_keys(c, &hk);
	hostkeys_free(&hk); /* also a partial load */
	log_set_level(was);
	return r;
}

static int
load_keys(const struct server_config *c, struct hostkeys *hk)
{
	size_t i;
	int r;

	memset(hk, 0, sizeof(*hk));
	if (c->host_key_agent != NULL) {
		const char *sock = c->host_key_agent;

		/* As sshd: "SSH_AUTH_SOCK" means that variable's value. */
		if (strcmp(sock, "SSH_AUTH_SOCK") == 0)
			sock = getenv("SSH_AUTH_SOCK");
		/*
		 * As sshd: an agent that does not answer now is no agent; the
		 * keys it was to sign for are not loaded.
		 */
		if (sock == NULL || *sock == '\0')
			error("Could not connect to agent \"%s\": agent not "
			      "present",
			    c->host_key_agent);
		else if (hostkey_agent_probe(sock) != 0)
			error("Could not connect to agent \"%s\": %s",
			    c->host_key_agent, strerror(errno));
		else if ((hk->agent_sock = strdup(sock)) == NULL)
			return ERR_ALLOC;
	}
	for (i = 0; i < c->nhost_key_files; i++)
		if ((r = load_key(c, hk, c->host_key_files[i])) != 0)
			return r;
	if (hk->npub == 0)
		return ERR_NOT_FOUND;
	for (i = 0; i < c->nhost_cert_files; i++)
		if ((r = load_cert(hk, c->host_cert_files[i])) != 0)
			return r;
	return build_offer(c, hk);
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

const struct hostkey_pub *
hostkeys_by_blob(const struct hostkeys *hk, const uint8_t *blob, size_t len)
{
	size_t i;

	for (i = 0; i < hk->npub; i++)
		if (hk->pub[i].bloblen == len &&
		    memcmp(hk->pub[i].blob, blob, len) == 0)
			return &hk->pub[i];
	return NULL;
}

/*
 * The signature algorithm a proof with key uses: for RSA the one the
 * exchange was signed with when that was RSA (the client checks for it),
 * else rsa-sha2-512; for the others the key's own.
 */
static const char *
prove_alg(const struct sshkey *key, const char *kex_alg)
{
	const char *plain = sshcert_sig_alg_for(kex_alg);

	if (plain == NULL)
		plain = kex_alg;
	if (sshkey_type(key) == KEY_RSA)
		return sshkey_sig_alg_ok(key, plain, 1) ? plain
		                                        : "rsa-sha2-512";
	return sshkey_type_name(key);
}

/* sshd's lines for a key the client asks about that we do not hold. */
static void
prove_log_unknown(const uint8_t *blob, size_t len)
{
	struct sshkey *key = NULL;

	if (sshkey_from_blob(blob, len, &key) != 0)
		error("server_input_hostkeys_prove: parse key: invalid format");
	else
		error("server_input_hostkeys_prove: unknown host %s key",
		    sshkey_type_short(key));
	sshkey_free(key);
}

int
hostkeys_prove(const struct hostkeys *hk, const char *kex_alg,
    const uint8_t *sid, size_t sidlen, struct buf *req, struct buf *reply)
{
	const struct hostkey_pub *p;
	struct buf *data = NULL, *sig = NULL, *sigs = NULL;
	const uint8_t *blob;
	size_t len;
	uint32_t n = 0;
	int r;

	buf_reset(reply);
	if ((data = buf_new(HOSTKEY_PROVE_DATA_MAX)) == NULL ||
	    (sig = buf_new(HOSTKEY_PROVE_DATA_MAX)) == NULL ||
	    (sigs = buf_new(IPC_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	while (buf_len(req) > 0) {
		if ((r = buf_get_string_direct(req, &blob, &len)) != 0)
			goto out;
		/* Only keys we hold, each at most as often as we hold keys. */
		if (++n > N_ELEMS(hk->pub) ||
		    (p = hostkeys_by_blob(hk, blob, len)) == NULL) {
			prove_log_unknown(blob, len);
			r = buf_put_bool(reply, 0) || buf_put_u32(reply, 0)
			    ? ERR_ALLOC
			    : 0;
			goto out;
		}
		buf_reset(data);
		buf_reset(sig);
		if ((r = buf_put_cstring(data, HOSTKEY_PROVE_NAME)) != 0 ||
		    (r = buf_put_string(data, sid, sidlen)) != 0 ||
		    (r = buf_put_string(data, p->blob, p->bloblen)) != 0 ||
		    (r = hostkeys_sign(hk, p->key, p->agent, sig, buf_ptr(data),
		         buf_len(data), prove_alg(p->key, kex_alg))) != 0 ||
		    (r = buf_put_stringb(sigs, sig)) != 0)
			goto out;
	}
	if ((r = buf_put_bool(reply, 1)) != 0 ||
	    (r = buf_put_u32(reply, n)) != 0 ||
	    (r = buf_put(reply, buf_ptr(sigs), buf_len(sigs))) != 0)
		goto out;
out:
	buf_free(data);
	buf_free(sig);
	buf_free(sigs);
	return r;
}

int
hostkeys_sign(const struct hostkeys *hk, const struct sshkey *key, int agent,
    struct buf *out, const uint8_t *data, size_t datalen, const char *alg)
{
	if (!agent)
		return sshkey_sign(key, out, data, datalen, alg);
	if (hk->agent_sock == NULL)
		return ERR_KEY_TYPE;
	return hostkey_agent_sign(hk->agent_sock, key, out, data, datalen, alg);
}
