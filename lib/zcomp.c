/*
 * zcomp.c: SSH packet compression over zlib: one stream per direction,
 * Z_PARTIAL_FLUSH after each packet as OpenSSH does, so the peer can
 * decompress every packet as it arrives.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "zcomp.h"

#define ZCHUNK 4096
#define ZLEVEL 6

struct zcomp {
	z_stream s;
	int deflate;
	int used;
	struct buf *rec;         /* recorded inputs, or NULL */
	struct digest_ctx *hash; /* SHA-256 of the output, while recording */
};

/* zlib allocations are wiped on free: the window holds plaintext. */
static voidpf
zalloc(voidpf opaque, uInt items, uInt size)
{
	size_t *p;
	size_t n;

	if (size != 0 && items > (SIZE_MAX - sizeof(size_t)) / size)
		return Z_NULL;
	n = (size_t)items * size;
	if ((p = calloc(1, n + sizeof(size_t))) == NULL)
		return Z_NULL;
	p[0] = n;
	return p + 1;
}

static void
zfree(voidpf opaque, voidpf ptr)
{
	size_t *p = ptr;

	if (p == NULL)
		return;
	p--;
	freezero(p, p[0] + sizeof(size_t));
}

int
zcomp_new(struct zcomp **zp, int deflate)
{
	struct zcomp *z;
	int zr;

	*zp = NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return ERR_ALLOC;
	z->deflate = deflate != 0;
	z->s.zalloc = zalloc;
	z->s.zfree = zfree;
	zr = z->deflate ? deflateInit(&z->s, ZLEVEL) : inflateInit(&z->s);
	if (zr != Z_OK) {
		free(z);
		return zr == Z_MEM_ERROR ? ERR_ALLOC : ERR_INTERNAL;
	}
	*zp = z;
	return 0;
}

void
zcomp_free(struct zcomp *z)
{
	if (z == NULL)
		return;
	if (z->deflate)
		deflateEnd(&z->s);
	else
		inflateEnd(&z->s);
	buf_free(z->rec);
	digest_free(z->hash);
	freezero(z, sizeof(*z));
}

int
zcomp_used(const struct zcomp *z)
{
	return z != NULL && z->used;
}

