/*
 * zcomp.h: one direction of SSH packet compression (RFC 4253 s6.2,
 * zlib@openssh.com): a zlib stream that runs across packets, each packet
 * ended with a partial flush, inflated output bounded.
 */
#ifndef POSTERN_ZCOMP_H
#define POSTERN_ZCOMP_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct zcomp;

/* zcomp_new: deflating (sending) if deflate is 1, else inflating. */
int zcomp_new(struct zcomp **zp, int deflate);
/* zcomp_free wipes the stream's history (it holds session plaintext). */
void zcomp_free(struct zcomp *z);
/* 1 once any data went through the stream. */
int zcomp_used(const struct zcomp *z);

/* zcomp_deflate: compress len bytes of in, appending to out. */
int zcomp_deflate(
    struct zcomp *z, const uint8_t *in, size_t len, struct buf *out);
/*
 * zcomp_inflate: decompress len bytes of in, appending to out; ERR_TOO_BIG
 * once the output would exceed max bytes (a decompression bomb),
 * ERR_FORMAT on a corrupt stream.
 */
int zcomp_inflate(struct zcomp *z, const uint8_t *in, size_t len,
    struct buf *out, size_t max);

#endif
