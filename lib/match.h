/*
 * match.h: OpenSSH's pattern language (ssh_config(5) PATTERNS): '*' and '?'
 * wildcards, comma-separated lists, '!' negation, and address/CIDR lists.
 */
#ifndef POSTERN_MATCH_H
#define POSTERN_MATCH_H

/* match_pattern: 1 if s matches one wildcard pattern ('*', '?'). */
int match_pattern(const char *s, const char *pattern);

/*
 * match_pattern_list: s against a comma-separated list of patterns, some
 * negated with '!'. Returns 1 if a positive pattern matches and no negated
 * one does, -1 if a negated pattern matches (a negated match always
 * wins), 0 otherwise. icase folds ASCII case (host names).
 */
int match_pattern_list(const char *s, const char *list, int icase);

/*
 * match_addr_list: an IP address against a list of address patterns,
 * each a wildcard pattern or an address/prefix (CIDR), optionally negated.
 * Returns 1, 0 or -1 as match_pattern_list; -2 if the list is malformed
 * (a bad CIDR entry), which callers treat as "no match" after logging.
 * addr NULL: only checks the list's syntax (returns 0 or -2).
 */
int match_addr_list(const char *addr, const char *list);

/*
 * match_addr_pattern_list: OpenSSH's addr_match_list() (Match Address,
 * the address half of a HOST list): each entry an address or CIDR block,
 * else a wildcard pattern; 1 a match, -1 a negated entry matched, 0 none
 * (also for an addr that is no address), -2 malformed (an empty entry, a
 * bad CIDR block). addr NULL only checks the list.
 */
int match_addr_pattern_list(const char *addr, const char *list);

/*
 * match_host_and_ip: OpenSSH's match_host_and_ip(), for a "HOST" list of
 * host name patterns, address patterns and CIDR blocks (authorized_keys
 * from=, AllowUsers/DenyUsers USER@HOST): 1 if addr is in an address or
 * CIDR entry or host matches a name pattern, and no negated entry of
 * either kind matches; 0 otherwise (also for host or addr NULL); -1 if
 * the list is malformed (an empty entry, a bad CIDR block).
 */
int match_host_and_ip(const char *host, const char *addr, const char *list);

/*
 * match_cidr_list: OpenSSH's addr_match_cidr_list(): addresses and CIDR
 * blocks only, no negation or wildcards (a certificate's source-address).
 * 1 match, 0 none, -1 malformed. addr NULL only checks the list.
 */
int match_cidr_list(const char *addr, const char *list);

/*
 * match_user_host: the AllowUsers/DenyUsers pattern form "USER[@HOST]",
 * the user part one wildcard pattern (up to the last '@'), HOST a list as
 * match_host_and_ip() takes (host NULL: the address stands for it).
 * 1 if it matches.
 */
int match_user_host(
    const char *user, const char *host, const char *addr, const char *pattern);

#endif
