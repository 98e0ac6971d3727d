/*
 * krl.c: RevokedKeys files: OpenSSH binary KRLs (PROTOCOL.krl) and text
 * lists of public keys, and the check sshd makes against them.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "sshkey_sk.h"

#define KRL_MAGIC "SSHKRL\n" /* and its NUL: 8 bytes */
#define KRL_MAGIC_LEN 8
#define KRL_FORMAT_VERSION 1

#define KRL_SECTION_CERTIFICATES 1
#define KRL_SECTION_EXPLICIT_KEY 2
#define KRL_SECTION_FINGERPRINT_SHA1 3
#define KRL_SECTION_SIGNATURE 4
#define KRL_SECTION_FINGERPRINT_SHA256 5
#define KRL_SECTION_EXTENSION 255

#define KRL_SECTION_CERT_SERIAL_LIST 0x20
#define KRL_SECTION_CERT_SERIAL_RANGE 0x21
#define KRL_SECTION_CERT_SERIAL_BITMAP 0x22
#define KRL_SECTION_CERT_KEY_ID 0x23
#define KRL_SECTION_CERT_EXTENSION 0x39

#define SHA1_LEN 20
#define SHA256_LEN 32
#define KEY_NAME_MAX 64
#define KEY_BLOB_MAX (64 * 1024)

struct blob {
	uint8_t *p;
	size_t len;
};

struct serial_range {
	uint64_t lo, hi;
};

/* A serial bitmap: bit N (from the least significant) is serial off + N. */
struct bitmap {
	uint64_t offset;
	struct buf *bits; /* big-endian, no leading zero byte */
};

/* Revocations under one CA; ca.len == 0 means "any CA". */
struct krl_ca {
	struct blob ca;
	struct serial_range *ranges;
	size_t nranges, cranges;
	struct bitmap *bitmaps;
	size_t nbitmaps, cbitmaps;
	char **key_ids;
	size_t nkey_ids, ckey_ids;
};

struct krl {
	int binary;
	struct krl_ca *cas;
	size_t ncas, ccas;
	struct blob *keys; /* canonical plain key blobs */
	size_t nkeys, ckeys;
	struct buf *sha1s; /* SHA1_LEN-byte hashes, sorted after parsing */
	struct buf *sha256s;
};

/*
 * Key types OpenSSH reads that lib/sshkey does not: a text list naming one
 * is not malformed. Their plain keys are kept as blobs (FIDO sk- keys are
 * checked that way, krl_check_blob); their certificates are skipped.
 */
static const char *const foreign_types[] = {
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};
#define N_FOREIGN_TYPES (sizeof(foreign_types) / sizeof(foreign_types[0]))

static int
foreign_type(const char *name)
{
	size_t i;

	for (i = 0; i < N_FOREIGN_TYPES; i++)
		if (strcmp(name, foreign_types[i]) == 0)
			return 1;
	return 0;
}

/*
 * grow: room for element n of an array of *cap elements of size elem.
 * Returns the array (moved if it grew), or NULL with *rp set; then the
 * old array is still valid.
 */
static void *
grow(void *arr, size_t *cap, size_t n, size_t elem, int *rp)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return arr;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if (ncap > SIZE_MAX / elem || ncap * elem > KRL_FILE_MAX * 4) {
		*rp = ERR_TOO_BIG;
		return NULL;
	}
	if ((p = realloc(arr, ncap * elem)) == NULL) {
		*rp = ERR_ALLOC;
		return NULL;
	}
	*cap = ncap;
	return p;
}

static int
blob_dup(struct blob *dst, const uint8_t *p, size_t len)
{
	dst->len = len;
	if ((dst->p = malloc(len == 0 ? 1 : len)) == NULL)
		return ERR_ALLOC;
	if (len > 0)
		memcpy(dst->p, p, len);
	return 0;
}

static int
blob_cmp(const void *a, const void *b)
{
	const struct blob *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->len == 0 ? 0 : memcmp(x->p, y->p, x->len);
}

static int
range_cmp(const void *a, const void *b)
{
	const struct serial_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
sha1_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SHA1_LEN);
}

static int
sha256_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

