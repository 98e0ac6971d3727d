/*
 * access.h: AllowUsers, DenyUsers, AllowGroups and DenyGroups, checked in
 * OpenSSH's order with OpenSSH's log lines.
 */
#ifndef POSTERN_ACCESS_H
#define POSTERN_ACCESS_H

#include <sys/types.h>

#include "policy/config.h"

/*
 * access_user_allowed: 1 if user (with primary group gid) connecting from
 * host/addr passes the configured Allow/Deny lists; 0 after logging why
 * not ("User U from H not allowed because ...").
 */
int access_user_allowed(const struct server_config *c, const char *user,
    gid_t gid, const char *host, const char *addr);

#endif
