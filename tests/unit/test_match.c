/* test_match.c: OpenSSH pattern, list, negation and CIDR matching. */
#include "match.h"
#include "t.h"

int
main(void)
{
	T_CHECK("literal", match_pattern("alice", "alice") == 1);
	T_CHECK("literal mismatch", match_pattern("alice", "alic") == 0);
	T_CHECK("star", match_pattern("alice", "a*") == 1);
	T_CHECK("star middle", match_pattern("backup01", "back*01") == 1);
	T_CHECK("star empty", match_pattern("", "*") == 1);
	T_CHECK("question", match_pattern("bob", "b?b") == 1);
	T_CHECK("question needs a char", match_pattern("bb", "b?b") == 0);
	T_CHECK("backtracking", match_pattern("aaab", "*a*b") == 1);
	T_CHECK("no partial", match_pattern("alice2", "alice") == 0);
	T_CHECK("case sensitive", match_pattern("Alice", "alice") == 0);

	T_CHECK("list first", match_pattern_list("bob", "bob,carol", 0) == 1);
	T_CHECK("list none", match_pattern_list("dave", "bob,carol", 0) == 0);
	T_CHECK(
	    "negation wins", match_pattern_list("root", "*,!root", 0) == -1);
	T_CHECK("negation order irrelevant",
	    match_pattern_list("root", "!root,*", 0) == -1);
	T_CHECK("negation alone is no match",
	    match_pattern_list("bob", "!root", 0) == 0);
	T_CHECK("icase host",
	    match_pattern_list("Host.Example.COM", "*.example.com", 1) == 1);

	T_CHECK(
	    "cidr v4", match_addr_list("192.168.1.7", "192.168.1.0/24") == 1);
	T_CHECK("cidr v4 out",
	    match_addr_list("192.168.2.7", "192.168.1.0/24") == 0);
	T_CHECK("cidr /0", match_addr_list("8.8.8.8", "0.0.0.0/0") == 1);
	T_CHECK("cidr odd prefix",
	    match_addr_list("10.0.0.130", "10.0.0.128/25") == 1);
	T_CHECK(
	    "cidr v6", match_addr_list("2001:db8::1", "2001:db8::/32") == 1);
	T_CHECK(
	    "cidr family mismatch", match_addr_list("10.0.0.1", "::/0") == 0);
	T_CHECK("cidr negated",
	    match_addr_list("10.0.0.1", "10.0.0.0/8,!10.0.0.1") == -1);
	T_CHECK("address wildcard", match_addr_list("10.1.2.3", "10.1.*") == 1);
	T_CHECK(
	    "plain address", match_addr_list("127.0.0.1", "127.0.0.1") == 1);
	T_CHECK(
	    "malformed cidr", match_addr_list("10.0.0.1", "10.0.0.0/33") == -2);
	T_CHECK("host bits set is malformed",
	    match_addr_list("10.0.0.1", "10.0.0.1/8") == -2);
	T_CHECK(
	    "syntax check only", match_addr_list(NULL, "10.0.0.0/8,::1") == 0);

	T_CHECK("user only",
	    match_user_host("alice", "h", "1.2.3.4", "alice") == 1);
	T_CHECK("user@cidr",
	    match_user_host("alice", NULL, "10.0.0.5", "alice@10.0.0.0/8") ==
	        1);
	T_CHECK("user@cidr other addr",
	    match_user_host("alice", NULL, "11.0.0.5", "alice@10.0.0.0/8") ==
	        0);
	T_CHECK("user@host pattern",
	    match_user_host("bob", "ws1.lan", "10.0.0.5", "b*@*.lan") == 1);
	T_CHECK("user@host wrong user",
	    match_user_host("carol", "ws1.lan", "10.0.0.5", "b*@*.lan") == 0);
	T_CHECK("user@addr wildcard",
	    match_user_host("bob", NULL, "127.0.0.1", "bob@127.0.0.*") == 1);
	/* As sshd 9.2: USER ends at the first '@'. */
	T_CHECK("user@ up to the first @",
	    match_user_host("alice", NULL, "10.0.0.5", "alice@10.0.0.5,x@y") ==
	        1);
	T_CHECK("a name with @ is not split at its last @",
	    match_user_host("a@b", NULL, "10.0.0.5", "a@b@10.0.0.5") == 0);
	/* HOST lists mixing names and CIDR blocks, as OpenSSH's match_user. */
	T_CHECK("user@name,cidr",
	    match_user_host(
	        "root", NULL, "10.1.2.3", "root@gw.lan,10.0.0.0/8") == 1);
	T_CHECK("user@cidr,name",
	    match_user_host(
	        "root", NULL, "10.1.2.3", "root@10.0.0.0/8,gw.lan") == 1);
	T_CHECK("user@name,cidr other addr",
	    match_user_host(
	        "root", NULL, "11.1.2.3", "root@gw.lan,10.0.0.0/8") == 0);
	T_CHECK("user@negated cidr wins",
	    match_user_host("bob", NULL, "10.1.2.3", "bob@*,!10.1.0.0/16") ==
	        0);
	T_CHECK("user@negated cidr, other addr",
	    match_user_host("bob", NULL, "10.2.2.3", "bob@*,!10.1.0.0/16") ==
	        1);
	T_CHECK("user@negated name wins",
	    match_user_host(
	        "bob", "x.lan", "10.2.2.3", "bob@10.0.0.0/8,!*.lan") == 0);
	T_CHECK("host_and_ip empty entry",
	    match_host_and_ip("h", "10.0.0.1", "10.0.0.1,") == -1);
	return T_DONE();
}
