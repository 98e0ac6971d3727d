/*
 * usedns.h: the client's host name for UseDNS (usedns.c).
 */
#ifndef POSTERN_USEDNS_H
#define POSTERN_USEDNS_H

struct conn_info;

/*
 * conn_host_resolve: ci->client_host from ci->client_addr: with use_dns,
 * the address's verified PTR name (sshd's checks and log lines), else
 * (and whenever a check fails) the address itself.
 */
void conn_host_resolve(struct conn_info *ci, int use_dns);

#endif
