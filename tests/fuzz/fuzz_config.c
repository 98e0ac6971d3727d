/*
 * fuzz_config.c: libFuzzer target for the sshd_config engine: arbitrary
 * bytes as up to four config files that may Include one another, through
 * the global pass, the defaults, the dump, the Match pass for a few
 * connections and the wire form; or as the wire form itself, a -C
 * specification, or a string to expand tokens in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "policy/config.h"
#include "policy/config_int.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFILES 4
#define SEPARATOR 0xff /* between files in the input */

static const char *const paths[NFILES] = {
    "/etc/ssh/sshd_config",
    "/etc/ssh/a.conf",
    "/etc/ssh/sshd_config.d/b.conf",
    "/etc/ssh/sshd_config.d/c.conf",
};

static FILE *devnull;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_config: %s\n", what);
	abort();
}

/* The wire form must round-trip to the same bytes. */
static void
round_trip(const struct config_source *src)
{
	struct config_source *back = NULL;
	struct buf *a, *b;

	if ((a = buf_new(CONFIG_SOURCE_MAX)) == NULL ||
	    (b = buf_new(CONFIG_SOURCE_MAX)) == NULL)
		die("out of memory");
	if (config_source_serialize(src, a) != 0)
		die("serialize failed");
	if (config_source_deserialize(a, &back) != 0)
		die("deserialize of a serialized source failed");
	if (config_source_serialize(back, b) != 0)
		die("serialize again failed");
	buf_reset(a);
	if (config_source_serialize(src, a) != 0 || buf_len(a) != buf_len(b) ||
	    memcmp(buf_ptr(a), buf_ptr(b), buf_len(a)) != 0)
		die("wire form changed in a round trip");
	config_source_free(back);
	buf_free(a);
	buf_free(b);
}

/* Load the global settings, then apply Match for a few connections. */
static void
exercise(const struct config_source *src)
{
	static const struct match_conn conns[] = {
	    {"root", "192.0.2.7", "192.0.2.7", "192.0.2.1", 22, NULL, 0},
	    {"alice", "2001:db8::7", "2001:db8::7", "2001:db8::1", 2222, "vrf0",
	        0},
	    {"nobody-xyz", "10.1.2.3", "10.1.2.3", "10.0.0.1", 22, NULL, 1},
	    {NULL, NULL, NULL, NULL, 0, NULL, 0},
	};
	struct server_config c;
	size_t i;

	config_init(&c);
	if (config_load_source(&c, src) == 0) {
		config_fill_defaults(&c);
		(void)config_check(&c);
		config_dump(&c, devnull);
		/* Each connection's blocks on top of the previous ones. */
		for (i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
			if (config_apply_match(&c, src, &conns[i]) == 0)
				config_dump(&c, devnull);
		}
	}
	config_free(&c);
}

static void
fuzz_files(const uint8_t *data, size_t size)
{
	struct cfg_memfile files[NFILES];
	struct config_source *src = NULL;
	const uint8_t *p = data, *end = data + size, *sep;
	size_t n = 0;

	while (n < NFILES) {
		sep = n + 1 < NFILES ? memchr(p, SEPARATOR, (size_t)(end - p))
		                     : NULL;
		files[n].path = paths[n];
		files[n].text = (const char *)p;
		files[n].len =
		    sep != NULL ? (size_t)(sep - p) : (size_t)(end - p);
		n++;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	if (cfg_source_from_memory(files, n, &src) != 0)
		return;
	round_trip(src);
	exercise(src);
	config_source_free(src);
}

static void
fuzz_wire(const uint8_t *data, size_t size)
{
	struct config_source *src = NULL;
	struct buf *b;

	if ((b = buf_from(data, size)) == NULL)
		return;
	if (config_source_deserialize(b, &src) == 0) {
		exercise(src);
		config_source_free(src);
	}
	buf_free(b);
}

static void
fuzz_strings(const uint8_t *data, size_t size)
{
	static const struct token_values tv = {"/home/u", "u", "1000",
	    "192.0.2.7 50000 192.0.2.1 22", "vrf0", "SHA256:x", "AAAA",
	    "ssh-ed25519", "id", "1", "SHA256:ca", "BBBB", "ssh-ed25519"};
	struct match_conn mc;
	char *s, *out, *storage = NULL;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (config_parse_conn_spec(s, &mc, &storage) == 0 && mc.user != NULL &&
	    strlen(mc.user) > CONFIG_TEXT_MAX)
		die("conn spec longer than its input");
	free(storage);
	out = config_expand_tokens(
	    s, &tv, CONFIG_TOKENS_AUTHORIZED_PRINCIPALS_COMMAND);
	free(out);
	out = config_expand_tokens(s, &tv, CONFIG_TOKENS_NONE);
	free(out);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (devnull == NULL) {
		log_init("fuzz_config", LL_DEBUG3, 0, 0);
		log_set_handler(fuzz_quiet, NULL);
		if ((devnull = fopen("/dev/null", "w")) == NULL)
			die("/dev/null");
	}
	if (size == 0)
		return 0;
	/* The first byte picks what the rest is. */
	switch (data[0] % 8) {
	case 0:
		fuzz_wire(data + 1, size - 1);
		break;
	case 1:
		fuzz_strings(data + 1, size - 1);
		break;
	default:
		fuzz_files(data + 1, size - 1);
		break;
	}
	return 0;
}