static void
krl_ca_clear(struct krl_ca *ca)
{
	size_t i;

	free(ca->ca.p);
	free(ca->ranges);
	for (i = 0; i < ca->nbitmaps; i++)
		buf_free(ca->bitmaps[i].bits);
	free(ca->bitmaps);
	for (i = 0; i < ca->nkey_ids; i++)
		free(ca->key_ids[i]);
	free(ca->key_ids);
}

void
krl_free(struct krl *krl)
{
	size_t i;

	if (krl == NULL)
		return;
	for (i = 0; i < krl->ncas; i++)
		krl_ca_clear(&krl->cas[i]);
	free(krl->cas);
	for (i = 0; i < krl->nkeys; i++)
		free(krl->keys[i].p);
	free(krl->keys);
	buf_free(krl->sha1s);
	buf_free(krl->sha256s);
	free(krl);
}

int
krl_is_binary(const struct krl *krl)
{
	return krl->binary;
}

static struct krl *
krl_new(int binary)
{
	struct krl *krl;

	if ((krl = calloc(1, sizeof(*krl))) == NULL)
		return NULL;
	krl->binary = binary;
	if ((krl->sha1s = buf_new(KRL_FILE_MAX)) == NULL ||
	    (krl->sha256s = buf_new(KRL_FILE_MAX)) == NULL) {
		krl_free(krl);
		return NULL;
	}
	return krl;
}

static int
add_key_blob(struct krl *krl, const uint8_t *p, size_t len)
{
	struct blob *keys;
	int r = ERR_INTERNAL;

	if ((keys = grow(krl->keys, &krl->ckeys, krl->nkeys, sizeof(*keys),
	         &r)) == NULL)
		return r;
	krl->keys = keys;
	if ((r = blob_dup(&krl->keys[krl->nkeys], p, len)) != 0)
		return r;
	krl->nkeys++;
	return 0;
}

static int
add_range(struct krl_ca *ca, uint64_t lo, uint64_t hi)
{
	struct serial_range *ranges;
	int r = ERR_INTERNAL;

	/* Serial zero means "unnumbered": OpenSSH refuses to revoke it. */
	if (lo == 0 || lo > hi) {
		error("KRL certificate section has a bad serial range");
		return ERR_FORMAT;
	}
	if ((ranges = grow(ca->ranges, &ca->cranges, ca->nranges,
	         sizeof(*ranges), &r)) == NULL)
		return r;
	ca->ranges = ranges;
	ca->ranges[ca->nranges].lo = lo;
	ca->ranges[ca->nranges].hi = hi;
	ca->nranges++;
	return 0;
}

static int
section_serial_list(struct krl_ca *ca, struct buf *b)
{
	uint64_t serial;
	int r;

	while (buf_len(b) > 0) {
		if ((r = buf_get_u64(b, &serial)) != 0 ||
		    (r = add_range(ca, serial, serial)) != 0)
			return r;
	}
	return 0;
}

static int
section_serial_range(struct krl_ca *ca, struct buf *b)
{
	uint64_t lo, hi;
	int r;

	if ((r = buf_get_u64(b, &lo)) != 0 || (r = buf_get_u64(b, &hi)) != 0)
		return r;
	return add_range(ca, lo, hi);
}

/* Number of significant bits in a minimal big-endian magnitude. */
static uint64_t
bitmap_nbits(const struct buf *bits)
{
	uint8_t top;
	uint64_t n;
	struct buf tmp = *bits;

	if (buf_len(bits) == 0 || buf_get_u8(&tmp, &top) != 0)
		return 0;
	n = (uint64_t)(buf_len(bits) - 1) * 8;
	while (top != 0) {
		n++;
		top >>= 1;
	}
	return n;
}

/* bitmap_test: bit idx, counted from the least significant end. */
static int
bitmap_test(const struct buf *bits, uint64_t idx)
{
	const uint8_t *p = buf_ptr(bits);
	size_t len = buf_len(bits);

	if (idx / 8 >= len)
		return 0;
	return (p[len - 1 - (size_t)(idx / 8)] >> (idx % 8)) & 1;
}

