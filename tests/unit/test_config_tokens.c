/*
 * test_config_tokens.c: %-token expansion as sshd_config(5) TOKENS has it,
 * each keyword with its own set of tokens.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "policy/config.h"
#include "tests/unit/t.h"

static char logbuf[4096];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t used = strlen(logbuf);

	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static const struct token_values tv = {
    .home = "/home/alice",
    .user = "alice",
    .uid = "1001",
    .conn = "192.0.2.7 50022 192.0.2.1 22",
    .rdomain = "vrf0",
    .fp = "SHA256:abc",
    .key = "AAAAC3Nz",
    .key_type = "ssh-ed25519",
    .key_id = "alice@ca",
    .serial = "42",
    .ca_fp = "SHA256:ca",
    .ca_key = "AAAAca",
    .ca_type = "ssh-ed25519",
};

static void
expands(const char *s, const char *allowed, const char *want)
{
	char name[256], *got;

	logbuf[0] = '\0';
	got = config_expand_tokens(s, &tv, allowed);
	snprintf(name, sizeof(name), "tokens: [%s] -> [%s]", s, want);
	T_CHECK(
	    name, got != NULL && strcmp(got, want) == 0 && logbuf[0] == '\0');
	if (got != NULL && strcmp(got, want) != 0)
		printf("# got: %s\n", got);
	free(got);
}

static void
fails(const char *s, const char *allowed, const struct token_values *v,
    const char *msg)
{
	char name[256], line[128], *got;

	/* The message without its newline, for the test's name. */
	snprintf(line, sizeof(line), "%s", msg);
	line[strcspn(line, "\n")] = '\0';
	logbuf[0] = '\0';
	got = config_expand_tokens(s, v, allowed);
	snprintf(name, sizeof(name), "tokens: [%s] refused: %s", s, line);
	T_CHECK(name, got == NULL && strcmp(logbuf, msg) == 0);
	if (strcmp(logbuf, msg) != 0)
		printf("# got: %s", logbuf);
	free(got);
}

int
main(void)
{
	struct token_values empty;
	char *big, *got;

	log_init("test_config_tokens", LL_INFO, LOG_AUTH, 1);
	log_set_handler(capture, NULL);

	/* AuthorizedKeysFile (and AuthorizedPrincipalsFile, ChrootDirectory) */
	expands("%h/.ssh/authorized_keys", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE,
	    "/home/alice/.ssh/authorized_keys");
	expands("/etc/ssh/keys/%u", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE,
	    "/etc/ssh/keys/alice");
	expands("/keys/%U/%u-%%", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE,
	    "/keys/1001/alice-%");
	expands("%%h", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, "%h");
	expands("no tokens", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, "no tokens");
	expands("", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, "");
	expands("/srv/%u", CONFIG_TOKENS_CHROOT_DIRECTORY, "/srv/alice");
	expands("%h/principals", CONFIG_TOKENS_AUTHORIZED_PRINCIPALS_FILE,
	    "/home/alice/principals");
	fails("%k", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, &tv,
	    "vdollar_percent_expand: unknown key %k\n");
	fails("%C", CONFIG_TOKENS_CHROOT_DIRECTORY, &tv,
	    "vdollar_percent_expand: unknown key %C\n");

	/* AuthorizedKeysCommand */
	expands("/bin/keys %u %U %h %f %k %t %C %D %%",
	    CONFIG_TOKENS_AUTHORIZED_KEYS_COMMAND,
	    "/bin/keys alice 1001 /home/alice SHA256:abc AAAAC3Nz ssh-ed25519 "
	    "192.0.2.7 50022 192.0.2.1 22 vrf0 %");
	fails("/bin/keys %i", CONFIG_TOKENS_AUTHORIZED_KEYS_COMMAND, &tv,
	    "vdollar_percent_expand: unknown key %i\n");

	/* AuthorizedPrincipalsCommand: every token. */
	expands("%F %f %h %i %K %k %s %T %t %U %u %C %D",
	    CONFIG_TOKENS_AUTHORIZED_PRINCIPALS_COMMAND,
	    "SHA256:ca SHA256:abc /home/alice alice@ca AAAAca AAAAC3Nz 42 "
	    "ssh-ed25519 ssh-ed25519 1001 alice 192.0.2.7 50022 192.0.2.1 22 "
	    "vrf0");
	expands("%D", CONFIG_TOKENS_RDOMAIN, "vrf0");

	/* ForceCommand and Banner take none: only %% is known. */
	expands("echo 100%%", CONFIG_TOKENS_NONE, "echo 100%");
	fails("echo %u", CONFIG_TOKENS_NONE, &tv,
	    "vdollar_percent_expand: unknown key %u\n");

	/* Malformed. */
	fails("trailing %", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, &tv,
	    "vdollar_percent_expand: invalid format\n");
	fails("%1", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, &tv,
	    "vdollar_percent_expand: unknown key %1\n");
	/* Any byte, as sshd (its log escapes it: "%\\001"). */
	fails("%\x01", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, &tv,
	    "vdollar_percent_expand: unknown key %\x01\n");
	memset(&empty, 0, sizeof(empty));
	fails("%h", CONFIG_TOKENS_AUTHORIZED_KEYS_FILE, &empty,
	    "percent_expand: no value for %h\n");

	/* The result is bounded. */
	if ((big = malloc(CONFIG_TOKENS_MAX)) != NULL) {
		memset(big, 'h', CONFIG_TOKENS_MAX - 1);
		big[0] = '%';
		big[CONFIG_TOKENS_MAX - 1] = '\0';
		logbuf[0] = '\0';
		got = config_expand_tokens(big, &tv, "h");
		T_CHECK("tokens: result over the cap refused",
		    got == NULL && strstr(logbuf, "longer than") != NULL);
		free(got);
		free(big);
	}
	return T_DONE();
}
