/*
 * kex.c: algorithm negotiation (RFC 4253 s7), curve25519-sha256 (RFC 8731),
 * key derivation (s7.2), strict KEX (OpenSSH PROTOCOL s1.10) and EXT_INFO
 * (RFC 8308). The host key signature comes from the monitor via a callback.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "kex.h"
#include "log.h"
#include "mlkem768.h"
#include "sntrup761.h"
#include "transport_int.h"

#define KEX_STRICT_S "kex-strict-s-v00@openssh.com"
#define KEX_STRICT_C "kex-strict-c-v00@openssh.com"
#define EXT_INFO_S "ext-info-s"
#define EXT_INFO_C "ext-info-c"

enum {
	NL_KEX = 0,
	NL_HOSTKEY,
	NL_ENC_C2S,
	NL_ENC_S2C,
	NL_MAC_C2S,
	NL_MAC_S2C,
	NL_COMP_C2S,
	NL_COMP_S2C,
	NL_LANG_C2S,
	NL_LANG_S2C,
	NL_MAX
};

static const char *nl_what[NL_MAX] = {"key exchange method", "host key type",
    "cipher", "cipher", "MAC", "MAC", "compression method",
    "compression method", "language", "language"};

void
kex_state_free(struct transport *t)
{
	buf_free(t->my_kexinit);
	buf_free(t->peer_kexinit);
	t->my_kexinit = t->peer_kexinit = NULL;
	free(t->neg_kex);
	free(t->neg_hostkey);
	free(t->neg_cipher_c2s);
	free(t->neg_cipher_s2c);
	free(t->neg_mac_c2s);
	free(t->neg_mac_s2c);
	free(t->neg_comp_c2s);
	free(t->neg_comp_s2c);
	t->neg_kex = t->neg_hostkey = t->neg_cipher_c2s = NULL;
	t->neg_cipher_s2c = t->neg_mac_c2s = t->neg_mac_s2c = NULL;
	t->neg_comp_c2s = t->neg_comp_s2c = NULL;
	wipe(&t->pending_c2s, sizeof(t->pending_c2s));
	wipe(&t->pending_s2c, sizeof(t->pending_s2c));
	kexgex_free(t);
}

/* The compression methods we offer ("Compression" in sshd_config). */
static const char *
server_comp(const struct transport *t)
{
	return t->params.compression != NULL ? t->params.compression : "none";
}

int
kex_send_kexinit(struct transport *t)
{
	struct buf *b;
	uint8_t cookie[16];
	char *kexlist = NULL;
	size_t n;
	int r;

	if (t->my_kexinit != NULL)
		return 0; /* already sent for this exchange */
	/*
	 * HostKeyAlgorithms names no type a loaded key serves (posternd -t
	 * takes that, as sshd -t): as sshd, end the connection after the
	 * version exchange instead of offering a KEXINIT no client can
	 * take (whose "Unable to negotiate" would blame the client).
	 */
	if (t->params.hostkey_algs == NULL || t->params.hostkey_algs[0] == '\0')
		fatal("No supported key exchange algorithms");
	/* The pseudo-algorithms go only into the first KEXINIT. */
	n = strlen(t->params.kex_algs) + 64;
	if ((kexlist = malloc(n)) == NULL)
		return ERR_ALLOC;
	if (t->kex_count == 0)
		snprintf(kexlist, n, "%s,%s,%s", t->params.kex_algs, EXT_INFO_S,
		    KEX_STRICT_S);
	else
		snprintf(kexlist, n, "%s", t->params.kex_algs);
	if ((b = buf_new(8192)) == NULL) {
		free(kexlist);
		return ERR_ALLOC;
	}
	random_bytes(cookie, sizeof(cookie));
	if ((r = buf_put_u8(b, SSH2_MSG_KEXINIT)) != 0 ||
	    (r = buf_put(b, cookie, sizeof(cookie))) != 0 ||
	    (r = buf_put_cstring(b, kexlist)) != 0 ||
	    (r = buf_put_cstring(b, t->params.hostkey_algs)) != 0 ||
	    (r = buf_put_cstring(b, t->params.ciphers)) != 0 ||
	    (r = buf_put_cstring(b, t->params.ciphers)) != 0 ||
	    (r = buf_put_cstring(b, t->params.macs)) != 0 ||
	    (r = buf_put_cstring(b, t->params.macs)) != 0 ||
	    (r = buf_put_cstring(b, server_comp(t))) != 0 ||
	    (r = buf_put_cstring(b, server_comp(t))) != 0 ||
	    (r = buf_put_cstring(b, "")) != 0 ||
	    (r = buf_put_cstring(b, "")) != 0 ||
	    (r = buf_put_bool(b, 0)) != 0 || (r = buf_put_u32(b, 0)) != 0)
		goto out;
	if ((r = transport_send_raw_payload(t, b)) != 0)
		goto out;
	t->my_kexinit = b;
	b = NULL;
	t->sent_newkeys = 0;
	if (t->kex == KEX_NONE)
		t->kex = KEX_WAIT_KEXINIT;
	debug("SSH2_MSG_KEXINIT sent");
out:
	free(kexlist);
	buf_free(b);
	return r;
}

