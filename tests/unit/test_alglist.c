/*
 * test_alglist.c: OpenSSH's algorithm-list syntax, with the lists sshd -T
 * (OpenSSH 9.2) prints for the same PubkeyAcceptedAlgorithms and
 * CASignatureAlgorithms values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alglist.h"
#include "cipher.h"
#include "err.h"
#include "kex.h"
#include "mac.h"
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
	/* sshd checks up to the first empty entry: a doubled or trailing
	 * comma is no error, and what follows one is not checked. */
	T_CHECK("valid: empty entry",
	    alglist_names_valid("ssh-ed25519,,rsa-sha2-256", ALGLIST_KEY_ALL));
	T_CHECK("valid: trailing comma",
	    alglist_names_valid("+ssh-rsa,", ALGLIST_KEY_ALL));
	T_CHECK("valid: leading comma",
	    alglist_names_valid(",ssh-ed25519", ALGLIST_KEY_ALL));
	T_CHECK("valid: unknown after an empty entry, unchecked",
	    alglist_names_valid("ssh-ed25519,,x", ALGLIST_KEY_ALL));
	T_CHECK("invalid: unknown before an empty entry",
	    !alglist_names_valid("x,,ssh-ed25519", ALGLIST_KEY_ALL));
	T_CHECK("invalid: empty", !alglist_names_valid("+", ALGLIST_KEY_ALL));
	T_CHECK("has: exact names only",
	    alglist_has("a,bc,d", "bc") && !alglist_has("a,bc,d", "b") &&
	        alglist_has("a,bc,d", "d") && !alglist_has("a,bc,d", "*"));
}

/* One transport list: spec against def and all gives want (NULL: error). */
static void
tl(const char *what, const char *spec, const char *def, const char *all,
    const char *want)
{
	char name[256], *out = NULL;
	int r;

	r = alglist_assemble(spec, def, all, &out);
	snprintf(name, sizeof(name), "%s \"%s\"", what, spec);
	if (want == NULL)
		T_CHECK(name, r == ERR_FORMAT && out == NULL);
	else {
		T_CHECK(name, r == 0 && strcmp(out, want) == 0);
		if (r == 0 && strcmp(out, want) != 0)
			printf("# got  %s\n# want %s\n", out, want);
	}
	free(out);
}

/* Ciphers, MACs, KexAlgorithms: the syntax over postern's own names. */
static void
test_transport_lists(void)
{
	const char *c = cipher_supported_list(), *m = mac_supported_list();
	const char *k = kex_supported_list();

	tl("ciphers", "", ALGLIST_CIPHER_DEFAULT, c, ALGLIST_CIPHER_DEFAULT);
	tl("ciphers", "aes256-ctr,chacha20-poly1305@openssh.com",
	    ALGLIST_CIPHER_DEFAULT, c,
	    "aes256-ctr,chacha20-poly1305@openssh.com");
	tl("ciphers", "aes*-ctr", ALGLIST_CIPHER_DEFAULT, c,
	    "aes128-ctr,aes192-ctr,aes256-ctr");
	tl("ciphers",
	    "aes1?"
	    "?-*",
	    ALGLIST_CIPHER_DEFAULT, c,
	    "aes128-ctr,aes192-ctr,aes128-gcm@openssh.com");
	tl("ciphers", "-*-ctr", ALGLIST_CIPHER_DEFAULT, c,
	    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,"
	    "aes256-gcm@openssh.com");
	tl("ciphers", "-*gcm*,aes192-ctr", ALGLIST_CIPHER_DEFAULT, c,
	    "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr");
	tl("ciphers", "^aes256-ctr,aes128-ctr", ALGLIST_CIPHER_DEFAULT, c,
	    "aes256-ctr,aes128-ctr,chacha20-poly1305@openssh.com,"
	    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes192-ctr");
	tl("ciphers", "aes128-cbc", ALGLIST_CIPHER_DEFAULT, c, NULL);
	tl("ciphers", "aes*,!aes128-ctr", ALGLIST_CIPHER_DEFAULT, c, NULL);
	T_CHECK("ciphers: unknown name invalid",
	    !alglist_names_valid("aes128-ctr,3des-cbc", c));
	T_CHECK(
	    "ciphers: +unknown invalid", !alglist_names_valid("+3des-cbc", c));
	T_CHECK("ciphers: pattern valid", alglist_names_valid("aes*", c));

	tl("macs", "", ALGLIST_MAC_DEFAULT, m, ALGLIST_MAC_DEFAULT);
	tl("macs", "+hmac-sha1", ALGLIST_MAC_DEFAULT, m,
	    ALGLIST_MAC_DEFAULT ",hmac-sha1");
	tl("macs", "^umac-64-etm@openssh.com", ALGLIST_MAC_DEFAULT, m,
	    "umac-64-etm@openssh.com," ALGLIST_MAC_DEFAULT);
	tl("macs", "-hmac-sha2-512*", ALGLIST_MAC_DEFAULT, m,
	    "hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com");
	tl("macs", "*-etm@openssh.com", ALGLIST_MAC_DEFAULT, m,
	    "hmac-sha1-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
	    "hmac-sha2-512-etm@openssh.com,umac-64-etm@openssh.com,"
	    "umac-128-etm@openssh.com");
	tl("macs",
	    "umac-?"
	    "?-etm@openssh.com",
	    ALGLIST_MAC_DEFAULT, m, "umac-64-etm@openssh.com");
	T_CHECK("macs: hmac-md5 invalid", !alglist_names_valid("hmac-md5", m));

	tl("kex", "", ALGLIST_KEX_DEFAULT, k, ALGLIST_KEX_DEFAULT);
	tl("kex", "+ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
	    ALGLIST_KEX_DEFAULT, k,
	    ALGLIST_KEX_DEFAULT
	    ",ecdh-sha2-nistp256,diffie-hellman-group14-sha256");
	tl("kex", "-sntrup*,mlkem*", ALGLIST_KEX_DEFAULT, k,
	    "curve25519-sha256,curve25519-sha256@libssh.org,"
	    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512");
	tl("kex", "ecdh-*", ALGLIST_KEX_DEFAULT, k,
	    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521");
	tl("kex", "curve25519-sha256,nosuch", ALGLIST_KEX_DEFAULT, k,
	    "curve25519-sha256");
	T_CHECK("kex: every default is implemented",
	    alglist_names_valid(ALGLIST_KEX_DEFAULT, k));
	T_CHECK("kex: group1 invalid",
	    !alglist_names_valid("diffie-hellman-group1-sha1", k));
	T_CHECK("ciphers: every default is implemented",
	    alglist_names_valid(ALGLIST_CIPHER_DEFAULT, c));
	T_CHECK("macs: every default is implemented",
	    alglist_names_valid(ALGLIST_MAC_DEFAULT, m));
}

int
main(void)
{
	test_transport_lists();
	test_assemble();
	test_valid();
	return T_DONE();
}