static int
section_serial_bitmap(struct krl_ca *ca, struct buf *b)
{
	struct bitmap *bm;
	const uint8_t *p;
	size_t len;
	uint64_t offset, nbits;
	int r = ERR_INTERNAL;

	if ((r = buf_get_u64(b, &offset)) != 0 ||
	    (r = buf_get_mpint_direct(b, &p, &len)) != 0)
		return r;
	if ((bm = grow(ca->bitmaps, &ca->cbitmaps, ca->nbitmaps, sizeof(*bm),
	         &r)) == NULL)
		return r;
	ca->bitmaps = bm;
	bm = &ca->bitmaps[ca->nbitmaps];
	bm->offset = offset;
	if ((bm->bits = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	ca->nbitmaps++;
	nbits = bitmap_nbits(bm->bits);
	/* No revoked serial may be zero or beyond 2^64 - 1. */
	if (nbits > 0 &&
	    ((offset == 0 && bitmap_test(bm->bits, 0)) ||
	        nbits - 1 > UINT64_MAX - offset)) {
		error("KRL certificate section has a bad serial bitmap");
		return ERR_FORMAT;
	}
	return 0;
}

static int
section_key_ids(struct krl_ca *ca, struct buf *b)
{
	char **ids;
	int r = ERR_INTERNAL;

	while (buf_len(b) > 0) {
		if ((ids = grow(ca->key_ids, &ca->ckey_ids, ca->nkey_ids,
		         sizeof(*ids), &r)) == NULL)
			return r;
		ca->key_ids = ids;
		if ((r = buf_get_cstring(
		         b, &ca->key_ids[ca->nkey_ids], NULL)) != 0)
			return r;
		ca->nkey_ids++;
	}
	return 0;
}

/* An extension (section or certificate subsection): skip unless critical. */
static int
section_extension(struct buf *b, const char *where)
{
	char *s = NULL;
	int critical, r;

	if ((r = buf_get_cstring(b, &s, NULL)) != 0 ||
	    (r = buf_get_bool(b, &critical)) != 0 ||
	    (r = buf_skip_string(b)) != 0) {
		free(s);
		return r;
	}
	if (critical) {
		error("Unsupported critical KRL %sextension \"%.127s\"", where,
		    s);
		free(s);
		return ERR_FORMAT;
	}
	debug3_f("ignoring KRL %sextension \"%.127s\"", where, s);
	free(s);
	return 0;
}

/* A CA key blob: validated when lib/sshkey knows its type, else kept. */
static int
check_ca_blob(const uint8_t *p, size_t len)
{
	struct sshkey *k = NULL;
	struct buf *b;
	char name[KEY_NAME_MAX];
	const uint8_t *s;
	size_t slen;
	int r;

	if ((r = sshkey_from_blob(p, len, &k)) == 0) {
		sshkey_free(k);
		return 0;
	}
	if (r != ERR_KEY_TYPE)
		return r;
	if ((b = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	r = buf_get_string_direct(b, &s, &slen);
	if (r != 0 || slen >= sizeof(name) ||
	    (slen > 0 && memchr(s, '\0', slen) != NULL)) {
		buf_free(b);
		return ERR_FORMAT;
	}
	if (slen > 0)
		memcpy(name, s, slen);
	name[slen] = '\0';
	buf_free(b);
	/* Certificates are never CAs; other OpenSSH key types may be. */
	return foreign_type(name) && strstr(name, "-cert-") == NULL
	    ? 0
	    : ERR_KEY_TYPE;
}

static int
section_certificates(struct krl *krl, struct buf *b)
{
	struct krl_ca *ca;
	struct buf *sub = NULL;
	const uint8_t *p;
	size_t len;
	uint8_t type;
	int r = ERR_INTERNAL;

	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len > 0 && (r = check_ca_blob(p, len)) != 0) {
		error(
		    "KRL certificate section has a bad CA key: %s", err_str(r));
		return ERR_FORMAT;
	}
	if ((ca = grow(krl->cas, &krl->ccas, krl->ncas, sizeof(*ca), &r)) ==
	    NULL)
		return r;
	krl->cas = ca;
	ca = &krl->cas[krl->ncas];
	memset(ca, 0, sizeof(*ca));
	if ((r = blob_dup(&ca->ca, p, len)) != 0)
		return r;
	krl->ncas++;
	if ((r = buf_skip_string(b)) != 0) /* reserved */
		return r;
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &type)) != 0 ||
		    (r = buf_get_string_direct(b, &p, &len)) != 0)
			goto out;
		buf_free(sub);
		if ((sub = buf_from(p, len)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		switch (type) {
		case KRL_SECTION_CERT_SERIAL_LIST:
			r = section_serial_list(ca, sub);
			break;
		case KRL_SECTION_CERT_SERIAL_RANGE:
			r = section_serial_range(ca, sub);
			break;
		case KRL_SECTION_CERT_SERIAL_BITMAP:
			r = section_serial_bitmap(ca, sub);
			break;
		case KRL_SECTION_CERT_KEY_ID:
			r = section_key_ids(ca, sub);
			break;
		case KRL_SECTION_CERT_EXTENSION:
			r = section_extension(sub, "certificate ");
			break;
		default:
			error("Unsupported KRL certificate section %u",
			    (unsigned)type);
			r = ERR_FORMAT;
			break;
		}
		if (r != 0)
			goto out;
		if (buf_len(sub) > 0) {
			error("KRL certificate section contains unparsed "
			      "data");
			r = ERR_TRAILING;
			goto out;
		}
	}
	r = 0;
out:
	buf_free(sub);
	return r;
}

static int
section_explicit_keys(struct krl *krl, struct buf *b)
{
	const uint8_t *p;
	size_t len;
	int r;

	while (buf_len(b) > 0) {
		if ((r = buf_get_string_direct(b, &p, &len)) != 0)
			return r;
		/* An empty blob can never equal a key: nothing to keep. */
		if (len > 0 && (r = add_key_blob(krl, p, len)) != 0)
			return r;
	}
	return 0;
}

static int
section_hashes(struct buf *dst, struct buf *b, size_t hlen)
{
	const uint8_t *p;
	size_t len;
	int r;

	while (buf_len(b) > 0) {
		if ((r = buf_get_string_direct(b, &p, &len)) != 0)
			return r;
		if (len != hlen) {
			error("KRL hash section: bad hash length %zu", len);
			return ERR_FORMAT;
		}
		if ((r = buf_put(dst, p, len)) != 0)
			return r;
	}
	return 0;
}

/* Merge overlapping or adjacent sorted ranges so a search finds one. */
static void
merge_ranges(struct krl_ca *ca)
{
	size_t i, n = 0;

	if (ca->nranges == 0)
		return;
	qsort(ca->ranges, ca->nranges, sizeof(*ca->ranges), range_cmp);
	for (i = 1; i < ca->nranges; i++) {
		if (ca->ranges[n].hi == UINT64_MAX ||
		    ca->ranges[i].lo <= ca->ranges[n].hi + 1) {
			if (ca->ranges[i].hi > ca->ranges[n].hi)
				ca->ranges[n].hi = ca->ranges[i].hi;
		} else
			ca->ranges[++n] = ca->ranges[i];
	}
	ca->nranges = n + 1;
}

/* qsort and bsearch want a non-NULL base even for no elements. */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int
found(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	return n > 0 && bsearch(key, base, n, size, cmp) != NULL;
}

/* Sort everything once so each check is a binary search. */
static void
krl_sort(struct krl *krl)
{
	size_t i;

	sort(krl->keys, krl->nkeys, sizeof(*krl->keys), blob_cmp);
	sort(buf_mutable_ptr(krl->sha1s), buf_len(krl->sha1s) / SHA1_LEN,
	    SHA1_LEN, sha1_cmp);
	sort(buf_mutable_ptr(krl->sha256s), buf_len(krl->sha256s) / SHA256_LEN,
	    SHA256_LEN, sha256_cmp);
	for (i = 0; i < krl->ncas; i++) {
		merge_ranges(&krl->cas[i]);
		sort(krl->cas[i].key_ids, krl->cas[i].nkey_ids,
		    sizeof(*krl->cas[i].key_ids), str_cmp);
	}
}

static int
parse_binary(struct krl *krl, const uint8_t *data, size_t len)
{
	struct buf *b = NULL, *sect = NULL;
	uint8_t magic[KRL_MAGIC_LEN], type;
	uint32_t format;
	uint64_t version, date, flags;
	const uint8_t *p;
	size_t plen;
	int r;

	if ((b = buf_from(data, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get(b, magic, sizeof(magic))) != 0)
		goto out;
	if (memcmp(magic, KRL_MAGIC, KRL_MAGIC_LEN) != 0) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = buf_get_u32(b, &format)) != 0)
		goto out;
	if (format != KRL_FORMAT_VERSION) {
		/* sshd says only "invalid format", in its caller's line. */
		debug(
		    "KRL has unsupported format version %u", (unsigned)format);
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = buf_get_u64(b, &version)) != 0 ||
	    (r = buf_get_u64(b, &date)) != 0 ||
	    (r = buf_get_u64(b, &flags)) != 0 ||
	    (r = buf_skip_string(b)) != 0 ||                /* reserved */
	    (r = buf_get_string_direct(b, &p, &plen)) != 0) /* comment */
		goto out;
	if (plen > 0 && memchr(p, '\0', plen) != NULL) {
		r = ERR_STRING_NUL;
		goto out;
	}
	debug_f("KRL version %llu generated at %llu",
	    (unsigned long long)version, (unsigned long long)date);
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &type)) != 0 ||
		    (r = buf_get_string_direct(b, &p, &plen)) != 0)
			goto out;
		buf_free(sect);
		if ((sect = buf_from(p, plen)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		switch (type) {
		case KRL_SECTION_CERTIFICATES:
			r = section_certificates(krl, sect);
			break;
		case KRL_SECTION_EXPLICIT_KEY:
			r = section_explicit_keys(krl, sect);
			break;
		case KRL_SECTION_FINGERPRINT_SHA1:
			r = section_hashes(krl->sha1s, sect, SHA1_LEN);
			break;
		case KRL_SECTION_FINGERPRINT_SHA256:
			r = section_hashes(krl->sha256s, sect, SHA256_LEN);
			break;
		case KRL_SECTION_EXTENSION:
			r = section_extension(sect, "");
			break;
		case KRL_SECTION_SIGNATURE:
			/* OpenSSH >= 9.4 refuses signed KRLs too. */
			error("KRL signatures are not supported");
			r = ERR_FORMAT;
			break;
		default:
			error("Unsupported KRL section %u", (unsigned)type);
			r = ERR_FORMAT;
			break;
		}
		if (r != 0)
			goto out;
		if (buf_len(sect) > 0) {
			error("KRL section contains unparsed data");
			r = ERR_TRAILING;
			goto out;
		}
	}
	r = 0;
out:
	buf_free(sect);
	buf_free(b);
	return r;
}

