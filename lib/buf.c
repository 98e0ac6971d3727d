/* buf.c: bounds-checked byte buffer and SSH wire encoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"

void
wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	wipe(p, len);
	free(p);
}

int
ct_eq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

static struct buf *
buf_alloc(size_t max, unsigned flags)
{
	struct buf *b;

	if (max == 0)
		max = BUF_MAX_DEFAULT;
	if (max > BUF_MAX_HARD)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max;
	b->flags = flags;
	return b;
}

struct buf *
buf_new(size_t max)
{
	return buf_alloc(max, 0);
}

struct buf *
buf_new_secret(size_t max)
{
	return buf_alloc(max, BUF_SECRET);
}

static struct buf *
buf_copy_of(const void *data, size_t len, unsigned flags)
{
	struct buf *b;

	if ((b = buf_alloc(len == 0 ? 1 : len, flags)) == NULL)
		return NULL;
	if (buf_put(b, data, len) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

struct buf *
buf_from(const void *data, size_t len)
{
	return buf_copy_of(data, len, 0);
}

struct buf *
buf_from_secret(const void *data, size_t len)
{
	return buf_copy_of(data, len, BUF_SECRET);
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->flags & BUF_SECRET)
		freezero(b->data, b->cap);
	else
		free(b->data);
	freezero(b, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	if (b->flags & BUF_SECRET)
		wipe(b->data, b->cap);
	b->rpos = b->wpos = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->wpos - b->rpos;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	return b->data == NULL ? NULL : b->data + b->rpos;
}

uint8_t *
buf_mutable_ptr(struct buf *b)
{
	return b->data == NULL ? NULL : b->data + b->rpos;
}

size_t
buf_max(const struct buf *b)
{
	return b->max;
}

int
buf_set_max(struct buf *b, size_t max)
{
	if (max > BUF_MAX_HARD || max < b->wpos - b->rpos)
		return ERR_TOO_BIG;
	b->max = max;
	return 0;
}

int
buf_end(const struct buf *b)
{
	return buf_len(b) == 0 ? 0 : ERR_TRAILING;
}

void
buf_compact(struct buf *b)
{
	size_t n = b->wpos - b->rpos;

	if (b->rpos == 0)
		return;
	if (n > 0)
		memmove(b->data, b->data + b->rpos, n);
	if (b->flags & BUF_SECRET)
		wipe(b->data + n, b->wpos - n);
	b->rpos = 0;
	b->wpos = n;
}

int
buf_reserve(struct buf *b, size_t len, uint8_t **dst)
{
	size_t need, ncap;
	uint8_t *n;

	if (len > b->max || b->wpos - b->rpos > b->max - len)
		return ERR_TOO_BIG;
	/* Reuse consumed space before growing. */
	if (b->wpos + len > b->cap && b->rpos > 0)
		buf_compact(b);
	need = b->wpos + len;
	if (need > b->cap) {
		ncap = b->cap < 256 ? 256 : b->cap;
		while (ncap < need)
			ncap = ncap > b->max / 2 ? b->max : ncap * 2;
		if (ncap > b->max)
			ncap = b->max;
		if (b->flags & BUF_SECRET) {
			/* Never leave a secret behind in freed memory. */
			if ((n = malloc(ncap)) == NULL)
				return ERR_ALLOC;
			if (b->wpos > 0)
				memcpy(n, b->data, b->wpos);
			freezero(b->data, b->cap);
		} else if ((n = realloc(b->data, ncap)) == NULL)
			return ERR_ALLOC;
		b->data = n;
		b->cap = ncap;
	}
	/* No arithmetic on a NULL data pointer (len is 0 then). */
	if (dst != NULL)
		*dst = b->data == NULL ? NULL : b->data + b->wpos;
	b->wpos += len;
	return 0;
}

int
buf_consume(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return ERR_SHORT;
	b->rpos += len;
	if (b->rpos == b->wpos)
		b->rpos = b->wpos = 0;
	return 0;
}

