/*
 * test_authcert.c: certificates as sshd applies them (lib/authcert.c): the
 * options a certificate imposes, TrustedUserCAKeys lookup, log lines; the
 * AuthorizedPrincipalsFile reader and cert-authority line callback of
 * lib/authkeys.c; FIDO keys in authorized_keys and RevokedKeys lists.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "authcert.h"
#include "authkeys.h"
#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "krl.h"
#include "log.h"
#include "sshcert.h"
#include "sshkey.h"
#include "sshkey_sk.h"
#include "tests/unit/cert_fixtures.h"
#include "tests/unit/cert_fixtures_skca.h"
#include "tests/unit/t.h"

/* From test_sshkey_sk.c: made by ssh-keygen -t ed25519-sk (soft_sk). */
static const char sk_pub[] =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAI"
    "FuaGYc0D1U2OktFhZolHWJThZ+XYtpr1cCjpo437WbQAAAABHNzaDo= "
    "test-sk-ed25519@postern";

static char base[] = "/tmp/postern-ac-XXXXXX";
static struct passwd pw;

static const char *
fixture(const struct fx_item *items, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(items[i].name, name) == 0)
			return items[i].text;
	fprintf(stderr, "no fixture %s\n", name);
	exit(2);
}

static struct sshcert *
cert_named(const char *name)
{
	struct sshcert *c = NULL;

	if (sshcert_parse_text(fixture(fx_certs, FX_NCERTS, name), &c, NULL) !=
	    0) {
		fprintf(stderr, "cannot parse %s\n", name);
		exit(2);
	}
	return c;
}

static struct sshkey *
key_named(const char *name)
{
	struct sshkey *k = NULL;

	if (sshkey_parse_public_text(
	        fixture(fx_keys, FX_NKEYS, name), &k, NULL) != 0)
		exit(2);
	return k;
}

/* A file under base with text; returns its path (static buffer). */
static const char *
put(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, 0600);
	return path;
}

static void
test_opts(void)
{
	struct sshcert *c;
	struct authopts *o = NULL;

	c = cert_named("ed_full");
	T_CHECK("opts: ed_full parses", authcert_opts(c, &o) == 0 && o != NULL);
	T_CHECK("opts: every permit-* extension",
	    o->permit_pty && o->permit_port_forwarding &&
	        o->permit_agent_forwarding && o->permit_x11_forwarding &&
	        o->permit_user_rc && !o->restricted);
	T_CHECK("opts: force-command",
	    o->force_command != NULL &&
	        strcmp(o->force_command, "/bin/echo forced") == 0);
	T_CHECK("opts: source-address",
	    o->nsource_address == 1 &&
	        strcmp(o->source_address[0],
	            "192.168.0.0/16,10.1.2.3,2001:db8::/32") == 0 &&
	        authopts_check_from(o, NULL, "10.1.2.3") == 1 &&
	        authopts_check_from(o, NULL, "127.0.0.1") == 0);
	T_CHECK("opts: no FIDO flags",
	    !o->require_verify && !o->no_require_user_presence);
	authopts_free(o);
	sshcert_free(c);

	c = cert_named("clear_pty");
	T_CHECK("opts: -O clear -O permit-pty: pty only",
	    authcert_opts(c, &o) == 0 && o->permit_pty &&
	        !o->permit_port_forwarding && !o->permit_agent_forwarding &&
	        !o->permit_x11_forwarding && !o->permit_user_rc &&
	        o->force_command == NULL && o->nsource_address == 0);
	authopts_free(o);
	sshcert_free(c);

	c = cert_named("restricted");
	T_CHECK("opts: -O no-pty -O no-port-forwarding -O no-x11-forwarding",
	    authcert_opts(c, &o) == 0 && !o->permit_pty &&
	        !o->permit_port_forwarding && !o->permit_x11_forwarding &&
	        o->permit_agent_forwarding && o->permit_user_rc);
	authopts_free(o);
	sshcert_free(c);

	c = cert_named("verify_req");
	T_CHECK("opts: verify-required critical option",
	    authcert_opts(c, &o) == 0 && o->require_verify);
	authopts_free(o);
	sshcert_free(c);
}

