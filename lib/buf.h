/*
 * buf.h: the one bounds-checked byte buffer and SSH wire codec (RFC 4251 s5).
 * All packet and IPC bytes are read and written through these functions.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_MAX_DEFAULT (256 * 1024)    /* cap when none is given */
#define BUF_MAX_HARD (64 * 1024 * 1024) /* no buffer may ever exceed this */

#define BUF_SECRET 0x1 /* wipe contents when resized, reset or freed */

/*
 * Unread bytes are data[rpos, wpos). Reads advance rpos, writes advance wpos.
 * A buffer never grows beyond max.
 */
struct buf {
	uint8_t *data;
	size_t rpos;
	size_t wpos;
	size_t cap;
	size_t max;
	unsigned flags;
};

struct buf *buf_new(size_t max);
struct buf *buf_new_secret(size_t max);
/* buf_from copies len bytes into a new buffer capped at max(len, 1). */
struct buf *buf_from(const void *data, size_t len);
/* buf_from_secret: the same, as a buffer wiped when reset or freed. */
struct buf *buf_from_secret(const void *data, size_t len);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);

size_t buf_len(const struct buf *b);
const uint8_t *buf_ptr(const struct buf *b);
uint8_t *buf_mutable_ptr(struct buf *b);
size_t buf_max(const struct buf *b);
int buf_set_max(struct buf *b, size_t max);
/* buf_end: 0 when every byte was consumed, ERR_TRAILING otherwise. */
int buf_end(const struct buf *b);

/* buf_reserve appends len uninitialised bytes and returns a pointer to them. */
int buf_reserve(struct buf *b, size_t len, uint8_t **dst);
int buf_consume(struct buf *b, size_t len);
int buf_consume_end(struct buf *b, size_t len);
/*
 * buf_read_fd: append what fd gives until end of file (EAGAIN on a
 * non-blocking fd counts as the end). ERR_TOO_BIG once the buffer holds
 * more than max bytes; ERR_SYSTEM (errno set) on a read error.
 */
int buf_read_fd(struct buf *b, int fd, size_t max);
/* buf_compact drops consumed bytes so the unread data starts at offset 0. */
void buf_compact(struct buf *b);

int buf_put(struct buf *b, const void *data, size_t len);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
int buf_put_bool(struct buf *b, int v);
int buf_put_string(struct buf *b, const void *data, size_t len);
int buf_put_cstring(struct buf *b, const char *s);
int buf_put_stringb(struct buf *b, const struct buf *src);
/* buf_put_mpint_bytes: non-negative big-endian magnitude as an SSH mpint. */
int buf_put_mpint_bytes(struct buf *b, const uint8_t *be, size_t len);
int buf_put_bytes_as_string(struct buf *b, const uint8_t *d, size_t len);

int buf_get(struct buf *b, void *out, size_t len);
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
int buf_get_bool(struct buf *b, int *v);
int buf_peek_u32(const struct buf *b, uint32_t *v);
/* buf_get_string: malloc'd copy with a NUL appended (not counted in *lenp). */
int buf_get_string(struct buf *b, uint8_t **out, size_t *lenp);
/* buf_get_string_direct: pointer into the buffer, valid until it changes. */
int buf_get_string_direct(struct buf *b, const uint8_t **out, size_t *lenp);
/*
 * buf_get_cstring: like buf_get_string but rejects embedded NUL bytes;
 * one NUL as the last byte is allowed and dropped (not in *lenp).
 */
int buf_get_cstring(struct buf *b, char **out, size_t *lenp);
/*
 * buf_get_cstring_fixed: a short string without NULs (but for one
 * final NUL, dropped) into out (outlen including the NUL); ERR_FORMAT
 * when it does not fit. For names.
 */
int buf_get_cstring_fixed(struct buf *b, char *out, size_t outlen);
/*
 * buf_cstring_trim: a C string on the wire may end in one NUL, which is
 * not part of it (OpenSSH's sshbuf_get_cstring allows the same: some
 * clients send their terminator); -1 for a NUL anywhere else. Takes the
 * final NUL off *len.
 */
int buf_cstring_trim(const uint8_t *p, size_t *len);
/* buf_get_stringb appends the string's contents to dst. */
int buf_get_stringb(struct buf *b, struct buf *dst);
/* buf_get_mpint_direct: non-negative mpint, leading zeros stripped. */
int buf_get_mpint_direct(struct buf *b, const uint8_t **out, size_t *lenp);
/* buf_skip_string consumes a string without looking at it. */
int buf_skip_string(struct buf *b);

/* secrets */
void wipe(void *p, size_t len);
void freezero(void *p, size_t len);
/* ct_eq: constant-time equality of two equal-length regions, 1 if equal. */
int ct_eq(const void *a, const void *b, size_t len);

#endif
