/*
 * zcomp.c: SSH packet compression over zlib: one stream per direction,
 * Z_PARTIAL_FLUSH after each packet as OpenSSH does, so the peer can
 * decompress every packet as it arrives.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "err.h"
#include "zcomp.h"

#define ZCHUNK 4096
#define ZLEVEL 6

struct zcomp {
	z_stream s;
	int deflate;
	int used;
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
	freezero(z, sizeof(*z));
}

int
zcomp_used(const struct zcomp *z)
{
	return z != NULL && z->used;
}

int
zcomp_deflate(struct zcomp *z, const uint8_t *in, size_t len, struct buf *out)
{
	uint8_t *p;
	int r, zr;

	if (z == NULL || !z->deflate || out == NULL || len > UINT32_MAX)
		return ERR_INTERNAL;
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
	return z->s.avail_in == 0 ? 0 : ERR_INTERNAL;
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
	start = buf_len(out);
	z->used = 1;
	z->s.next_in = (Bytef *)in;
	z->s.avail_in = (uInt)len;
	for (;;) {
		room = buf_len(out) - start < max ? max - (buf_len(out) - start)
		                                  : 0;
		if (room == 0)
			return ERR_TOO_BIG;
		if (room > ZCHUNK)
			room = ZCHUNK;
		if ((r = buf_reserve(out, room, &p)) != 0)
			return r;
		z->s.next_out = p;
		z->s.avail_out = (uInt)room;
		zr = inflate(&z->s, Z_SYNC_FLUSH);
		buf_consume_end(out, z->s.avail_out);
		if (zr == Z_BUF_ERROR && z->s.avail_in == 0 &&
		    z->s.avail_out > 0)
			return 0; /* all input used, nothing more to give */
		if (zr != Z_OK)
			return ERR_FORMAT;
		if (z->s.avail_in == 0 && z->s.avail_out > 0)
			return 0;
	}
}
