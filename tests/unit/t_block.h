/*
 * t_block.h: for unit tests, the PerSourceNetBlockSize block of an address
 * written as text, as the listener makes it from a peer (throttle.h).
 */
#ifndef POSTERN_T_BLOCK_H
#define POSTERN_T_BLOCK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string.h>

#include "monitor/throttle.h"

/* The block of address a ("1.2.3.4" or IPv6 text) at these lengths. */
static inline struct source_block
t_block(const char *a, int v4bits, int v6bits)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct source_block b;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (strchr(a, ':') != NULL) {
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, a, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		in->sin_family = AF_INET;
		inet_pton(AF_INET, a, &in->sin_addr);
		len = sizeof(*in);
	}
	source_block_of((struct sockaddr *)&ss, len, v4bits, v6bits, &b);
	return b;
}

#endif