/* 1 if name occurs in the comma-separated list. */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

/* First algorithm of the client's list that the server also lists. */
static char *
match_list(const char *client, const char *server)
{
	char *c, *cp, *tok, *save = NULL, *ret = NULL;

	if ((c = cp = strdup(client)) == NULL)
		return NULL;
	for (tok = strtok_r(cp, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (list_has(server, tok)) {
			ret = strdup(tok);
			break;
		}
	}
	free(c);
	return ret;
}

/* 1 if two comma-separated lists start with the same name. */
static int
same_first(const char *a, const char *b)
{
	size_t n = strcspn(a, ",");

	return n == strcspn(b, ",") && strncmp(a, b, n) == 0;
}

static void
no_match(struct transport *t, int which, const char *offer)
{
	logit("Unable to negotiate with %s port %d: no matching %s found. "
	      "Their offer: %s",
	    t->params.peer_addr ? t->params.peer_addr : "UNKNOWN",
	    t->params.peer_port, nl_what[which], offer);
	transport_disconnect(t, SSH2_DISCONNECT_KEY_EXCHANGE_FAILED,
	    "no matching %s found", nl_what[which]);
}

/* What a negotiated compression name means (only what we offer). */
static int
comp_method(const char *name)
{
	if (strcmp(name, "zlib@openssh.com") == 0)
		return COMP_DELAYED;
	return strcmp(name, "zlib") == 0 ? COMP_ZLIB : COMP_NONE;
}

/*
 * End the connection for a protocol error in a key exchange: sshd's line
 * ("Disconnecting ADDR port P: WHY") and a DISCONNECT giving why.
 */
static int
kex_protocol_error(struct transport *t, const char *why)
{
	logit("Disconnecting %s port %d: %s", transport_peer_addr(t),
	    t->params.peer_port, why);
	transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR, "%s", why);
	return ERR_PROTOCOL;
}

/*
 * Strict KEX (OpenSSH PROTOCOL s1.10) broken during the first exchange:
 * "strict KEX violation: " and what.
 */
static int
strict_violation(struct transport *t, const char *what)
{
	char why[256];

	snprintf(why, sizeof(why), "strict KEX violation: %s", what);
	return kex_protocol_error(t, why);
}

