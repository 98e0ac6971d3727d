/*
 * fuzz_authfiles.c: libFuzzer target for whole user files as the root
 * monitor scans them (lib/authkeys.c), where fuzz_authkeys takes single
 * lines apart: an AuthorizedPrincipalsFile (or AuthorizedPrincipalsCommand
 * output) searched for a certificate's principals, and an authorized_keys
 * file (or AuthorizedKeysCommand output) searched for a user key or, as
 * cert-authority lines, for a CA key, with the lookup-time checks (from=,
 * expiry-time=, principals= without cert-authority), the log lines and
 * what the client is told. The lines are read through a FILE, as from
 * the file: line splitting, over-long lines and the size limit included.
 *
 * Input: byte 0 chooses the file and the query (bits below), the rest is
 * the file. The key looked for is fuzz_key, the certificate's principals
 * fuzz_principals.
 */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authdebug.h"
#include "authkeys.h"
#include "authopts.h"
#include "err.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "tests/fuzz/fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define M_KEYS 0x01    /* authorized_keys, else a principals file */
#define M_WANT_CA 0x02 /* look for the key as a CA (cert-authority) */
#define M_OPTS 0x04    /* the caller takes the options (can apply them) */
#define M_REJECT 0x08  /* ca_check refuses the first line it is shown */
#define M_REMOTE 0x10  /* tell the client (AUTHOPTS_LOG_REMOTE) */
#define M_NO_HOST 0x20 /* UseDNS no: no host name */
#define M_LOG_ALL 0x40 /* every AUTHOPTS_LOG_* line */

static const char fuzz_key[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAobB4iociU7JhqGiL0eO0dz23zx/0Mq"
    "2Sni6W3yHnRh fuzz";

static char *fuzz_principals[] = {"alice", "root", "ops team", "*", ""};

static int
ca_check(void *arg, const struct authopts *line_opts, const char *loc,
    struct authopts **optsp)
{
	int *refuse = arg;

	(void)loc;
	if (*refuse) {
		*refuse = 0;
		return -1;
	}
	/* As modules/cert.c may: other options than the line's. */
	if (line_opts->permit_pty && (*optsp = authopts_new(0)) == NULL)
		return ERR_ALLOC;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sshkey *key;
	static struct passwd pw = {.pw_name = "alice", .pw_dir = "/home/alice"};
	struct authkeys_query q;
	struct authopts *opts = NULL;
	struct sshcert cert;
	unsigned long line = 0;
	uint8_t mode;
	FILE *f;
	int r, refuse;

	if (key == NULL) {
		struct authopts *o = NULL;
		const char *err = NULL;

		log_set_handler(fuzz_quiet, NULL);
		if (authkeys_parse_line(fuzz_key, &key, &o, &err) != 0)
			abort();
		authopts_free(o);
	}
	if (size < 2)
		return 0;
	mode = data[0];
	if ((f = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	if (!(mode & M_KEYS)) {
		memset(&cert, 0, sizeof(cert));
		cert.principals = fuzz_principals;
		cert.nprincipals = mode & M_WANT_CA ? 1 : 5;
		r = authkeys_find_principal_stream(
		    f, "/home/alice/.ssh/principals", &cert, &line, &opts);
		if (r == 0 && (opts == NULL || line == 0))
			abort();
		if (r != 0 && opts != NULL)
			abort();
	} else {
		memset(&q, 0, sizeof(q));
		q.pw = &pw;
		q.key = key;
		q.want_ca = (mode & M_WANT_CA) != 0;
		q.remote_host = mode & M_NO_HOST ? NULL : "client.example.org";
		q.remote_addr = "192.0.2.1";
		q.now = 1700000000;
		q.log_flags = (mode & M_REMOTE ? AUTHOPTS_LOG_REMOTE : 0) |
		    (mode & M_LOG_ALL ? AUTHOPTS_LOG_ENV | AUTHOPTS_LOG_OPEN |
		                AUTHOPTS_LOG_LISTEN
		                      : 0);
		refuse = (mode & M_REJECT) != 0;
		q.ca_check = mode & 0x80 ? ca_check : NULL;
		q.ca_arg = &refuse;
		r = authkeys_find_stream(
		    &q, f, "(command)", &line, mode & M_OPTS ? &opts : NULL);
		if (r == 0 && line == 0)
			abort();
		if (r == 0 && (mode & M_OPTS) && opts == NULL)
			abort();
		/* What the lookup promises of the line it returns (the
		 * ca_check's own options are not the line's). */
		if (r == 0 && opts != NULL && !(q.want_ca && q.ca_check)) {
			if (opts->cert_authority != q.want_ca ||
			    (!q.want_ca && opts->principals != NULL) ||
			    authopts_check_from(
			        opts, q.remote_host, q.remote_addr) != 1 ||
			    authopts_check_expiry(opts, q.now) != 1)
				abort();
		}
	}
	authopts_free(opts);
	authdebug_clear();
	fclose(f);
	return 0;
}