/*
 * One text line naming a key type lib/sshkey cannot parse: keep a plain
 * key's blob as it is (it can only ever equal a key of that type) and
 * skip a certificate, whose key is of that type too.
 */
static int
text_foreign_key(struct krl *krl, const char *name, const char *s)
{
	struct buf *b = NULL;
	uint8_t *blob = NULL;
	const uint8_t *p;
	size_t blen, bmax, bloblen = 0, plen;
	int r;

	s += strcspn(s, " \t");
	s += strspn(s, " \t");
	blen = strcspn(s, " \t\r\n");
	if (blen == 0 || blen > (KEY_BLOB_MAX + 2) / 3 * 4)
		return ERR_FORMAT;
	bmax = blen / 4 * 3 + 3;
	if ((blob = malloc(bmax)) == NULL)
		return ERR_ALLOC;
	if ((r = base64_decode(s, blen, blob, bmax, &bloblen)) != 0)
		goto out;
	if ((b = buf_from(blob, bloblen)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* The blob must name the same type as the line. */
	if ((r = buf_get_string_direct(b, &p, &plen)) != 0)
		goto out;
	if (plen != strlen(name) || memcmp(p, name, plen) != 0) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	if (strstr(name, "-cert-") != NULL) {
		debug_f("skipping %s certificate", name);
		r = 0;
		goto out;
	}
	r = add_key_blob(krl, blob, bloblen);
out:
	buf_free(b);
	free(blob);
	return r;
}

/* One non-comment line of a text list: "TYPE BASE64 [comment]". */
static int
text_line(struct krl *krl, const char *s)
{
	struct sshkey *k = NULL;
	struct sshcert *c = NULL;
	const struct sshkey *plain;
	struct buf *blob = NULL;
	char name[KEY_NAME_MAX];
	size_t tlen;
	int r;

	tlen = strcspn(s, " \t\r\n");
	if (tlen == 0 || tlen >= sizeof(name))
		return ERR_FORMAT;
	memcpy(name, s, tlen);
	name[tlen] = '\0';
	if (sshcert_is_cert_name(name))
		r = sshcert_parse_text(s, &c, NULL);
	else
		r = sshkey_parse_public_text(s, &k, NULL);
	if (r == ERR_KEY_TYPE && foreign_type(name))
		return text_foreign_key(krl, name, s);
	/*
	 * An RSA key postern cannot read (shorter than 1024 bits, most
	 * likely: what people revoke) is skipped, as sshd skips one of a
	 * length it refuses; no such key logs in anyway.
	 */
	if (r == ERR_BAD_KEY && strcmp(name, "ssh-rsa") == 0) {
		debug2("revoked keys list: an RSA key postern does not read, "
		       "skipped");
		return 0;
	}
	if (r == ERR_KEY_TYPE)
		r = ERR_FORMAT; /* as sshd words a line it cannot read */
	if (r != 0)
		goto out;
	plain = c != NULL ? c->key : k;
	if ((blob = buf_new(KEY_BLOB_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* A FIDO key's certificate revokes that key. */
	if ((r = plain != NULL ? sshkey_to_blob(plain, blob)
	                       : sshkey_sk_to_blob(c->sk_key, blob)) != 0 ||
	    (r = add_key_blob(krl, buf_ptr(blob), buf_len(blob))) != 0)
		goto out;
out:
	buf_free(blob);
	sshkey_free(k);
	sshcert_free(c);
	return r;
}

static int
parse_text(struct krl *krl, const uint8_t *data, size_t len)
{
	char *text = NULL, *line, *next;
	unsigned long lineno = 0;
	int r = 0;

	if (len > 0 && memchr(data, '\0', len) != NULL) {
		error("revoked keys list contains a NUL byte");
		return ERR_FORMAT;
	}
	if ((text = malloc(len + 1)) == NULL)
		return ERR_ALLOC;
	if (len > 0)
		memcpy(text, data, len);
	text[len] = '\0';
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0' || *line == '\r')
			continue;
		if ((r = text_line(krl, line)) != 0) {
			error("revoked keys list: line %lu: bad key: %s",
			    lineno, err_str(r));
			break;
		}
	}
	free(text);
	return r;
}

int
krl_from_bytes(const uint8_t *data, size_t len, struct krl **krlp)
{
	struct krl *krl = NULL;
	int binary, r;

	*krlp = NULL;
	if (len > KRL_FILE_MAX)
		return ERR_TOO_BIG;
	binary =
	    len >= KRL_MAGIC_LEN && memcmp(data, KRL_MAGIC, KRL_MAGIC_LEN) == 0;
	if ((krl = krl_new(binary)) == NULL)
		return ERR_ALLOC;
	r = binary ? parse_binary(krl, data, len) : parse_text(krl, data, len);
	if (r != 0) {
		krl_free(krl);
		return r;
	}
	krl_sort(krl);
	*krlp = krl;
	return 0;
}

int
krl_load(const char *path, struct krl **krlp)
{
	struct buf *b = NULL;
	struct stat st;
	int fd, r, saved;

	*krlp = NULL;
	/* O_NONBLOCK: a FIFO without a writer reads as empty, never hangs. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return ERR_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		r = ERR_SYSTEM;
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > KRL_FILE_MAX) {
		r = ERR_TOO_BIG;
		goto out;
	}
	if ((b = buf_new(KRL_FILE_MAX + 4096)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_read_fd(b, fd, KRL_FILE_MAX)) != 0)
		goto out;
	r = krl_from_bytes(buf_ptr(b), buf_len(b), krlp);
out:
	saved = errno;
	buf_free(b);
	close(fd);
	errno = saved;
	return r;
}

/* Is a plain key revoked by hash or by blob? */
static int
plain_revoked(const struct krl *krl, const struct sshkey *key)
{
	struct buf *blob = NULL;
	int r;

	if ((blob = buf_new(KEY_BLOB_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = sshkey_to_blob(key, blob)) == 0)
		r = krl_check_blob(krl, buf_ptr(blob), buf_len(blob));
	buf_free(blob);
	return r;
}

int
krl_check_blob(const struct krl *krl, const uint8_t *p, size_t len)
{
	struct blob want;
	uint8_t md[DIGEST_MAX_LEN];
	int r;

	if (buf_len(krl->sha1s) > 0) {
		if ((r = digest_memory(DIGEST_SHA1, p, len, md)) != 0)
			goto out;
		if (found(md, buf_ptr(krl->sha1s),
		        buf_len(krl->sha1s) / SHA1_LEN, SHA1_LEN, sha1_cmp)) {
			debug_f("revoked by key SHA1");
			r = ERR_PERM;
			goto out;
		}
	}
	if (buf_len(krl->sha256s) > 0) {
		if ((r = digest_memory(DIGEST_SHA256, p, len, md)) != 0)
			goto out;
		if (found(md, buf_ptr(krl->sha256s),
		        buf_len(krl->sha256s) / SHA256_LEN, SHA256_LEN,
		        sha256_cmp)) {
			debug_f("revoked by key SHA256");
			r = ERR_PERM;
			goto out;
		}
	}
	/* found() compares, never writes: the cast only fits struct blob. */
	want.p = (uint8_t *)(uintptr_t)p;
	want.len = len;
	if (found(&want, krl->keys, krl->nkeys, sizeof(*krl->keys), blob_cmp)) {
		debug_f("revoked by explicit key");
		r = ERR_PERM;
		goto out;
	}
	r = 0;
out:
	return r;
}

static int
serial_revoked(const struct krl_ca *ca, uint64_t serial)
{
	size_t lo = 0, hi = ca->nranges, mid, i;
	const struct bitmap *bm;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (serial < ca->ranges[mid].lo)
			hi = mid;
		else if (serial > ca->ranges[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	for (i = 0; i < ca->nbitmaps; i++) {
		bm = &ca->bitmaps[i];
		if (serial >= bm->offset &&
		    bitmap_test(bm->bits, serial - bm->offset))
			return 1;
	}
	return 0;
}

/* Is the certificate revoked by key id or serial under its CA (ca_blob)? */
static int
cert_revoked(
    const struct krl *krl, const struct sshcert *cert, struct buf *ca_blob)
{
	struct blob want;
	const struct krl_ca *ca;
	char *id = cert->key_id;
	size_t i;

	want.p = buf_mutable_ptr(ca_blob);
	want.len = buf_len(ca_blob);
	for (i = 0; i < krl->ncas; i++) {
		ca = &krl->cas[i];
		if (ca->ca.len != 0 && blob_cmp(&ca->ca, &want) != 0)
			continue;
		if (found(&id, ca->key_ids, ca->nkey_ids, sizeof(*ca->key_ids),
		        str_cmp)) {
			debug_f("revoked by key ID");
			return ERR_PERM;
		}
		/* Zero is the serial of certificates the CA did not number. */
		if (cert->serial != 0 && serial_revoked(ca, cert->serial)) {
			debug_f("revoked by serial");
			return ERR_PERM;
		}
	}
	return 0;
}

/* A FIDO key (the certified key, or a CA) revoked as a key blob? */
static int
sk_revoked(const struct krl *krl, const struct sshkey_sk *key)
{
	struct buf *blob = buf_new(KEY_BLOB_MAX);
	int r;

	if (blob == NULL)
		return ERR_ALLOC;
	if ((r = sshkey_sk_to_blob(key, blob)) == 0)
		r = krl_check_blob(krl, buf_ptr(blob), buf_len(blob));
	buf_free(blob);
	return r;
}

int
krl_check_key(
    const struct krl *krl, const struct sshkey *key, const struct sshcert *cert)
{
	struct buf *ca_blob;
	int r;

	if (key != NULL && (r = plain_revoked(krl, key)) != 0)
		return r;
	if (cert == NULL)
		return 0;
	if (cert->key != NULL && cert->key != key &&
	    (r = plain_revoked(krl, cert->key)) != 0)
		return r;
	if (cert->sk_key != NULL && (r = sk_revoked(krl, cert->sk_key)) != 0)
		return r;
	if ((ca_blob = buf_new(KEY_BLOB_MAX)) == NULL)
		return ERR_ALLOC;
	/* Its serial or ID under its CA, then the CA key itself. */
	if ((r = sshcert_ca_to_blob(cert, ca_blob)) == 0 &&
	    (r = cert_revoked(krl, cert, ca_blob)) == 0)
		r = krl_check_blob(krl, buf_ptr(ca_blob), buf_len(ca_blob));
	buf_free(ca_blob);
	return r;
}