static int
handle_kexinit(struct transport *t, struct buf *payload)
{
	struct buf tmp = *payload;
	char *lists[NL_MAX] = {0};
	const char *server[NL_MAX];
	const struct cipher_alg *c2s, *s2c;
	int follows, r, i;
	uint32_t reserved;

	if (t->peer_kexinit != NULL) {
		error("kex: duplicate KEXINIT");
		return ERR_PROTOCOL;
	}
	/*
	 * Before authentication the monitor signs for two exchanges: a
	 * third one the client starts ends here, in words, not at the
	 * monitor's refusal to sign (a close with no reason given).
	 */
	if (t->kex_count > 0 && !transport_may_rekey(t))
		return kex_protocol_error(
		    t, "too many key exchanges before authentication");
	/* The previous exchange's choices (rekeying) are replaced. */
	free(t->neg_kex);
	free(t->neg_hostkey);
	free(t->neg_cipher_c2s);
	free(t->neg_cipher_s2c);
	free(t->neg_mac_c2s);
	free(t->neg_mac_s2c);
	free(t->neg_comp_c2s);
	free(t->neg_comp_s2c);
	t->neg_kex = t->neg_hostkey = NULL;
	t->neg_cipher_c2s = t->neg_cipher_s2c = NULL;
	t->neg_mac_c2s = t->neg_mac_s2c = NULL;
	t->neg_comp_c2s = t->neg_comp_s2c = NULL;
	/* Rekey started by the peer: answer with our own KEXINIT first. */
	if ((r = kex_send_kexinit(t)) != 0)
		return r;
	/* I_C is the whole payload including the message number. */
	if ((t->peer_kexinit = buf_new(buf_len(payload) + 1)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u8(t->peer_kexinit, SSH2_MSG_KEXINIT)) != 0 ||
	    (r = buf_put(
	         t->peer_kexinit, buf_ptr(payload), buf_len(payload))) != 0)
		return r;
	if ((r = buf_consume(&tmp, 16)) != 0)
		goto bad;
	for (i = 0; i < NL_MAX; i++)
		if ((r = buf_get_cstring(&tmp, &lists[i], NULL)) != 0)
			goto bad;
	if ((r = buf_get_bool(&tmp, &follows)) != 0 ||
	    (r = buf_get_u32(&tmp, &reserved)) != 0 || (r = buf_end(&tmp)) != 0)
		goto bad;
	*payload = tmp;

	if (t->kex_count == 0) {
		t->ext_info_c = list_has(lists[NL_KEX], EXT_INFO_C);
		t->strict = list_has(lists[NL_KEX], KEX_STRICT_C);
		if (t->strict && t->recv.seqnr != 1) {
			r = strict_violation(
			    t, "KEXINIT was not the first packet");
			goto out;
		}
		if (t->strict)
			debug("kex: strict KEX mode enabled");
	}
	server[NL_KEX] = t->params.kex_algs;
	server[NL_HOSTKEY] = t->params.hostkey_algs;
	server[NL_ENC_C2S] = server[NL_ENC_S2C] = t->params.ciphers;
	server[NL_MAC_C2S] = server[NL_MAC_S2C] = t->params.macs;
	server[NL_COMP_C2S] = server[NL_COMP_S2C] = server_comp(t);

	if ((t->neg_kex = match_list(lists[NL_KEX], server[NL_KEX])) == NULL) {
		no_match(t, NL_KEX, lists[NL_KEX]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if ((t->neg_hostkey = match_list(
	         lists[NL_HOSTKEY], server[NL_HOSTKEY])) == NULL) {
		no_match(t, NL_HOSTKEY, lists[NL_HOSTKEY]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if ((t->neg_cipher_c2s = match_list(
	         lists[NL_ENC_C2S], server[NL_ENC_C2S])) == NULL) {
		no_match(t, NL_ENC_C2S, lists[NL_ENC_C2S]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if ((t->neg_cipher_s2c = match_list(
	         lists[NL_ENC_S2C], server[NL_ENC_S2C])) == NULL) {
		no_match(t, NL_ENC_S2C, lists[NL_ENC_S2C]);
		r = ERR_NO_MATCH;
		goto out;
	}
	c2s = cipher_by_name(t->neg_cipher_c2s);
	s2c = cipher_by_name(t->neg_cipher_s2c);
	if (c2s == NULL || s2c == NULL) {
		r = ERR_INTERNAL;
		goto out;
	}
	/* A MAC is negotiated only for a cipher that does not authenticate. */
	if (!c2s->aead &&
	    (t->neg_mac_c2s = match_list(
	         lists[NL_MAC_C2S], server[NL_MAC_C2S])) == NULL) {
		no_match(t, NL_MAC_C2S, lists[NL_MAC_C2S]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if (!s2c->aead &&
	    (t->neg_mac_s2c = match_list(
	         lists[NL_MAC_S2C], server[NL_MAC_S2C])) == NULL) {
		no_match(t, NL_MAC_S2C, lists[NL_MAC_S2C]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if ((t->neg_comp_c2s = match_list(
	         lists[NL_COMP_C2S], server[NL_COMP_C2S])) == NULL) {
		no_match(t, NL_COMP_C2S, lists[NL_COMP_C2S]);
		r = ERR_NO_MATCH;
		goto out;
	}
	if ((t->neg_comp_s2c = match_list(
	         lists[NL_COMP_S2C], server[NL_COMP_S2C])) == NULL) {
		no_match(t, NL_COMP_S2C, lists[NL_COMP_S2C]);
		r = ERR_NO_MATCH;
		goto out;
	}
	t->pending_c2s.cipher = c2s;
	t->pending_s2c.cipher = s2c;
	t->pending_c2s.mac = mac_by_name(t->neg_mac_c2s);
	t->pending_s2c.mac = mac_by_name(t->neg_mac_s2c);
	if ((!c2s->aead && t->pending_c2s.mac == NULL) ||
	    (!s2c->aead && t->pending_s2c.mac == NULL)) {
		r = ERR_INTERNAL;
		goto out;
	}
	t->pending_c2s.comp = comp_method(t->neg_comp_c2s);
	t->pending_s2c.comp = comp_method(t->neg_comp_s2c);
	debug("kex: algorithm: %s", t->neg_kex);
	debug("kex: host key algorithm: %s", t->neg_hostkey);
	debug("kex: client->server cipher: %s MAC: %s compression: %s",
	    c2s->name, c2s->aead ? "<implicit>" : t->neg_mac_c2s,
	    t->neg_comp_c2s);
	debug("kex: server->client cipher: %s MAC: %s compression: %s",
	    s2c->name, s2c->aead ? "<implicit>" : t->neg_mac_s2c,
	    t->neg_comp_s2c);
	if (follows) {
		/*
		 * RFC 4253 s7: the guess is right only if both sides list the
		 * same kex and host key algorithms first.
		 */
		if (!same_first(lists[NL_KEX], server[NL_KEX]) ||
		    !same_first(lists[NL_HOSTKEY], server[NL_HOSTKEY]))
			t->ignore_next = 1;
	}
	t->kex = KEX_WAIT_INIT;
	r = 0;
	goto out;
bad:
	/* sshd's fatal line (the words of its sshbuf error). */
	transport_log_fatal(t, err_sshd_words(r));
	transport_disconnect(
	    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "malformed KEXINIT");
	r = ERR_PROTOCOL;
out:
	for (i = 0; i < NL_MAX; i++)
		free(lists[i]);
	return r;
}

/* Key = HASH(K || H || X || session_id), extended per RFC 4253 s7.2. */
static int
derive_key(struct transport *t, char x, const struct buf *kbuf,
    const uint8_t *h, size_t hlen, uint8_t *out, size_t need)
{
	struct digest_ctx *d;
	uint8_t block[DIGEST_MAX_LEN];
	size_t have = 0, dlen = digest_len(t->hash_alg);
	int r = 0;

	if (need > KEX_MAX_KEY)
		return ERR_INTERNAL;
	while (have < need) {
		if ((d = digest_start(t->hash_alg)) == NULL) {
			r = ERR_CRYPTO;
			break;
		}
		if (digest_update(d, buf_ptr(kbuf), buf_len(kbuf)) != 0 ||
		    digest_update(d, h, hlen) != 0 ||
		    (have == 0 ? (digest_update(d, &x, 1) != 0 ||
		                     digest_update(d, t->session_id,
		                         t->session_id_len) != 0)
		               : digest_update(d, out, have) != 0)) {
			digest_free(d);
			r = ERR_CRYPTO;
			break;
		}
		if ((r = digest_final(d, block)) != 0)
			break;
		memcpy(
		    out + have, block, need - have < dlen ? need - have : dlen);
		have += need - have < dlen ? need - have : dlen;
	}
	wipe(block, sizeof(block));
	return r;
}

static int
derive_all(
    struct transport *t, const struct buf *kbuf, const uint8_t *h, size_t hlen)
{
	struct kex_keys *c2s = &t->pending_c2s, *s2c = &t->pending_s2c;
	int r;

	if ((r = derive_key(
	         t, 'A', kbuf, h, hlen, c2s->iv, c2s->cipher->iv_len)) != 0 ||
	    (r = derive_key(
	         t, 'B', kbuf, h, hlen, s2c->iv, s2c->cipher->iv_len)) != 0 ||
	    (r = derive_key(
	         t, 'C', kbuf, h, hlen, c2s->key, c2s->cipher->key_len)) != 0 ||
	    (r = derive_key(
	         t, 'D', kbuf, h, hlen, s2c->key, s2c->cipher->key_len)) != 0)
		return r;
	/* Integrity keys (E, F) only for a cipher that needs a MAC. */
	if ((c2s->mac != NULL &&
	        (r = derive_key(t, 'E', kbuf, h, hlen, c2s->mac_key,
	             c2s->mac->key_len)) != 0) ||
	    (s2c->mac != NULL &&
	        (r = derive_key(t, 'F', kbuf, h, hlen, s2c->mac_key,
	             s2c->mac->key_len)) != 0))
		return r;
	return 0;
}

static int
send_ext_info(struct transport *t)
{
	struct buf *b;
	int r;

	if ((b = buf_new(4096)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u8(b, SSH2_MSG_EXT_INFO)) != 0 ||
	    (r = buf_put_u32(b, 3)) != 0 ||
	    (r = buf_put_cstring(b, "server-sig-algs")) != 0 ||
	    (r = buf_put_cstring(b,
	         t->params.server_sig_algs ? t->params.server_sig_algs : "")) !=
	        0 ||
	    /* OpenSSH PROTOCOL s1.9, s2.5: keys bound to this host key. */
	    (r = buf_put_cstring(b, "publickey-hostbound@openssh.com")) != 0 ||
	    (r = buf_put_cstring(b, "0")) != 0 ||
	    /* s1.9: PING/PONG, answered by the session (after auth only). */
	    (r = buf_put_cstring(b, "ping@openssh.com")) != 0 ||
	    (r = buf_put_cstring(b, "0")) != 0 ||
	    (r = transport_send_raw_payload(t, b)) != 0)
		goto out;
out:
	buf_free(b);
	return r;
}

const struct transport_hostkey *
find_hostkey(struct transport *t, const char *alg)
{
	size_t i;

	for (i = 0; i < t->params.nhostkeys; i++)
		if (strcmp(t->params.hostkeys[i].alg, alg) == 0)
			return &t->params.hostkeys[i];
	return NULL;
}

/*
 * The exchanges shaped like ECDH: the client sends its public value in
 * KEX_ECDH_INIT (30), the server answers with its own in KEX_ECDH_REPLY
 * (31). Each method turns the client's value into the server's and the
 * encoded shared secret K.
 */
struct kex_method {
	const char *name;
	int hash_alg;
	int mpint; /* e and f are mpints (RFC 4253 s8), not strings */
	int (*server)(
	    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf);
};

/* curve25519-sha256 (RFC 8731): K is the X25519 result as an mpint. */
static int
kex_c25519_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	uint8_t pub[X25519_KEY_LEN], priv[X25519_KEY_LEN];
	uint8_t shared[X25519_KEY_LEN];
	int r;

	if (qclen != X25519_KEY_LEN)
		return ERR_FORMAT;
	if ((r = x25519_keypair(pub, priv)) != 0 ||
	    (r = x25519_shared(shared, priv, qc)) != 0 ||
	    (r = buf_put(qs, pub, sizeof(pub))) != 0 ||
	    (r = buf_put_mpint_bytes(kbuf, shared, sizeof(shared))) != 0)
		goto out;
out:
	wipe(priv, sizeof(priv));
	wipe(shared, sizeof(shared));
	return r;
}

/*
 * The post-quantum hybrids (OpenSSH's sntrup761x25519-sha512 and
 * mlkem768x25519-sha256): the client sends KEM public key || X25519
 * public key; the server answers KEM ciphertext || X25519 public key; K
 * is HASH(KEM secret || X25519 secret), encoded as a string.
 */
static int
hybrid_server(const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf,
    size_t pklen, size_t ctlen, int hash_alg,
    int (*encap)(uint8_t *ct, uint8_t *ss, const uint8_t *pk))
{
	uint8_t pub[X25519_KEY_LEN], priv[X25519_KEY_LEN];
	uint8_t xss[X25519_KEY_LEN], kss[32], both[64], k[DIGEST_MAX_LEN];
	uint8_t *ct;
	int r;

	if (qclen != pklen + X25519_KEY_LEN)
		return ERR_FORMAT;
	if ((r = buf_reserve(qs, ctlen, &ct)) != 0)
		return r;
	if ((r = encap(ct, kss, qc)) != 0 ||
	    (r = x25519_keypair(pub, priv)) != 0 ||
	    (r = x25519_shared(xss, priv, qc + pklen)) != 0 ||
	    (r = buf_put(qs, pub, sizeof(pub))) != 0)
		goto out;
	memcpy(both, kss, sizeof(kss));
	memcpy(both + sizeof(kss), xss, sizeof(xss));
	if ((r = digest_memory(hash_alg, both, sizeof(both), k)) != 0 ||
	    (r = buf_put_string(kbuf, k, digest_len(hash_alg))) != 0)
		goto out;
out:
	wipe(priv, sizeof(priv));
	wipe(xss, sizeof(xss));
	wipe(kss, sizeof(kss));
	wipe(both, sizeof(both));
	wipe(k, sizeof(k));
	return r;
}

static int
sntrup_encap(uint8_t *ct, uint8_t *ss, const uint8_t *pk)
{
	return sntrup761_enc(ct, ss, pk);
}

static int
kex_sntrup_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return hybrid_server(qc, qclen, qs, kbuf, SNTRUP761_PUBLICKEY_SIZE,
	    SNTRUP761_CIPHERTEXT_SIZE, DIGEST_SHA512, sntrup_encap);
}

static int
mlkem_encap(uint8_t *ct, uint8_t *ss, const uint8_t *pk)
{
	return mlkem768_encaps(ct, ss, pk);
}

static int
kex_mlkem_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return hybrid_server(qc, qclen, qs, kbuf, MLKEM768_EK_SIZE,
	    MLKEM768_CT_SIZE, DIGEST_SHA256, mlkem_encap);
}

/* ecdh-sha2-nistp* (RFC 5656 s4): Q_C/Q_S uncompressed points. */
static int
kex_p256_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_ecdh_nist_server("P-256", 32, qc, qclen, qs, kbuf);
}

static int
kex_p384_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_ecdh_nist_server("P-384", 48, qc, qclen, qs, kbuf);
}

static int
kex_p521_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_ecdh_nist_server("P-521", 66, qc, qclen, qs, kbuf);
}

/* diffie-hellman-group* (RFC 4253 s8, RFC 8268): e and f as mpints. */
static int
kex_modp2048_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_dh_modp_server("modp_2048", qc, qclen, qs, kbuf);
}

static int
kex_modp4096_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_dh_modp_server("modp_4096", qc, qclen, qs, kbuf);
}

static int
kex_modp8192_server(
    const uint8_t *qc, size_t qclen, struct buf *qs, struct buf *kbuf)
{
	return kex_dh_modp_server("modp_8192", qc, qclen, qs, kbuf);
}

static const struct kex_method kex_methods[] = {
    {"mlkem768x25519-sha256", DIGEST_SHA256, 0, kex_mlkem_server},
    {"sntrup761x25519-sha512", DIGEST_SHA512, 0, kex_sntrup_server},
    {"sntrup761x25519-sha512@openssh.com", DIGEST_SHA512, 0, kex_sntrup_server},
    {"curve25519-sha256", DIGEST_SHA256, 0, kex_c25519_server},
    {"curve25519-sha256@libssh.org", DIGEST_SHA256, 0, kex_c25519_server},
    {"ecdh-sha2-nistp256", DIGEST_SHA256, 0, kex_p256_server},
    {"ecdh-sha2-nistp384", DIGEST_SHA384, 0, kex_p384_server},
    {"ecdh-sha2-nistp521", DIGEST_SHA512, 0, kex_p521_server},
    {"diffie-hellman-group14-sha256", DIGEST_SHA256, 1, kex_modp2048_server},
    {"diffie-hellman-group16-sha512", DIGEST_SHA512, 1, kex_modp4096_server},
    {"diffie-hellman-group18-sha512", DIGEST_SHA512, 1, kex_modp8192_server},
};

const char *
kex_supported_list(void)
{
	static char list[1024];
	size_t i, n = 0;

	if (list[0] != '\0')
		return list;
	for (i = 0; i < sizeof(kex_methods) / sizeof(kex_methods[0]); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i > 0 ? "," : "", kex_methods[i].name);
	/* The group exchange has messages of its own (kexgex.c). */
	snprintf(list + n, sizeof(list) - n, ",%s", KEXGEX_NAMES);
	return list;
}

static const struct kex_method *
kex_method(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kex_methods) / sizeof(kex_methods[0]); i++)
		if (strcmp(kex_methods[i].name, name) == 0)
			return &kex_methods[i];
	return NULL;
}