static void
test_describe(void)
{
	struct sshcert *c = cert_named("ed_full");
	char want[256], fp[SSHKEY_FP_LEN], cafp[SSHKEY_FP_LEN], out[160];
	char small[110];

	sshkey_fingerprint(c->key, fp, sizeof(fp));
	sshkey_fingerprint(c->ca_key, cafp, sizeof(cafp));
	snprintf(want, sizeof(want),
	    "ED25519-CERT %s ID id-ed-full (serial 1001) CA ED25519 %s", fp,
	    cafp);
	authcert_describe(c, out, sizeof(out));
	T_CHECK("describe: OpenSSH's form", strcmp(out, want) == 0);
	if (strcmp(out, want) != 0)
		printf("# got  %s\n# want %s\n", out, want);
	/* Too small for the whole: the ID is cut, the fingerprints stay. */
	authcert_describe(c, small, sizeof(small));
	T_CHECK("describe: shortened",
	    strlen(small) < sizeof(small) && strstr(small, cafp) == NULL &&
	        strncmp(small, "ED25519-CERT ", 13) == 0);
	sshcert_free(c);

	c = cert_named("rsa_ecca");
	T_CHECK("describe: RSA-CERT",
	    strcmp(authcert_type_short(c), "RSA-CERT") == 0);
	authcert_describe(c, out, sizeof(out));
	T_CHECK("describe: ECDSA CA",
	    strstr(out, " ID id-rsa (serial 1003) CA ECDSA SHA256:") != NULL);
	sshcert_free(c);
	c = cert_named("restricted");
	T_CHECK("describe: ECDSA-CERT",
	    strcmp(authcert_type_short(c), "ECDSA-CERT") == 0);
	sshcert_free(c);
}

