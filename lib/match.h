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
 * match_user_host: the AllowUsers/DenyUsers pattern form "USER[@HOST]",
 * where HOST may be a host name pattern, an address pattern or a CIDR.
 * 1 if it matches.
 */
int match_user_host(
    const char *user, const char *host, const char *addr, const char *pattern);

#endif