int
kex_server_compute(const char *name, const uint8_t *qc, size_t qclen,
    struct buf *qs, struct buf *kbuf, int *hash_alg)
{
	const struct kex_method *km = kex_method(name);

	if (km == NULL)
		return ERR_NO_MATCH;
	*hash_alg = km->hash_alg;
	return km->server(qc, qclen, qs, kbuf);
}

/* A public value as the method encodes it: string, or mpint (e, f). */
static int
put_value(
    struct buf *b, const struct kex_method *km, const uint8_t *v, size_t len)
{
	return km->mpint ? buf_put_mpint_bytes(b, v, len)
	                 : buf_put_string(b, v, len);
}

int
kex_hash_start(
    struct transport *t, struct buf *hb, const struct transport_hostkey *hk)
{
	int r;

	if ((r = buf_put_cstring(hb, t->peer_version)) != 0 ||
	    (r = buf_put_cstring(hb, t->our_version)) != 0 ||
	    (r = buf_put_stringb(hb, t->peer_kexinit)) != 0 ||
	    (r = buf_put_stringb(hb, t->my_kexinit)) != 0 ||
	    (r = buf_put_string(hb, hk->blob, hk->bloblen)) != 0)
		return r;
	return 0;
}

int
kex_hash_sign(struct transport *t, const struct buf *hb, uint8_t *h,
    size_t *hlenp, struct buf *sig)
{
	size_t hlen = digest_len(t->hash_alg);
	int r;

	*hlenp = hlen;
	if ((r = digest_memory(t->hash_alg, buf_ptr(hb), buf_len(hb), h)) != 0)
		return r;
	if (t->session_id_len == 0) {
		memcpy(t->session_id, h, hlen);
		t->session_id_len = hlen;
	}
	if ((r = t->params.sign(
	         t->params.sign_ctx, t->neg_hostkey, h, hlen, sig)) != 0)
		error("kex: host key signature failed: %s", err_str(r));
	return r;
}

