/*
 * sign_budget.c: the session process runs as the user; were it taken over,
 * every host key signature it obtains is one over data it chose. Rekeying
 * needs one per exchange: the exchanges RekeyLimit starts come with time
 * or with traffic, so the bucket refills with both (traffic as the kernel
 * counts it on the client's socket, which the session cannot forge without
 * sending it). A client's own re-exchanges, by its RekeyLimit or at will,
 * earn theirs with the bytes each exchange itself puts on the wire
 * (sign_budget.h); the burst covers what the kernel has not counted yet.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/tcp.h>

#include <string.h>

#include "ipc.h"
#include "monitor/sign_budget.h"

/* Bytes the client acknowledged plus bytes received from it; 0 unknown. */
static uint64_t
wire_bytes(int sock)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (sock < 0 || getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_bytes_acked + ti.tcpi_bytes_received;
}

static uint64_t
budget_bytes(const struct sign_budget *sb)
{
	if (sb->relayed != NULL)
		return __atomic_load_n(sb->relayed, __ATOMIC_RELAXED);
	return wire_bytes(sb->sock);
}

void
sign_budget_relayed(struct sign_budget *sb, const uint64_t *count)
{
	sb->relayed = count;
	sb->last_bytes = budget_bytes(sb);
}

void
sign_budget_init(
    struct sign_budget *sb, int sock, long long rekey_bytes, int rekey_s)
{
	memset(sb, 0, sizeof(*sb));
	sb->sock = sock;
	sb->milli = (int64_t)SIGN_BUDGET_BURST * 1000;
	sb->refill_ms = SIGN_BUDGET_REFILL_MS;
	if (rekey_s > 0 && (int64_t)rekey_s * 1000 < sb->refill_ms)
		sb->refill_ms = (int64_t)rekey_s * 1000;
	sb->refill_bytes = SIGN_BUDGET_REFILL_BYTES;
	if (rekey_bytes > 0 && (uint64_t)rekey_bytes < sb->refill_bytes)
		sb->refill_bytes = (uint64_t)rekey_bytes;
	sb->last_ms = ipc_now_ms();
	sb->last_bytes = wire_bytes(sock);
}

int
sign_budget_take(struct sign_budget *sb)
{
	int64_t now = ipc_now_ms(), full = (int64_t)SIGN_BUDGET_BURST * 1000;
	uint64_t bytes = budget_bytes(sb), db = 0;

	if (bytes > sb->last_bytes)
		db = bytes - sb->last_bytes;
	/* Both terms are capped before they are added: no overflow. */
	if (now > sb->last_ms)
		sb->milli +=
		    (now - sb->last_ms) >= sb->refill_ms * SIGN_BUDGET_BURST
		    ? full
		    : (now - sb->last_ms) * 1000 / sb->refill_ms;
	sb->milli += db >= sb->refill_bytes * SIGN_BUDGET_BURST
	    ? full
	    : (int64_t)(db * 1000 / sb->refill_bytes);
	if (sb->milli > full)
		sb->milli = full;
	sb->last_ms = now;
	sb->last_bytes = bytes;
	if (sb->milli < 1000)
		return -1;
	sb->milli -= 1000;
	sb->granted++;
	return 0;
}
