/*
 * fuzz_authkeys.c: libFuzzer target for authorized_keys lines: splitting,
 * option parsing, the checks, merging and the IPC encoding round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authdebug.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "sshkey.h"
#include "sshkey_sk.h"
#include "authopts.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A real key, so that option text in front of it reaches the parser. */
static const char fuzz_key[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAobB4iociU7JhqGiL0eO0dz23zx/0Mq"
    "2Sni6W3yHnRh fuzz";

/* encode, decode, encode again: both encodings must be identical. */
static void
round_trip(const struct authopts *o)
{
	struct buf *b1 = buf_new(0), *b2 = buf_new(0), *t = NULL;
	struct authopts *d = NULL;

	if (b1 == NULL || b2 == NULL || authopts_serialize(o, b1) != 0)
		goto out;
	if ((t = buf_from(buf_ptr(b1), buf_len(b1))) == NULL)
		goto out;
	if (authopts_deserialize(t, &d) != 0 || buf_len(t) != 0)
		abort();
	if (authopts_serialize(d, b2) != 0 || buf_len(b1) != buf_len(b2) ||
	    memcmp(buf_ptr(b1), buf_ptr(b2), buf_len(b1)) != 0)
		abort();
out:
	authopts_free(d);
	buf_free(t);
	buf_free(b1);
	buf_free(b2);
}

static void
exercise(const struct authopts *o)
{
	struct authopts *m, *n, *d;

	round_trip(o);
	(void)authopts_check_from(o, "host.example.com", "192.0.2.1");
	(void)authopts_check_from(o, NULL, "2001:db8::1");
	(void)authopts_check_expiry(o, 1700000000);
	(void)authopts_permitopen_ok(o, "localhost", 22);
	(void)authopts_permitlisten_ok(o, "LocalHost", 8080);
	(void)authopts_is_unrestricted(o);
	authopts_log(o, "fuzz:1",
	    AUTHOPTS_LOG_ENV | AUTHOPTS_LOG_OPEN | AUTHOPTS_LOG_REMOTE);
	authdebug_clear();
	/* Merging with itself must keep it; with defaults, not widen it. */
	if ((m = authopts_merge(o, o)) != NULL) {
		round_trip(m);
		if (m->permit_pty != o->permit_pty ||
		    m->permit_port_forwarding != o->permit_port_forwarding ||
		    m->expiry != o->expiry || m->nenv != o->nenv)
			abort();
	}
	if ((d = authopts_new(1)) != NULL &&
	    (n = authopts_merge(d, o)) != NULL) {
		if (n->permit_pty > o->permit_pty ||
		    n->require_verify < o->require_verify ||
		    n->permitopen.n > o->permitopen.n)
			abort();
		authopts_free(n);
	}
	authopts_free(d);
	authopts_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct authopts *o = NULL;
	struct sshkey *k = NULL;
	struct sshkey_sk *sk = NULL;
	const char *opts, *key, *err;
	size_t optslen;
	char *line, *withkey;
	int r;

	if (!init) {
		log_init("fuzz_authkeys", LL_DEBUG3, 0, 0);
		log_set_handler(fuzz_quiet, NULL);
		init = 1;
	}
	if (size > 20000 || (line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';

	/* The input as a whole line. */
	r = authkeys_split_line(line, &opts, &optslen, &key);
	if (r == 0 &&
	    (key < line || key > line + size ||
	        (opts != NULL && opts + optslen > line + size)))
		abort();
	r = authkeys_parse_line(line, &k, &o, &err);
	if ((r == 0) != (o != NULL) || (r == ERR_FORMAT && err == NULL))
		abort();
	if (o != NULL)
		exercise(o);
	sshkey_free(k);
	authopts_free(o);
	k = NULL;
	o = NULL;

	/* The same with FIDO security keys: at most one key comes back. */
	r = authkeys_parse_line_sk(line, &k, &sk, &o, &err);
	if ((r == 0) != (o != NULL) || (r == 0 && (k == NULL) == (sk == NULL)))
		abort();
	sshkey_free(k);
	sshkey_sk_free(sk);
	authopts_free(o);
	k = NULL;
	sk = NULL;
	o = NULL;

	/* The input as an options field, directly and in front of a key. */
	if (authopts_parse(line, &o, &err) == 0) {
		exercise(o);
		authopts_free(o);
		o = NULL;
	} else if (err == NULL)
		abort();
	if ((withkey = malloc(size + sizeof(fuzz_key) + 1)) != NULL) {
		memcpy(withkey, line, strlen(line));
		withkey[strlen(line)] = ' ';
		memcpy(withkey + strlen(line) + 1, fuzz_key, sizeof(fuzz_key));
		if (authkeys_parse_line(withkey, &k, &o, &err) == 0)
			exercise(o);
		sshkey_free(k);
		authopts_free(o);
		free(withkey);
	}
	free(line);
	return 0;
}