int
kex_send_newkeys(
    struct transport *t, const struct buf *kbuf, const uint8_t *h, size_t hlen)
{
	struct buf *b;
	int r;

	if ((r = derive_all(t, kbuf, h, hlen)) != 0)
		return r;
	if ((b = buf_new(16)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u8(b, SSH2_MSG_NEWKEYS)) != 0 ||
	    (r = transport_send_raw_payload(t, b)) != 0)
		goto out;
	debug("SSH2_MSG_NEWKEYS sent");
	transport_set_send_keys(t, &t->pending_s2c);
	if (t->strict)
		t->send.seqnr = 0;
	t->sent_newkeys = 1;
	if (t->kex_count == 0 && t->ext_info_c && (r = send_ext_info(t)) != 0)
		goto out;
	transport_flush_held(t);
	t->kex = KEX_WAIT_NEWKEYS;
	r = 0;
out:
	buf_free(b);
	return r;
}

/* KEX_ECDH_INIT -> KEX_ECDH_REPLY + NEWKEYS for any method above. */
static int
handle_ecdh_init(struct transport *t, struct buf *payload)
{
	const struct transport_hostkey *hk;
	const struct kex_method *km;
	const uint8_t *qc;
	size_t qclen, hlen;
	uint8_t h[DIGEST_MAX_LEN];
	struct buf *kbuf = NULL, *hb = NULL, *sig = NULL, *reply = NULL;
	struct buf *qs = NULL;
	int r;

	if ((km = kex_method(t->neg_kex)) == NULL)
		return ERR_INTERNAL;
	/* Q_C is a string; e (RFC 4253 s8) an mpint, kept as its magnitude. */
	if ((r = km->mpint
	            ? buf_get_mpint_direct(payload, &qc, &qclen)
	            : buf_get_string_direct(payload, &qc, &qclen)) != 0 ||
	    (r = buf_end(payload)) != 0) {
		transport_log_fatal(t, err_sshd_words(r));
		transport_disconnect(
		    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "malformed ECDH_INIT");
		return ERR_PROTOCOL;
	}
	if ((hk = find_hostkey(t, t->neg_hostkey)) == NULL)
		return ERR_INTERNAL;
	t->hash_alg = km->hash_alg;
	kbuf = buf_new_secret(2048);             /* up to an 8192-bit mpint */
	hb = buf_new_secret(KEX_HASH_INPUT_MAX); /* ends with K */
	sig = buf_new(4096);
	reply = buf_new(8192);
	qs = buf_new(4096);
	if (kbuf == NULL || hb == NULL || sig == NULL || reply == NULL ||
	    qs == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = km->server(qc, qclen, qs, kbuf)) != 0) {
		error("kex: bad client public value for %s", km->name);
		transport_disconnect(
		    t, SSH2_DISCONNECT_KEY_EXCHANGE_FAILED, "bad public value");
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = kex_hash_start(t, hb, hk)) != 0 ||
	    (r = put_value(hb, km, qc, qclen)) != 0 ||
	    (r = put_value(hb, km, buf_ptr(qs), buf_len(qs))) != 0 ||
	    (r = buf_put(hb, buf_ptr(kbuf), buf_len(kbuf))) != 0 ||
	    (r = kex_hash_sign(t, hb, h, &hlen, sig)) != 0)
		goto out;
	if ((r = buf_put_u8(reply, SSH2_MSG_KEX_ECDH_REPLY)) != 0 ||
	    (r = buf_put_string(reply, hk->blob, hk->bloblen)) != 0 ||
	    (r = put_value(reply, km, buf_ptr(qs), buf_len(qs))) != 0 ||
	    (r = buf_put_stringb(reply, sig)) != 0 ||
	    (r = transport_send_raw_payload(t, reply)) != 0)
		goto out;
	r = kex_send_newkeys(t, kbuf, h, hlen);