static void
test_ca_listed(void)
{
	struct sshkey *ed = key_named("ca_ed"), *rsa = key_named("ca_rsa");
	struct sshkey *ec = key_named("ca_ec");
	char text[4096];
	const char *path;

	snprintf(text, sizeof(text),
	    "# trusted user CAs\n\n   %s\nnot a key at all\n%s\n",
	    fixture(fx_keys, FX_NKEYS, "ca_rsa"),
	    fixture(fx_keys, FX_NKEYS, "ca_ed"));
	path = put("ca_keys", text);
	/* sshd stops at a line that is no key: nothing after it counts. */
	T_CHECK("ca: listed after blanks",
	    authcert_ca_listed(path, rsa, NULL) == 0);
	T_CHECK("ca: not trusted after a line that is no key",
	    authcert_ca_listed(path, ed, NULL) == ERR_FORMAT);
	T_CHECK("ca: not listed, file malformed",
	    authcert_ca_listed(path, ec, NULL) == ERR_FORMAT);
	/* Keys sshd reads and skips: DSA, a certificate, RSA-512. */
	snprintf(text, sizeof(text), "%s\n%s\n%s\n%s\n",
	    "ssh-dss "
	    "AAAAB3NzaC1kc3MAAACBAOrp3+aD79NNaVM9q25uGmA19OFmml8tYqXEiQ/y"
	    "2IjGTMT5WqMJdxAkfnXt0BfuovxoNK9SR0gIhUtopt7tyjOjViMKnBWF3VPG"
	    "qvzbaJx07X6z6vWqicw+k46RPhCioRbPRLWI184AA0A0FgSW5b7rLVGDqG6H"
	    "pscLNDlZZEwVAAAAFQDdHXgVafs8jpvLFMQtTV2w5FBhjwAAAIEAxlas0P0P"
	    "BjVtwLh6bbrH8EiGhLuUrz3JF5SF5Q4Duneur07Eak4EudwNAccvYAKo55lu"
	    "ZwZ1D2bfR0SZDRx53k8UEEZCWSa5euaDIX3eZtv+BZtPXQytjEcEwzscj3Dt"
	    "gAuteKCC3jwb8p6zgYiZCbiGFJfX6oEFQiuEAKlaQFwAAACBAKamLLrPmliL"
	    "niSzCfLXVb0RbfSnI0mfaUlQX1Ew2Gcg51opVohrBU0HosMpn9+Fhtin7rQ0"
	    "RnPmdo4SFVIOz9Ug7KmaAeh9hfDvmsrwQClGL82X8G+K5GhzT/qzWhXCTFWm"
	    "6aSkmyAe2NTGxIzDLevdIirQ4JTM7LhijM5a/9oz"
	    " dsa-ca",
	    fixture(fx_certs, FX_NCERTS, "ed_full"),
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAQQCwZYRFMMCDTpYB/baGchuYNEpv"
	    "xax2YJmts8BrjWDPtiY2olV2QRc9cbVtyaOO74Uq19/6E2SygjOjJjYYsckn "
	    "rsa-512",
	    fixture(fx_keys, FX_NKEYS, "ca_ed"));
	path = put("ca_keys", text);
	T_CHECK("ca: listed after keys sshd skips",
	    authcert_ca_listed(path, ed, NULL) == 0);
	T_CHECK("ca: not listed",
	    authcert_ca_listed(path, ec, NULL) == ERR_NOT_FOUND);
	/* A broken key of a type postern reads stops the search. */
	snprintf(text, sizeof(text),
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH3h4eHh4eHh4eHh4eHh4eHh4eHh4"
	    "eHh4eHh4eHh4eHg= short\n%s\n",
	    fixture(fx_keys, FX_NKEYS, "ca_ed"));
	path = put("ca_keys", text);
	T_CHECK("ca: broken ed25519 key refuses the file",
	    authcert_ca_listed(path, ed, NULL) == ERR_FORMAT);
	/* A FIDO key as the CA: listed, and not mistaken for another. */
	{
		struct sshkey_sk *sked = NULL, *skec = NULL;

		snprintf(text, sizeof(text), "%s\n%s sk-ca\n",
		    fixture(fx_keys, FX_NKEYS, "ca_rsa"), skca_ed_pub);
		path = put("ca_keys", text);
		T_CHECK("ca: sk fixtures",
		    sshkey_sk_parse_public_text(skca_ed_pub, &sked, NULL) ==
		            0 &&
		        sshkey_sk_parse_public_text(skca_ec_pub, &skec, NULL) ==
		            0);
		T_CHECK("ca: FIDO CA listed",
		    authcert_ca_listed(path, NULL, sked) == 0);
		T_CHECK("ca: another FIDO CA not listed",
		    authcert_ca_listed(path, NULL, skec) == ERR_NOT_FOUND);
		T_CHECK("ca: plain CA next to a FIDO one",
		    authcert_ca_listed(path, rsa, NULL) == 0 &&
		        authcert_ca_listed(path, ed, NULL) == ERR_NOT_FOUND);
		sshkey_sk_free(sked);
		sshkey_sk_free(skec);
	}
	put("ca_keys", "");
	T_CHECK("ca: empty file",
	    authcert_ca_listed(path, ed, NULL) == ERR_NOT_FOUND);
	T_CHECK("ca: missing file",
	    authcert_ca_listed("/nonexistent/ca.pub", ed, NULL) == ERR_SYSTEM);
	sshkey_free(ed);
	sshkey_free(rsa);
	sshkey_free(ec);
}