int
buf_consume_end(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return ERR_SHORT;
	b->wpos -= len;
	return 0;
}

int
buf_read_fd(struct buf *b, int fd, size_t max)
{
	uint8_t *p;
	ssize_t n;
	int r;

	for (;;) {
		if ((r = buf_reserve(b, 4096, &p)) != 0)
			return r;
		n = read(fd, p, 4096);
		/* Give back what read() did not fill. */
		(void)buf_consume_end(b, n > 0 ? 4096 - (size_t)n : 4096);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n == -1)
			return ERR_SYSTEM;
		if (n == 0)
			return 0;
		if (buf_len(b) > max)
			return ERR_TOO_BIG;
	}
}

int
buf_put(struct buf *b, const void *data, size_t len)
{
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, len, &p)) != 0)
		return r;
	if (len > 0)
		memcpy(p, data, len);
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4];

	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return buf_put(b, p, 4);
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t p[8];
	int i;

	/* One write, so that a full buffer is left unchanged. */
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	return buf_put(b, p, 8);
}

int
buf_put_bool(struct buf *b, int v)
{
	return buf_put_u8(b, v ? 1 : 0);
}

int
buf_put_string(struct buf *b, const void *data, size_t len)
{
	uint8_t *p;
	int r;

	if (len > UINT32_MAX || len > BUF_MAX_HARD)
		return ERR_TOO_BIG;
	if ((r = buf_reserve(b, 4 + len, &p)) != 0)
		return r;
	p[0] = len >> 24;
	p[1] = len >> 16;
	p[2] = len >> 8;
	p[3] = len;
	if (len > 0)
		memcpy(p + 4, data, len);
	return 0;
}

int
buf_put_bytes_as_string(struct buf *b, const uint8_t *d, size_t len)
{
	return buf_put_string(b, d, len);
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
buf_put_stringb(struct buf *b, const struct buf *src)
{
	return buf_put_string(b, buf_ptr(src), buf_len(src));
}

int
buf_put_mpint_bytes(struct buf *b, const uint8_t *be, size_t len)
{
	uint8_t *p;
	size_t pad;
	int r;

	while (len > 0 && be[0] == 0) {
		be++;
		len--;
	}
	pad = (len > 0 && (be[0] & 0x80)) ? 1 : 0;
	if (len + pad > BUF_MAX_HARD)
		return ERR_TOO_BIG;
	/* Reserve length and value together: a failure writes nothing. */
	if ((r = buf_reserve(b, 4 + len + pad, &p)) != 0)
		return r;
	p[0] = (uint8_t)((len + pad) >> 24);
	p[1] = (uint8_t)((len + pad) >> 16);
	p[2] = (uint8_t)((len + pad) >> 8);
	p[3] = (uint8_t)(len + pad);
	p += 4;
	if (pad)
		*p++ = 0;
	if (len > 0)
		memcpy(p, be, len);
	return 0;
}

int
buf_get(struct buf *b, void *out, size_t len)
{
	if (len > buf_len(b))
		return ERR_SHORT;
	if (out != NULL && len > 0)
		memcpy(out, buf_ptr(b), len);
	return buf_consume(b, len);
}

int
buf_peek_u32(const struct buf *b, uint32_t *v)
{
	const uint8_t *p = buf_ptr(b);

	if (buf_len(b) < 4)
		return ERR_SHORT;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    p[3];
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint32_t x;
	int r;

	if ((r = buf_peek_u32(b, &x)) != 0)
		return r;
	if (v != NULL)
		*v = x;
	return buf_consume(b, 4);
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (buf_len(b) < 8)
		return ERR_SHORT;
	if ((r = buf_get_u32(b, &hi)) != 0 || (r = buf_get_u32(b, &lo)) != 0)
		return r;
	if (v != NULL)
		*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
buf_get_bool(struct buf *b, int *v)
{
	uint8_t x;
	int r;

	if ((r = buf_get_u8(b, &x)) != 0)
		return r;
	if (v != NULL)
		*v = x != 0;
	return 0;
}

int
buf_get_string_direct(struct buf *b, const uint8_t **out, size_t *lenp)
{
	uint32_t len;
	int r;

	if (out != NULL)
		*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, &len)) != 0)
		return r;
	if (len > BUF_MAX_HARD)
		return ERR_TOO_BIG;
	if (buf_len(b) - 4 < len)
		return ERR_SHORT;
	if (out != NULL)
		*out = buf_ptr(b) + 4;
	if (lenp != NULL)
		*lenp = len;
	return buf_consume(b, 4 + (size_t)len);
}