out:
	wipe(h, sizeof(h));
	buf_free(qs);
	buf_free(kbuf);
	buf_free(hb);
	buf_free(sig);
	buf_free(reply);
	return r;
}

static int
handle_newkeys(struct transport *t, struct buf *payload)
{
	if (buf_end(payload) != 0)
		return ERR_PROTOCOL;
	debug("SSH2_MSG_NEWKEYS received");
	transport_set_recv_keys(t, &t->pending_c2s);
	if (t->strict)
		t->recv.seqnr = 0;
	t->kex = KEX_NONE;
	/* Saturates: 2^31 exchanges on one connection must not overflow. */
	if (t->kex_count < INT_MAX)
		t->kex_count++;
	buf_free(t->my_kexinit);
	buf_free(t->peer_kexinit);
	t->my_kexinit = t->peer_kexinit = NULL;
	return 0;
}

static int
handle_disconnect(struct transport *t, struct buf *payload)
{
	uint32_t reason;
	char *desc = NULL;

	if (buf_get_u32(payload, &reason) != 0 ||
	    buf_get_cstring(payload, &desc, NULL) != 0) {
		free(desc);
		return ERR_DISCONNECTED;
	}
	/* As sshd's packet.c: INFO for a client's own goodbye, ERROR for
	 * any other reason (fail2ban reads both). */
	log_msg(reason == SSH2_DISCONNECT_BY_APPLICATION ? LL_INFO : LL_ERROR,
	    __func__, 0, "Received disconnect from %s port %d:%u: %.400s",
	    t->params.peer_addr ? t->params.peer_addr : "UNKNOWN",
	    t->params.peer_port, reason, desc);
	free(desc);
	return ERR_DISCONNECTED;
}