static void
test_principals(void)
{
	struct sshcert *full = cert_named("ed_full"); /* alice,bob */
	struct sshcert *rsa = cert_named("rsa_ecca"); /* alice,carol */
	struct authopts *o = NULL;
	unsigned long line = 0;
	const char *path;

	path = put("principals",
	    "# principals\n"
	    "  ops   \n"
	    "bob # the bob role\n"
	    "alice\n");
	T_CHECK("principals: first match",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) == 0 &&
	        line == 3 && o != NULL && authopts_is_unrestricted(o));
	authopts_free(o);
	path = put("principals",
	    "command=\"bad,unknown-opt carol\n"
	    "no-pty,command=\"echo x y\" carol\n"
	    "from=\"10.0.0.0/8\" alice\n");
	T_CHECK("principals: options before the principal",
	    authkeys_find_principal(&pw, path, 0, rsa, &line, &o) == 0 &&
	        line == 2 && o->force_command != NULL &&
	        strcmp(o->force_command, "echo x y") == 0 && !o->permit_pty);
	authopts_free(o);
	o = NULL;
	/*
	 * sshd takes the principal after the last space, then the last
	 * tab: a tab after a quoted value holding a space does not end the
	 * options, so this line names no principal of the certificate.
	 */
	path = put("principals", "command=\"echo a b\"\talice\n");
	T_CHECK("principals: a space beats a later tab",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) ==
	            ERR_NOT_FOUND &&
	        o == NULL);
	path = put("principals", "no-pty\talice\n");
	T_CHECK("principals: a tab when there is no space",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) == 0 &&
	        line == 1 && o != NULL && !o->permit_pty);
	authopts_free(o);
	o = NULL;
	path = put("principals", "carol\nalice-x\n#alice\nALICE\n");
	T_CHECK("principals: exact names only",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) ==
	            ERR_NOT_FOUND &&
	        o == NULL);
	/* As sshd, a CR is part of the name: a CRLF file names "bob\r". */
	path = put("principals", "\r\nbob\r\nalice \r\n");
	T_CHECK("principals: a CR is not blank",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) ==
	            ERR_NOT_FOUND &&
	        o == NULL);
	path = put("principals", "bob\r\nalice \t\n");
	T_CHECK("principals: trailing blanks are",
	    authkeys_find_principal(&pw, path, 0, full, &line, &o) == 0 &&
	        line == 2);
	authopts_free(o);
	o = NULL;
	T_CHECK("principals: missing file",
	    authkeys_find_principal(
	        &pw, "/nonexistent/p", 0, full, &line, &o) == ERR_NOT_FOUND);
	path = put("principals", "bob\n");
	chmod(path, 0666);
	T_CHECK("principals: StrictModes refuses a writable file",
	    authkeys_find_principal(&pw, path, 1, full, &line, &o) == ERR_PERM);
	sshcert_free(full);
	sshcert_free(rsa);
}

/* The cert-authority line callback: refuse line 1, take line 2. */
static int calls;

static int
pick_second(void *arg, const struct authopts *line, const char *loc,
    struct authopts **optsp)
{
	calls++;
	if (line->principals != NULL && strcmp(line->principals, "x") == 0)
		return -1;
	if ((*optsp = authopts_new(0)) == NULL)
		return -1;
	(*optsp)->permit_pty = 1;
	return 0;
}

static void
test_ca_lines(void)
{
	struct sshkey *ca = key_named("ca_ed");
	struct authkeys_query q;
	struct authopts *o = NULL;
	unsigned long line = 0;
	char text[2048];
	const char *path;

	snprintf(text, sizeof(text),
	    "%s\n"
	    "cert-authority,principals=\"x\" %s\n"
	    "cert-authority,principals=\"y\" %s\n",
	    fixture(fx_keys, FX_NKEYS, "ca_ed"),
	    fixture(fx_keys, FX_NKEYS, "ca_ed"),
	    fixture(fx_keys, FX_NKEYS, "ca_ed"));
	path = put("ak_ca", text);
	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.path = path;
	q.key = ca;
	q.want_ca = 1;
	q.ca_check = pick_second;
	T_CHECK("ca lines: the callback picks the line",
	    authkeys_find_opts(&q, &line, &o) == 0 && line == 3 && calls == 2 &&
	        o != NULL && o->permit_pty && !o->permit_port_forwarding &&
	        !o->cert_authority);
	authopts_free(o);
	o = NULL;
	q.ca_check = NULL;
	T_CHECK("ca lines: without a callback the first CA line",
	    authkeys_find_opts(&q, &line, &o) == 0 && line == 2 &&
	        o->cert_authority && strcmp(o->principals, "x") == 0);
	authopts_free(o);
	sshkey_free(ca);
}

