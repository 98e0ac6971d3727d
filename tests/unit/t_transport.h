/*
 * t_transport.h: a server transport for unit tests, on one end of a fresh
 * socketpair (sv), with one algorithm of each kind; its KEXINIT is out.
 * t_transport_new_pause: with transport_params.out_pause set.
 */
#ifndef POSTERN_T_TRANSPORT_H
#define POSTERN_T_TRANSPORT_H

#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>

#include "transport.h"

static inline struct transport *
t_transport_new_pause(int sv[2], size_t out_pause)
{
	struct transport_params p;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return NULL;
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&p, 0, sizeof(p));
	p.version = "SSH-2.0-postern_test";
	p.kex_algs = "curve25519-sha256";
	p.hostkey_algs = "ssh-ed25519";
	p.ciphers = "aes128-ctr";
	p.macs = "hmac-sha2-256";
	p.out_pause = out_pause;
	return transport_new(sv[0], &p);
}

static inline struct transport *
t_transport_new(int sv[2])
{
	return t_transport_new_pause(sv, 0);
}

#endif