/* 1 between the peer's KEXINIT and its NEWKEYS. */
static int
in_exchange(const struct transport *t)
{
	return t->kex == KEX_WAIT_INIT || t->kex == KEX_WAIT_NEWKEYS;
}

static int
unexpected(struct transport *t, uint8_t type)
{
	char what[64];

	if (t->strict && t->kex_count == 0) {
		/* The packet's own number: recv.seqnr counts it already. */
		snprintf(what, sizeof(what),
		    "unexpected packet type %u (seqnr %u)", type,
		    t->recv.seqnr - 1);
		return strict_violation(t, what);
	}
	error("kex: unexpected message type %u in state %d", type, t->kex);
	transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
	    "unexpected message type %u", type);
	return ERR_PROTOCOL;
}

/*
 * A transport message (5..49) that has no place here, outside strict KEX:
 * as sshd, UNIMPLEMENTED (RFC 4253 s11.4) and the connection goes on.
 */
static int
out_of_place(struct transport *t, uint8_t type)
{
	if (t->kex_count == 0 && t->strict)
		return unexpected(t, type);
	/* sshd's line names the first exchange only (its preauth table). */
	return transport_unimplemented(t, type, t->kex_count == 0);
}

int
kex_dispatch(
    struct transport *t, uint8_t type, struct buf *payload, int *consumed)
{
	int initial = t->kex_count == 0;

