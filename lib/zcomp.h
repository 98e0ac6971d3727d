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

/*
 * Hand-over of a stream between processes without serialising zlib's
 * state (a stream is a deterministic function of its input): while
 * recording, every input (each packet's payload to deflate, or compressed
 * bytes to inflate) is kept, at most max bytes of them counted as SSH
 * strings, and the output hashed (SHA-256). zcomp_record: call before
 * the first use; zcomp_deflate/zcomp_inflate then return ERR_LIMIT once
 * the history would exceed max.
 * zcomp_export: string history, string SHA-256 of the output; the history
 * is wiped and recording ends. zcomp_import: a fresh stream fed the
 * history, its output (inflated packets bounded by max) discarded;
 * ERR_MAC when the replayed output's hash differs (another zlib, or a
 * forged history).
 */
int zcomp_record(struct zcomp *z, size_t max);
int zcomp_export(struct zcomp *z, struct buf *out);
int zcomp_import(struct zcomp **zp, int deflate, struct buf *in, size_t max);

#endif