int
zcomp_record(struct zcomp *z, size_t max)
{
	if (z == NULL || z->used || z->rec != NULL)
		return ERR_BAD_STATE;
	if ((z->rec = buf_new_secret(max)) == NULL ||
	    (z->hash = digest_start(DIGEST_SHA256)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* While recording, keep each input as a string; ERR_LIMIT past the cap. */
static int
record_input(struct zcomp *z, const uint8_t *in, size_t len)
{
	if (z->rec == NULL)
		return 0;
	if (len > buf_max(z->rec) - buf_len(z->rec) ||
	    buf_max(z->rec) - buf_len(z->rec) - len < 4) {
		/* Recording ends (zcomp_export then fails); the stream goes on,
		 * so the caller can still send its disconnect. */
		buf_free(z->rec);
		digest_free(z->hash);
		z->rec = NULL;
		z->hash = NULL;
		return ERR_LIMIT;
	}
	return buf_put_string(z->rec, in, len);
}

/* While recording, hash what the stream produced from out's start on. */
static int
record_output(struct zcomp *z, const struct buf *out, size_t start)
{
	if (z->hash == NULL)
		return 0;
	return digest_update(
	    z->hash, buf_ptr(out) + start, buf_len(out) - start);
}

int
zcomp_deflate(struct zcomp *z, const uint8_t *in, size_t len, struct buf *out)
{
	uint8_t *p;
	int r, zr;

	size_t start;

	if (z == NULL || !z->deflate || out == NULL || len > UINT32_MAX)
		return ERR_INTERNAL;
	if ((r = record_input(z, in, len)) != 0)
		return r;
	start = buf_len(out);
	z->used = 1;
	z->s.next_in = (Bytef *)in;
	z->s.avail_in = (uInt)len;
	do {
		if ((r = buf_reserve(out, ZCHUNK, &p)) != 0)
			return r;
		z->s.next_out = p;
		z->s.avail_out = ZCHUNK;
		zr = deflate(&z->s, Z_PARTIAL_FLUSH);
		buf_consume_end(out, z->s.avail_out);
		/* Z_BUF_ERROR: the previous round filled the chunk exactly
		 * and nothing was left to flush. */
		if (zr == Z_BUF_ERROR && z->s.avail_in == 0)
			break;
		if (zr != Z_OK)
			return ERR_INTERNAL;
	} while (z->s.avail_out == 0);
	if (z->s.avail_in != 0)
		return ERR_INTERNAL;
	return record_output(z, out, start);
}

int
zcomp_inflate(
    struct zcomp *z, const uint8_t *in, size_t len, struct buf *out, size_t max)
{
	size_t start, room;
	uint8_t *p;
	int r, zr;

	if (z == NULL || z->deflate || out == NULL || len > UINT32_MAX)
		return ERR_INTERNAL;
	if ((r = record_input(z, in, len)) != 0)
		return r;
	start = buf_len(out);
	z->used = 1;
	z->s.next_in = (Bytef *)in;
	z->s.avail_in = (uInt)len;
	for (;;) {
		room = buf_len(out) - start < max ? max - (buf_len(out) - start)
		                                  : 0;
		if (room == 0) {
			/* Exactly max bytes, unless one more comes out. */
			uint8_t more;

			z->s.next_out = &more;
			z->s.avail_out = 1;
			zr = inflate(&z->s, Z_SYNC_FLUSH);
			if (zr == Z_BUF_ERROR && z->s.avail_in == 0 &&
			    z->s.avail_out == 1)
				return record_output(z, out, start);
			return ERR_TOO_BIG;
		}
		if (room > ZCHUNK)
			room = ZCHUNK;
		if ((r = buf_reserve(out, room, &p)) != 0)
			return r;
		z->s.next_out = p;
		z->s.avail_out = (uInt)room;
		zr = inflate(&z->s, Z_SYNC_FLUSH);
		buf_consume_end(out, z->s.avail_out);
		if (zr == Z_BUF_ERROR && z->s.avail_in == 0 &&
		    z->s.avail_out > 0) /* all input used, nothing more */
			return record_output(z, out, start);
		if (zr != Z_OK)
			return ERR_FORMAT;
		if (z->s.avail_in == 0 && z->s.avail_out > 0)
			return record_output(z, out, start);
	}
}

int
zcomp_export(struct zcomp *z, struct buf *out)
{
	uint8_t md[32];
	int r;

	if (z == NULL || z->rec == NULL || z->hash == NULL)
		return ERR_BAD_STATE;
	r = digest_final(z->hash, md);
	z->hash = NULL;
	if (r == 0 && (r = buf_put_stringb(out, z->rec)) == 0)
		r = buf_put_string(out, md, sizeof(md));
	/* The history holds preauth plaintext (passwords): gone now. */
	buf_free(z->rec);
	z->rec = NULL;
	wipe(md, sizeof(md));
	return r;
}

int
zcomp_import(struct zcomp **zp, int deflate, struct buf *in, size_t max)
{
	struct zcomp *z = NULL;
	struct digest_ctx *hash = NULL;
	struct buf *scratch = NULL, recs;
	const uint8_t *p, *want, *one;
	uint8_t md[32];
	size_t len, wantlen, onelen;
	int r;

	*zp = NULL;
	if ((r = buf_get_string_direct(in, &p, &len)) != 0 ||
	    (r = buf_get_string_direct(in, &want, &wantlen)) != 0)
		return r;
	if (wantlen != sizeof(md))
		return ERR_FORMAT;
	memset(&recs, 0, sizeof(recs));
	recs.data = (uint8_t *)p;
	recs.wpos = recs.cap = recs.max = len;
	if ((r = zcomp_new(&z, deflate)) != 0)
		return r;
	if ((hash = digest_start(DIGEST_SHA256)) == NULL ||
	    (scratch = buf_new_secret(max + ZCHUNK)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* Replay the history; the output is only hashed, then dropped. */
	while (buf_len(&recs) > 0) {
		buf_reset(scratch);
		if ((r = buf_get_string_direct(&recs, &one, &onelen)) != 0)
			goto out;
		r = deflate ? zcomp_deflate(z, one, onelen, scratch)
		            : zcomp_inflate(z, one, onelen, scratch, max);
		if (r != 0 ||
		    (r = digest_update(
		         hash, buf_ptr(scratch), buf_len(scratch))) != 0)
			goto out;
	}
	r = digest_final(hash, md);
	hash = NULL;
	if (r != 0)
		goto out;
	if (!ct_eq(md, want, sizeof(md))) {
		r = ERR_MAC;
		goto out;
	}
	*zp = z;
	z = NULL;
out:
	wipe(md, sizeof(md));
	digest_free(hash);
	buf_free(scratch);
	zcomp_free(z);
	return r;
}
