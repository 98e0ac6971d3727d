/*
 * test_alglist.c: OpenSSH's algorithm-list syntax, with the lists sshd -T
 * (OpenSSH 9.2) prints for the same PubkeyAcceptedAlgorithms and
 * CASignatureAlgorithms values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alglist.h"
#include "err.h"
#include "tests/unit/t.h"

#define CERTS                                                                  \
	"ssh-ed25519-cert-v01@openssh.com,"                                    \
	"ecdsa-sha2-nistp256-cert-v01@openssh.com,"                            \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com,"                            \
	"ecdsa-sha2-nistp521-cert-v01@openssh.com,"                            \
	"sk-ssh-ed25519-cert-v01@openssh.com,"                                 \
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"                         \
	"rsa-sha2-512-cert-v01@openssh.com,"                                   \
	"rsa-sha2-256-cert-v01@openssh.com"
#define PLAIN_NO_ED                                                            \
	"ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"         \
	"sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,"       \
	"rsa-sha2-512,rsa-sha2-256"

static void
pk(const char *spec, const char *want)
{
	char name[256], *out = NULL;
	int r;

	r = alglist_assemble(
	    spec, ALGLIST_PUBKEY_DEFAULT, ALGLIST_KEY_ALL, &out);
	snprintf(name, sizeof(name), "assemble pubkey \"%s\"",
	    spec ? spec : "(null)");
	T_CHECK(name, r == 0 && out != NULL && strcmp(out, want) == 0);
	if (r == 0 && strcmp(out, want) != 0)
		printf("# got  %s\n# want %s\n", out, want);
	free(out);
}

static void
pk_bad(const char *spec)
{
	char name[256], *out = NULL;
	int r;

	r = alglist_assemble(
	    spec, ALGLIST_PUBKEY_DEFAULT, ALGLIST_KEY_ALL, &out);
	snprintf(name, sizeof(name), "assemble refuses \"%s\"", spec);
	T_CHECK(name, r == ERR_FORMAT && out == NULL);
	free(out);
}

static void
test_assemble(void)
{
	char *out = NULL;

	pk(NULL, ALGLIST_PUBKEY_DEFAULT);
	pk("", ALGLIST_PUBKEY_DEFAULT);
	pk("-ssh-ed25519*",
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com,"
	    "rsa-sha2-256-cert-v01@openssh.com," PLAIN_NO_ED);
	pk("-*", ALGLIST_PUBKEY_DEFAULT);
	pk("+ssh-rsa*",
	    ALGLIST_PUBKEY_DEFAULT ",ssh-rsa,ssh-rsa-cert-v01@openssh.com");
	pk("^ssh-rsa,ssh-ed25519",
	    "ssh-rsa,ssh-ed25519," CERTS "," PLAIN_NO_ED);
	pk("ssh-ed25519-cert-v01@openssh.com,rsa-sha2-256",
	    "ssh-ed25519-cert-v01@openssh.com,rsa-sha2-256");
	pk("*", ALGLIST_KEY_ALL);
	pk("rsa-sha2-*,rsa-sha2-512",
	    "rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,"
	    "rsa-sha2-512-cert-v01@openssh.com");
	pk("-ssh-ed25519,!ssh-dss",
	    "ssh-ed25519-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com,"
	    "rsa-sha2-256-cert-v01@openssh.com," PLAIN_NO_ED);
	pk_bad("*,!ssh-dss");
	pk_bad("ssh-ed25519,!ssh-dss");
	pk_bad("nonesuch");

	T_CHECK("assemble CA default",
	    alglist_assemble(
	        NULL, ALGLIST_CA_SIG_DEFAULT, ALGLIST_SIG_ALL, &out) == 0 &&
	        strcmp(out, ALGLIST_CA_SIG_DEFAULT) == 0);
	free(out);
	T_CHECK("assemble CA +ssh-rsa",
	    alglist_assemble("+ssh-rsa", ALGLIST_CA_SIG_DEFAULT,
	        ALGLIST_SIG_ALL, &out) == 0 &&
	        strcmp(out, ALGLIST_CA_SIG_DEFAULT ",ssh-rsa") == 0);
	free(out);
	T_CHECK("assemble CA: certificate names are no signatures",
	    alglist_assemble("ssh-ed25519*", ALGLIST_CA_SIG_DEFAULT,
	        ALGLIST_SIG_ALL, &out) == 0 &&
	        strcmp(out, "ssh-ed25519") == 0);
	free(out);
}

static void
test_valid(void)
{
	T_CHECK("valid: names",
	    alglist_names_valid("ssh-ed25519,rsa-sha2-256", ALGLIST_KEY_ALL) ==
	        1);
	T_CHECK("valid: patterns and negation",
	    alglist_names_valid("*,!ssh-dss", ALGLIST_KEY_ALL) == 1);
	T_CHECK(
	    "valid: +list", alglist_names_valid("+ssh-rsa", ALGLIST_KEY_ALL));
	T_CHECK("valid: -list is not checked",
	    alglist_names_valid("-nonesuch", ALGLIST_KEY_ALL));
	T_CHECK("invalid: unknown name",
	    !alglist_names_valid("ssh-ed25519,foo", ALGLIST_KEY_ALL));
	T_CHECK("invalid: pattern matching nothing",
	    !alglist_names_valid("ssh-ed25519,foo*", ALGLIST_KEY_ALL));
	T_CHECK("invalid: empty entry",
	    !alglist_names_valid("ssh-ed25519,,rsa-sha2-256", ALGLIST_KEY_ALL));
	T_CHECK("invalid: empty", !alglist_names_valid("+", ALGLIST_KEY_ALL));
	T_CHECK("has: exact names only",
	    alglist_has("a,bc,d", "bc") && !alglist_has("a,bc,d", "b") &&
	        alglist_has("a,bc,d", "d") && !alglist_has("a,bc,d", "*"));
}

int
main(void)
{
	test_assemble();
	test_valid();
	return T_DONE();
}
