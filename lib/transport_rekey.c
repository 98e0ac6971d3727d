/*
 * transport_rekey.c: RekeyLimit's interval: a key exchange of our own once
 * that many seconds have passed since the keys last changed. A timer the
 * event loop runs; the byte limit is checked per packet in transport.c.
 */
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport_int.h"

int64_t
transport_monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
transport_poll_ms_until(int64_t due)
{
	int64_t wait;

	if (due == 0)
		return -1;
	wait = due - transport_monotime_ms();
	if (wait < 0)
		return 0;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

void
transport_rekey_clock_start(struct transport *t)
{
	t->rekey_clock_ms = transport_monotime_ms();
}

int
transport_may_rekey(const struct transport *t)
{
	return t->params.kex_max == 0 || t->kex_count < t->params.kex_max;
}

int
transport_kex_busy(const struct transport *t)
{
	return t->kex != KEX_NONE || t->kex_count == 0 ||
	    t->held_head != NULL || t->building;
}

/* The deadline, or 0 when no interval applies right now. */
static int64_t
rekey_due_ms(const struct transport *t)
{
	if (t->params.rekey_interval == 0 || t->kex != KEX_NONE ||
	    t->kex_count == 0 || !t->authenticated || !transport_may_rekey(t))
		return 0;
	return t->rekey_clock_ms + (int64_t)t->params.rekey_interval * 1000;
}

int
transport_rekey_poll_ms(const struct transport *t)
{
	return transport_poll_ms_until(rekey_due_ms(t));
}

int
transport_rekey_timer(struct transport *t)
{
	int64_t due = rekey_due_ms(t);

	/* Not in the middle of a packet the caller is building. */
	if (due == 0 || t->building || transport_monotime_ms() < due)
		return 0;
	debug("rekeying: %u seconds since the last key exchange",
	    t->params.rekey_interval);
	return kex_send_kexinit(t);
}

int
transport_rekey_put(struct buf *b, uint64_t bytes, uint32_t secs)
{
	int r;

	if ((r = buf_put_u64(b, bytes)) != 0 || (r = buf_put_u32(b, secs)) != 0)
		return r;
	return 0;
}

int
transport_rekey_get(struct buf *b, struct transport_params *p)
{
	uint64_t bytes;
	uint32_t secs;
	int r;

	if ((r = buf_get_u64(b, &bytes)) != 0 ||
	    (r = buf_get_u32(b, &secs)) != 0)
		return r;
	/* What the config parser lets through: 0 or at least 16 bytes. */
	if ((bytes != 0 && bytes < 16) || secs > INT_MAX)
		return ERR_FORMAT;
	p->rekey_limit = bytes;
	p->rekey_interval = secs;
	return 0;
}
