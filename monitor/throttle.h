/*
 * throttle.h: the listener's MaxStartups and PerSourceMaxStartups
 * bookkeeping that is not the count itself: the block of addresses a
 * client belongs to (PerSourceNetBlockSize), and sshd's log lines when
 * connections start and stop being dropped.
 */
#ifndef POSTERN_THROTTLE_H
#define POSTERN_THROTTLE_H

#include <sys/socket.h>

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A client address with all but its first v4 or v6 bits cleared. */
struct source_block {
	int family; /* AF_INET, AF_INET6, or 0: unknown, never counted */
	uint8_t addr[16];
};

/*
 * sockaddr_unmap: an IPv4-mapped IPv6 address (::ffff:A.B.C.D, an IPv4
 * client on a dual-stack socket) made the IPv4 one, port kept, in place;
 * *len follows. Any other address is left as it is.
 */
struct sockaddr_storage;
void sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len);

/*
 * The block of sa: an IPv4-mapped IPv6 address counts as the IPv4 one.
 * Any other family gives family 0.
 */
void source_block_of(const struct sockaddr *sa, socklen_t len, int v4bits,
    int v6bits, struct source_block *out);
/* 1 if a and b are the same known block. */
int source_block_eq(const struct source_block *a, const struct source_block *b);

/*
 * The numeric address and port of fd's peer (local 0) or of its own end
 * (local 1); "UNKNOWN" and "0" when they cannot be had, "UNKNOWN" and
 * "65535" when fd is not an IP socket. -1 (errno set) when getpeername or
 * getsockname failed, else 0.
 */
int socket_end_name(
    int fd, int local, char host[NI_MAXHOST], char port[NI_MAXSERV]);

/* "HH:MM:SS" below a day, "NdHHhMMm" below a week, else "NNwNdHHh". */
void throttle_timeframe(time_t secs, char *buf, size_t len);

struct throttle {
	time_t first_drop; /* monotonic seconds */
	time_t last_drop;  /* 0: not throttling */
	unsigned ndropped;
};

/*
 * A connection is let in with nstartups startups before it: ends a
 * throttling episode once nstartups is below begin - 1 (sshd's words).
 */
void throttle_pass(struct throttle *t, size_t nstartups, int begin);
/*
 * Connection fd is dropped as connection #nstartups: the log lines of
 * sshd (the first of an episode and one every five minutes at INFO, the
 * others at VERBOSE) and "Exceeded MaxStartups" to the client, best
 * effort. The caller closes fd.
 */
void throttle_drop(struct throttle *t, int fd, size_t nstartups);

#endif