	*consumed = 1;
	if (type == SSH2_MSG_DISCONNECT)
		return handle_disconnect(t, payload);
	/* The group exchange has messages of its own (kexgex.c). */
	if (t->kex == KEX_WAIT_INIT && kexgex_wants(t, type))
		return kexgex_input(t, type, payload);
	/* Strict KEX: nothing but the exchange itself until it is done (a
	 * message above the transport ends it as below, as in sshd, whose
	 * dispatcher has no handler for one there either way). */
	if (initial && t->strict && type != SSH2_MSG_KEXINIT &&
	    type != SSH2_MSG_KEX_ECDH_INIT && type != SSH2_MSG_NEWKEYS &&
	    type < SSH2_MSG_USERAUTH_REQUEST)
		return unexpected(t, type);
	switch (type) {
	case SSH2_MSG_IGNORE:
	case SSH2_MSG_DEBUG:
	case SSH2_MSG_UNIMPLEMENTED:
		return 0;
	case SSH2_MSG_KEXINIT:
		/* As sshd: a second KEXINIT in one exchange ends it. */
		if (t->kex != KEX_NONE && t->kex != KEX_WAIT_KEXINIT)
			return unexpected(t, type);
		return handle_kexinit(t, payload);
	case SSH2_MSG_KEX_ECDH_INIT:
		/* 30 is no message of the group exchange's (RFC 4419). */
		if (t->kex != KEX_WAIT_INIT || kexgex_hash_alg(t->neg_kex) != 0)
			return out_of_place(t, type);
		return handle_ecdh_init(t, payload);
	case SSH2_MSG_NEWKEYS:
		if (t->kex != KEX_WAIT_NEWKEYS)
			return out_of_place(t, type);
		return handle_newkeys(t, payload);
	}
	/* Key exchange numbers out of place; any transport message while
	 * an exchange runs or before the first one is done. */
	if ((type >= SSH2_MSG_KEXINIT && type <= 49) ||
	    (type >= SSH2_MSG_SERVICE_REQUEST && type <= 49 &&
	        (initial || in_exchange(t))))
		return out_of_place(t, type);
	/*
	 * Above the transport before the first exchange is done: sshd has no
	 * handler there, and its ssh_dispatch_run() ends the connection
	 * (its DISCONNECT "protocol error: rcvd type T" unsent as it exits),
	 * logged "Disconnected from ADDR port P" (the monitor's line for
	 * ERR_DISCONNECTED), which fail2ban's aggressive mode counts. So do
	 * we, and the DISCONNECT is sent.
	 */
	if (initial) {
		debug("kex: unexpected message type %u in state %d", type,
		    t->kex);
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "protocol error: rcvd type %u", type);
		return ERR_DISCONNECTED;
	}
	/* In a rekey, the layers above go on (their answers are held). */
	*consumed = 0;
	return 0;
}