int
buf_skip_string(struct buf *b)
{
	return buf_get_string_direct(b, NULL, NULL);
}

int
buf_get_string(struct buf *b, uint8_t **out, size_t *lenp)
{
	const uint8_t *p;
	uint8_t *s;
	size_t len;
	int r;

	*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	/* Peek first so that a failed allocation leaves the buffer intact. */
	{
		struct buf tmp = *b;

		if ((r = buf_get_string_direct(&tmp, &p, &len)) != 0)
			return r;
	}
	if ((s = malloc(len + 1)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_string_direct(b, &p, &len)) != 0) {
		free(s);
		return r;
	}
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_cstring_trim(const uint8_t *p, size_t *len)
{
	const uint8_t *z;

	if (*len == 0)
		return 0;
	z = memchr(p, '\0', *len);
	if (z == NULL)
		return 0;
	if (z != p + *len - 1)
		return -1;
	(*len)--;
	return 0;
}

int
buf_get_cstring(struct buf *b, char **out, size_t *lenp)
{
	struct buf tmp = *b;
	const uint8_t *p;
	size_t len;
	int r;

	*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_get_string_direct(&tmp, &p, &len)) != 0)
		return r;
	if (buf_cstring_trim(p, &len) != 0)
		return ERR_STRING_NUL;
	if ((*out = malloc(len + 1)) == NULL)
		return ERR_ALLOC;
	if (len > 0)
		memcpy(*out, p, len);
	(*out)[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	*b = tmp;
	return 0;
}

int
buf_get_cstring_fixed(struct buf *b, char *out, size_t outlen)
{
	struct buf tmp = *b;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(&tmp, &p, &len)) != 0)
		return r;
	if (buf_cstring_trim(p, &len) != 0)
		return ERR_STRING_NUL;
	if (len >= outlen)
		return ERR_FORMAT;
	if (len > 0)
		memcpy(out, p, len);
	out[len] = '\0';
	*b = tmp;
	return 0;
}

int
buf_get_stringb(struct buf *b, struct buf *dst)
{
	struct buf tmp = *b;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(&tmp, &p, &len)) != 0)
		return r;
	if ((r = buf_put(dst, p, len)) != 0)
		return r;
	return buf_get_string_direct(b, NULL, NULL);
}

int
buf_get_mpint_direct(struct buf *b, const uint8_t **out, size_t *lenp)
{
	struct buf tmp = *b;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(&tmp, &p, &len)) != 0)
		return r;
	/* At most 16384 bits: 2048 bytes, plus a 00 when the top bit is set. */
	if (len > 16384 / 8 + 1 || (len == 16384 / 8 + 1 && p[0] != 0))
		return ERR_TOO_BIG;
	if (len > 0 && (p[0] & 0x80))
		return ERR_FORMAT; /* negative */
	/*
	 * RFC 4251 s5 has senders write no unneeded leading 00; as sshd,
	 * one that does is read all the same (an authorized_keys line some
	 * tool wrote so, say): every leading 00 goes.
	 */
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	*out = p;
	*lenp = len;
	*b = tmp;
	return 0;
}
