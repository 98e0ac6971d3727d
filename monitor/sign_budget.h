/*
 * sign_budget.h: how many host key signatures the session process may have
 * (its key re-exchanges): a token bucket that time and the connection's
 * traffic, as the kernel counts it, fill.
 */
#ifndef POSTERN_SIGN_BUDGET_H
#define POSTERN_SIGN_BUDGET_H

#include <stdint.h>

#define SIGN_BUDGET_BURST 16       /* signatures in hand at the start */
#define SIGN_BUDGET_REFILL_MS 2000 /* one more per this much time, */
/*
 * and one per these bytes on the wire: fewer than the smallest key
 * exchange puts there (two KEXINITs of one algorithm each, curve25519's
 * ECDH_INIT and ECDH_REPLY with an Ed25519 key and signature, two
 * NEWKEYS: some 800 bytes), so that every exchange earns its signature
 * with its own bytes, however often the client starts one (OpenSSH's
 * RekeyLimit goes down to 16 bytes).
 */
#define SIGN_BUDGET_REFILL_BYTES 512

struct sign_budget {
	int64_t milli;   /* thousandths of a signature in hand */
	int64_t last_ms; /* monotonic clock at the last refill */
	uint64_t last_bytes;
	int64_t refill_ms;
	uint64_t refill_bytes;
	int sock; /* the client's TCP socket, for its byte counts */
	const uint64_t *relayed; /* or inetd mode's relay's count */
	unsigned long granted;
};

/*
 * sign_budget_init: a full bucket. RekeyLimit (bytes, seconds; 0: none)
 * shortens the refills to it, so that the server's own re-exchanges
 * always find a signature.
 */
void sign_budget_init(
    struct sign_budget *sb, int sock, long long rekey_bytes, int rekey_s);

/*
 * sign_budget_relayed: the connection's bytes are counted by inetd mode's
 * relay (count, shared memory), not by a TCP socket.
 */
void sign_budget_relayed(struct sign_budget *sb, const uint64_t *count);

/* sign_budget_take: 0 and one signature taken, or -1: none left. */
int sign_budget_take(struct sign_budget *sb);

#endif
