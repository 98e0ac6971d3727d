/*
 * test_fwdpolicy.c: the forwarding policy the monitor hands the session:
 * PermitOpen/PermitListen entries as sshd_config writes them, what they
 * admit, and the IPC encoding with its range checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fwdpolicy.h"
#include "policy/config.h"
#include "tests/unit/t.h"

static void
test_permits(void)
{
	char *open_words[] = {"127.0.0.1:22", "[::1]:80", "db:*", "*:443"};
	char *listen_words[] = {"*:8080", "local*:9000"};
	char *none[] = {"none"}, *any[] = {"any"}, *bad[] = {"foo:x"};
	struct fwd_policy p;
	const char *why = NULL;

	fwd_policy_init(&p);
	T_CHECK("permits: defaults allow all",
	    authopts_permits_open_ok(&p.permitopen, "x", 1) &&
	        authopts_permits_listen_ok(&p.permitlisten, "x", 1) &&
	        p.allow_tcp == FWD_ALL && p.bind_mask == 0177);
	T_CHECK("permits: PermitOpen parsed",
	    fwd_policy_add_permits(&p.permitopen, open_words, 4, 0, &why) == 0);
	T_CHECK("permits: open exact",
	    authopts_permits_open_ok(&p.permitopen, "127.0.0.1", 22));
	T_CHECK("permits: open bracketed v6",
	    authopts_permits_open_ok(&p.permitopen, "::1", 80));
	T_CHECK("permits: open any port",
	    authopts_permits_open_ok(&p.permitopen, "db", 5432));
	T_CHECK("permits: open any host",
	    authopts_permits_open_ok(&p.permitopen, "example.org", 443));
	T_CHECK("permits: open refuses others",
	    !authopts_permits_open_ok(&p.permitopen, "127.0.0.1", 23) &&
	        !authopts_permits_open_ok(&p.permitopen, "127.0.0.2", 22) &&
	        !authopts_permits_open_ok(&p.permitopen, "DB", 1));
	T_CHECK("permits: PermitListen parsed",
	    fwd_policy_add_permits(&p.permitlisten, listen_words, 2, 1, &why) ==
	        0);
	T_CHECK("permits: listen patterns",
	    authopts_permits_listen_ok(&p.permitlisten, "0.0.0.0", 8080) &&
	        authopts_permits_listen_ok(
	            &p.permitlisten, "LocalHost", 9000) &&
	        !authopts_permits_listen_ok(&p.permitlisten, "example", 9000) &&
	        !authopts_permits_listen_ok(&p.permitlisten, "localhost", 0));
	fwd_policy_free(&p);
	T_CHECK("permits: none admits nothing",
	    fwd_policy_add_permits(&p.permitopen, none, 1, 0, &why) == 0 &&
	        p.permitopen.restricted && p.permitopen.n == 0 &&
	        !authopts_permits_open_ok(&p.permitopen, "x", 1));
	fwd_policy_free(&p);
	T_CHECK("permits: any admits all",
	    fwd_policy_add_permits(&p.permitopen, any, 1, 0, &why) == 0 &&
	        !p.permitopen.restricted);
	T_CHECK("permits: bad port refused",
	    fwd_policy_add_permits(&p.permitopen, bad, 1, 0, &why) ==
	            ERR_FORMAT &&
	        why != NULL && strcmp(why, "invalid permission port") == 0);
	fwd_policy_free(&p);
}

static void
test_encoding(void)
{
	char *words[] = {"a:1", "b:*"};
	struct fwd_policy p, q;
	struct buf *b = buf_new(65536), *c;
	const char *why;
	size_t len, i;
	int ok = 1;

	fwd_policy_init(&p);
	p.allow_tcp = FWD_LOCAL;
	p.allow_streamlocal = 0;
	p.gateway_ports = FWD_GATEWAY_CLIENTSPECIFIED;
	p.disable = 1;
	p.bind_mask = 022;
	p.bind_unlink = 1;
	(void)fwd_policy_add_permits(&p.permitopen, words, 2, 0, &why);
	p.permitlisten.restricted = 1;
	T_CHECK("encoding: serialize", fwd_policy_serialize(&p, b) == 0);
	len = buf_len(b);
	c = buf_new(65536);
	(void)buf_put(c, buf_ptr(b), len);
	T_CHECK("encoding: round trip",
	    fwd_policy_deserialize(b, &q) == 0 && q.allow_tcp == FWD_LOCAL &&
	        q.allow_streamlocal == 0 &&
	        q.gateway_ports == FWD_GATEWAY_CLIENTSPECIFIED &&
	        q.disable == 1 && q.bind_mask == 022 && q.bind_unlink == 1 &&
	        q.permitopen.n == 2 && q.permitopen.v[1].port == 0 &&
	        strcmp(q.permitopen.v[1].host, "b") == 0 &&
	        q.permitlisten.restricted && q.permitlisten.n == 0);
	fwd_policy_free(&q);
	/* Every truncation fails; so does a trailing byte. */
	for (i = 0; i < len; i++) {
		struct buf *t = buf_new(65536);

		(void)buf_put(t, buf_ptr(c), i);
		if (fwd_policy_deserialize(t, &q) == 0)
			ok = 0;
		buf_free(t);
	}
	T_CHECK("encoding: truncations refused", ok);
	(void)buf_put_u32(c, 0);
	T_CHECK("encoding: trailing bytes refused",
	    fwd_policy_deserialize(c, &q) != 0);
	buf_reset(b);
	p.allow_tcp = 4;
	(void)fwd_policy_serialize(&p, b);
	T_CHECK("encoding: bad AllowTcpForwarding refused",
	    fwd_policy_deserialize(b, &q) == ERR_FORMAT);
	buf_reset(b);
	p.allow_tcp = FWD_ALL;
	p.bind_mask = 01000;
	(void)fwd_policy_serialize(&p, b);
	T_CHECK("encoding: bad mask refused",
	    fwd_policy_deserialize(b, &q) == ERR_FORMAT);
	fwd_policy_free(&p);
	buf_free(b);
	buf_free(c);
}

int
main(void)
{
	test_permits();
	test_encoding();
	return T_DONE();
}
