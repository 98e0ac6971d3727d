/*
 * kexaudit.c: IPC_AUDIT_KEX, a finished key exchange reported to the
 * monitor for its audit records (kexaudit.h).
 *
 * Payload: u32 number (1: the first exchange); string kex; string host
 * key algorithm; string cipher client to server; string cipher server to
 * client; string MAC client to server; string MAC server to client (""
 * for an AEAD cipher).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cipher.h"
#include "err.h"
#include "ipc.h"
#include "kexaudit.h"
#include "transport_int.h"

#define KEXAUDIT_NAME_MAX 64

/* A direction's MAC: "" for an AEAD cipher. */
static const char *
direction_mac(const struct direction *d)
{
	if (d->alg->aead || d->macalg == NULL)
		return "";
	return d->macalg->name;
}

int
kexaudit_report(struct transport *t, int fd, int *reported)
{
	struct buf *b;
	int r;

	if (*reported < 0)
		*reported = t->kex_count;
	if (t->kex_count <= *reported || t->kex != KEX_NONE ||
	    t->send.alg == NULL || t->recv.alg == NULL)
		return 0;
	if ((b = buf_new(1024)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u32(b, (uint32_t)t->kex_count)) != 0 ||
	    (r = buf_put_cstring(b, t->neg_kex ? t->neg_kex : "")) != 0 ||
	    (r = buf_put_cstring(b, t->neg_hostkey ? t->neg_hostkey : "")) !=
	        0 ||
	    (r = buf_put_cstring(b, t->recv.alg->name)) != 0 ||
	    (r = buf_put_cstring(b, t->send.alg->name)) != 0 ||
	    (r = buf_put_cstring(b, direction_mac(&t->recv))) != 0 ||
	    (r = buf_put_cstring(b, direction_mac(&t->send))) != 0)
		goto out;
	if ((r = ipc_send(fd, IPC_AUDIT_KEX, b, -1)) == 0)
		*reported = t->kex_count;
out:
	buf_free(b);
	return r;
}

/* 1 if name is one element of the comma-separated list. */
static int
listed(const char *name, const char *list)
{
	size_t n = strlen(name);
	const char *p = list;

	/* One name: a comma would let a whole list pass as one. */
	if (n == 0 || list == NULL || strchr(name, ',') != NULL)
		return 0;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* One cipher and its MAC: known, offered, and consistent. */
static int
direction(const char *cipher, const char *mac, const struct kexaudit_lists *l,
    char *name, size_t namelen, char *macname, size_t macnamelen,
    unsigned *bits, int *aead)
{
	const struct cipher_alg *alg;

	if (!listed(cipher, l->ciphers) ||
	    (alg = cipher_by_name(cipher)) == NULL)
		return ERR_FORMAT;
	if (alg->aead ? mac[0] != '\0' : !listed(mac, l->macs))
		return ERR_FORMAT;
	snprintf(name, namelen, "%s", cipher);
	snprintf(macname, macnamelen, "%s", alg->aead ? "<implicit>" : mac);
	*bits = (unsigned)alg->key_len * 8;
	*aead = alg->aead;
	return 0;
}

int
kexaudit_decode(struct buf *b, const struct kexaudit_lists *lists,
    uint32_t *num, struct transport_algs *a)
{
	char kex[KEXAUDIT_NAME_MAX], hk[KEXAUDIT_NAME_MAX];
	char c_in[KEXAUDIT_NAME_MAX], c_out[KEXAUDIT_NAME_MAX];
	char m_in[KEXAUDIT_NAME_MAX], m_out[KEXAUDIT_NAME_MAX];
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = buf_get_u32(b, num)) != 0 ||
	    (r = buf_get_cstring_fixed(b, kex, sizeof(kex))) != 0 ||
	    (r = buf_get_cstring_fixed(b, hk, sizeof(hk))) != 0 ||
	    (r = buf_get_cstring_fixed(b, c_in, sizeof(c_in))) != 0 ||
	    (r = buf_get_cstring_fixed(b, c_out, sizeof(c_out))) != 0 ||
	    (r = buf_get_cstring_fixed(b, m_in, sizeof(m_in))) != 0 ||
	    (r = buf_get_cstring_fixed(b, m_out, sizeof(m_out))) != 0 ||
	    (r = buf_end(b)) != 0)
		return r;
	if (*num == 0 || !listed(kex, lists->kex) ||
	    !listed(hk, lists->hostkey))
		return ERR_FORMAT;
	if ((r = direction(c_in, m_in, lists, a->cipher_in,
	         sizeof(a->cipher_in), a->mac_in, sizeof(a->mac_in),
	         &a->key_bits_in, &a->aead_in)) != 0 ||
	    (r = direction(c_out, m_out, lists, a->cipher_out,
	         sizeof(a->cipher_out), a->mac_out, sizeof(a->mac_out),
	         &a->key_bits_out, &a->aead_out)) != 0)
		return r;
	snprintf(a->kex, sizeof(a->kex), "%s", kex);
	snprintf(a->hostkey, sizeof(a->hostkey), "%s", hk);
	return 0;
}