static void
test_sk_lines(void)
{
	struct sshkey_sk *sk = NULL, *found_sk = NULL;
	struct sshkey *key = NULL;
	struct authopts *o = NULL;
	struct authkeys_query q;
	const char *why = NULL, *path;
	unsigned long line = 0;
	char text[2048];

	T_CHECK(
	    "sk: parse", sshkey_sk_parse_public_text(sk_pub, &sk, NULL) == 0);
	snprintf(
	    text, sizeof(text), "no-touch-required,verify-required %s", sk_pub);
	T_CHECK("sk: a line with options",
	    authkeys_parse_line_sk(text, &key, &found_sk, &o, &why) == 0 &&
	        key == NULL && found_sk != NULL &&
	        sshkey_sk_equal_public(found_sk, sk) &&
	        o->no_require_user_presence && o->require_verify);
	authopts_free(o);
	sshkey_sk_free(found_sk);
	found_sk = NULL;
	T_CHECK("sk: a plain line",
	    authkeys_parse_line_sk(sk_pub, &key, &found_sk, &o, &why) == 0 &&
	        found_sk != NULL && authopts_is_unrestricted(o));
	authopts_free(o);
	sshkey_sk_free(found_sk);
	T_CHECK("sk: no sk key for callers that take none",
	    authkeys_parse_line(text, &key, &o, &why) == ERR_NOT_FOUND &&
	        key == NULL && o == NULL);

	snprintf(text, sizeof(text), "%s\nverify-required %s\n",
	    fixture(fx_keys, FX_NKEYS, "u_ed"), sk_pub);
	path = put("ak_sk", text);
	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.path = path;
	q.sk_key = sk;
	T_CHECK("sk: found in authorized_keys with its options",
	    authkeys_find_opts(&q, &line, &o) == 0 && line == 2 &&
	        o->require_verify);
	authopts_free(o);
	sshkey_sk_free(sk);
}

static void
test_krl_blob(void)
{
	struct sshkey_sk *sk = NULL;
	struct krl *krl = NULL;
	struct buf *b = buf_new(4096);
	char text[2048];

	sshkey_sk_parse_public_text(sk_pub, &sk, NULL);
	sshkey_sk_to_blob(sk, b);
	snprintf(text, sizeof(text), "# revoked\n%s\n", sk_pub);
	T_CHECK("krl: a text list with an sk key",
	    krl_from_bytes((const uint8_t *)text, strlen(text), &krl) == 0);
	T_CHECK("krl: the sk key is revoked",
	    krl_check_blob(krl, buf_ptr(b), buf_len(b)) == ERR_PERM);
	krl_free(krl);
	snprintf(
	    text, sizeof(text), "%s\n", fixture(fx_keys, FX_NKEYS, "u_ed"));
	krl_from_bytes((const uint8_t *)text, strlen(text), &krl);
	T_CHECK("krl: another list leaves it",
	    krl_check_blob(krl, buf_ptr(b), buf_len(b)) == 0);
	krl_free(krl);
	buf_free(b);
	sshkey_sk_free(sk);
}

int
main(void)
{
	struct passwd *p;
	char cmd[64];

	log_init("test_authcert", LL_QUIET, LOG_AUTH, 1);
	if (mkdtemp(base) == NULL || (p = getpwuid(getuid())) == NULL) {
		perror("setup");
		return 2;
	}
	pw = *p;
	pw.pw_name = strdup(p->pw_name);
	pw.pw_dir = base;
	test_opts();
	test_describe();
	test_ca_listed();
	test_principals();
	test_ca_lines();
	test_sk_lines();
	test_krl_blob();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd) != 0)
		perror(cmd);
	free(pw.pw_name);
	return T_DONE();
}
