/*
 * test_config_keywords.c: every keyword of the table: its status and Match
 * flag (as sshd 9.2 has it), a typical line accepted silently, with the
 * warning, or as deprecated; the value checks that refuse what could not
 * be ignored safely; every message; docs/sshd_config.md in step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "alglist.h"
#include "err.h"
#include "log.h"
#include "policy/config.h"
#include "policy/config_int.h"
#include "tests/unit/t.h"
#include "tests/unit/t_config.h"

#define IMPL CONFIG_KW_IMPLEMENTED
#define IGN CONFIG_KW_IGNORED
#define VALUE CONFIG_KW_VALUE
#define REF CONFIG_KW_REFUSED
#define DEP CONFIG_KW_DEPRECATED

static char logbuf[16384];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t used = strlen(logbuf);

	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

/* What sshd 9.2 allows inside Match (probed with sshd -t), and a value. */
static const struct {
	const char *name;
	const char *sample; /* NULL: no value is accepted */
	int in_match;
	int status;
} want[] = {
    {"Port", "2222", 0, IMPL},
    {"AddressFamily", "inet", 0, IMPL},
    {"ListenAddress", "127.0.0.1", 0, IMPL},
    {"UsePAM", "yes", 0, IMPL},
    {"PAMServiceName", "postern-test", 0, IMPL},
    {"TOTPUsersFile", "/etc/users.oath", 1, IMPL},
    {"TOTPWindow", "2", 1, IMPL},
    {"LoginGraceTime", "30", 0, IMPL},
    {"MaxAuthTries", "3", 1, IMPL},
    {"MaxSessions", "2", 1, IMPL},
    {"PermitRootLogin", "no", 1, IMPL},
    {"PubkeyAuthentication", "yes", 1, IMPL},
    {"PasswordAuthentication", "no", 1, IMPL},
    {"KbdInteractiveAuthentication", "no", 1, IMPL},
    {"PermitTTY", "no", 1, IMPL},
    {"StrictModes", "yes", 0, IMPL},
    {"PermitEmptyPasswords", "no", 1, IMPL},
    {"PidFile", "/run/x.pid", 0, IMPL},
    {"Banner", "/etc/issue.net", 1, IMPL},
    {"ForceCommand", "/bin/true", 1, IMPL},
    {"LogLevel", "VERBOSE", 1, IMPL},
    {"SyslogFacility", "AUTHPRIV", 0, IMPL},
    {"AuthorizedKeysFile", ".ssh/authorized_keys", 1, IMPL},
    {"HostKey", "/etc/ssh/k", 0, IMPL},
    {"AllowUsers", "alice", 1, IMPL},
    {"DenyUsers", "bob", 1, IMPL},
    {"AllowGroups", "staff", 1, IMPL},
    {"DenyGroups", "guests", 1, IMPL},
    {"AuthenticationMethods", "publickey", 1, IMPL},
    {"MaxStartups", "10:30:60", 0, IMPL},
    {"Include", "/etc/ssh/none.d/*.conf", 1, IMPL},
    {"Match", "all", 1, IMPL},
    {"ChallengeResponseAuthentication", "no", 1, IMPL},
    {"SKeyAuthentication", "no", 1, IMPL},
    {"DSAAuthentication", "yes", 0, IMPL},
    {"HostDSAKey", "/etc/ssh/k2", 0, IMPL},
    {"AcceptEnv", "LANG LC_*", 1, IMPL},
    {"AFSTokenPassing", "no", 0, IGN},
    {"AllowAgentForwarding", "no", 1, IMPL},
    {"AllowStreamLocalForwarding", "local", 1, IMPL},
    {"AllowTcpForwarding", "remote", 1, IMPL},
    {"AuthorizedKeysCommand", "none", 1, IMPL},
    {"AuthorizedKeysCommandUser", "nobody", 1, IMPL},
    {"AuthorizedPrincipalsCommand", "none", 1, IMPL},
    {"AuthorizedPrincipalsCommandUser", "nobody", 1, IMPL},
    {"AuthorizedPrincipalsFile", ".ssh/principals_%u", 1, IMPL},
    {"CASignatureAlgorithms", "ssh-ed25519", 1, IMPL},
    {"ChannelTimeout", "session=5m", 1, IMPL},
    {"ChrootDirectory", "none", 1, IMPL},
    {"Ciphers", "+aes256-ctr", 0, IMPL},
    {"ClientAliveCountMax", "3", 1, IMPL},
    {"ClientAliveInterval", "1m", 1, IMPL},
    {"Compression", "delayed", 0, IMPL},
    {"DebianBanner", "yes", 0, IGN},
    {"DisableForwarding", "yes", 1, IMPL},
    {"ExposeAuthInfo", "no", 1, IMPL},
    {"FingerprintHash", "md5", 0, IMPL},
    {"GatewayPorts", "clientspecified", 1, IMPL},
    {"GSSAPIAuthentication", "yes", 1, IGN},
    {"GSSAPICleanupCredentials", "no", 0, IGN},
    {"GSSAPICleanupCreds", "no", 0, IGN},
    {"GSSAPIKexAlgorithms", "gss-curve25519-sha256-", 0, IGN},
    {"GSSAPIKeyExchange", "yes", 0, IGN},
    {"GSSAPIStoreCredentialsOnRekey", "yes", 0, IGN},
    {"GSSAPIStrictAcceptorCheck", "no", 0, IGN},
    {"GSSAPIUseSessionCredCache", "yes", 0, IGN},
    {"GSSUseSessionCCache", "no", 0, IGN},
    {"HostbasedAcceptedAlgorithms", "ssh-ed25519", 1, IGN},
    {"HostbasedAcceptedKeyTypes", "ssh-ed25519", 1, IGN},
    {"HostbasedAuthentication", "yes", 1, IGN},
    {"HostbasedUsesNameFromPacketOnly", "yes", 1, IGN},
    {"HostCertificate", "/etc/ssh/host-cert.pub", 0, IMPL},
    {"HostKeyAgent", "none", 0, IMPL},
    {"HostKeyAlgorithms", "ssh-ed25519,rsa-sha2-512", 0, IMPL},
    {"IgnoreRhosts", "shosts-only", 1, IGN},
    {"IgnoreUserKnownHosts", "no", 0, IGN},
    {"IPQoS", "af21 cs1", 1, IMPL},
    {"KeepAlive", "yes", 0, IMPL},
    {"KerberosAuthentication", "yes", 1, IGN},
    {"KerberosGetAFSToken", "no", 0, IGN},
    {"KerberosOrLocalPasswd", "yes", 0, IGN},
    {"KerberosTgtPassing", "no", 0, IGN},
    {"KerberosTicketCleanup", "no", 0, IGN},
    {"KexAlgorithms", "-diffie-hellman-group1-sha1", 0, IMPL},
    {"LogVerbose", "kex.c:*:1000", 1, IGN},
    {"MACs", "^hmac-sha2-512", 0, IMPL},
    {"ModuliFile", "/etc/ssh/moduli", 0, IMPL},
    {"PermitListen", "any", 1, IMPL},
    {"PermitOpen", "none", 1, IMPL},
    {"PermitTunnel", "point-to-point", 1, IMPL},
    {"PermitUserEnvironment", "no", 0, IMPL},
    {"PermitUserRC", "no", 1, IMPL},
    {"PerSourceMaxStartups", "none", 0, IMPL},
    {"PerSourceNetBlockSize", "24:56", 0, IMPL},
    {"PerSourcePenalties", "no", 0, IMPL},
    {"PerSourcePenaltyExemptList", "10.0.0.0/8", 0, IMPL},
    {"PrintLastLog", "no", 0, IMPL},
    {"PrintMotd", "no", 0, IMPL},
    {"PubkeyAcceptedAlgorithms", "+ssh-rsa", 1, IMPL},
    {"PubkeyAcceptedKeyTypes", "*", 1, IMPL},
    {"PubkeyAuthOptions", "touch-required verify-required", 1, IMPL},
    {"RDomain", NULL, 1, VALUE},
    {"RekeyLimit", "1G 1h", 1, IMPL},
    {"RequiredRSASize", "3072", 1, IMPL},
    {"RevokedKeys", "/etc/ssh/revoked", 1, IMPL},
    {"SecurityKeyProvider", "internal", 0, IGN},
    {"SetEnv", "FOO=bar", 1, IMPL},
    {"SshdSessionPath", "/usr/lib/openssh/sshd-session", 0, IGN},
    {"StreamLocalBindMask", "0177", 1, IMPL},
    {"StreamLocalBindUnlink", "no", 1, IMPL},
    {"Subsystem", "sftp /usr/lib/openssh/sftp-server -l INFO", 0, IMPL},
    {"TCPKeepAlive", "no", 0, IMPL},
    {"TrustedUserCAKeys", "/etc/ssh/ca.pub", 1, IMPL},
    {"UnusedConnectionTimeout", "none", 1, IMPL},
    {"UseDNS", "yes", 0, IMPL},
    {"VersionAddendum", "hello world", 0, IMPL},
    {"X11DisplayOffset", "10", 1, IMPL},
    {"X11Forwarding", "yes", 1, IMPL},
    {"X11UseLocalhost", "yes", 1, IMPL},
    {"XAuthLocation", "/usr/bin/xauth", 0, IMPL},
    {"AuthorizedKeysFile2", "x", 1, DEP},
    {"CheckMail", "no", 0, DEP},
    {"KeyRegenerationInterval", "1h", 0, DEP},
    {"PAMAuthenticationViaKbdInt", "no", 0, DEP},
    {"PermitBlacklistedKeys", "no", 0, DEP},
    {"Protocol", "2", 0, DEP},
    {"ReverseMappingCheck", "no", 0, DEP},
    {"RhostsAuthentication", "no", 0, DEP},
    {"RhostsRSAAuthentication", "no", 1, DEP},
    {"RSAAuthentication", "yes", 1, DEP},
    {"ServerKeyBits", "1024", 0, DEP},
    {"UseLogin", "no", 0, DEP},
    {"UsePrivilegeSeparation", "sandbox", 0, DEP},
    {"VerifyReverseMapping", "no", 0, DEP},
};

#define NWANT (sizeof(want) / sizeof(want[0]))

/* load: text as the file t.conf; 0 or the error, messages in logbuf. */
static int
load(struct server_config *c, const char *text)
{
	struct cfg_memfile f = {"t.conf", text, strlen(text)};
	struct config_source *src = NULL;
	int r;

	logbuf[0] = '\0';
	config_init(c);
	if ((r = cfg_source_from_memory(&f, 1, &src)) != 0)
		return r;
	r = config_load_source(c, src);
	config_source_free(src);
	return r;
}

/*
 * 1 if text loads and, its defaults filled, config_check (sshd's final
 * checks) returns r_want having logged exactly log.
 */
static int
check_says(const char *text, int r_want, const char *log)
{
	struct server_config c;
	int ok;

	if (load(&c, text) != 0) {
		config_free(&c);
		return 0;
	}
	config_fill_defaults(&c);
	logbuf[0] = '\0';
	ok = config_check(&c) == r_want && strcmp(logbuf, log) == 0;
	if (!ok)
		printf("# got: %s", logbuf);
	config_free(&c);
	return ok;
}

static void
test_table(void)
{
	const char *name;
	int status, in_match, found, ok = 1;
	size_t i, j;

	for (i = 0; config_keyword_info(i, &name, &status, &in_match) == 0;
	     i++) {
		for (found = 0, j = 0; j < NWANT; j++) {
			if (strcmp(want[j].name, name) != 0)
				continue;
			found = 1;
			if (want[j].status != status ||
			    want[j].in_match != in_match) {
				printf("# %s: status %d match %d\n", name,
				    status, in_match);
				ok = 0;
			}
		}
		if (!found) {
			printf("# %s not in the test table\n", name);
			ok = 0;
		}
	}
	T_CHECK("table: every keyword as expected", ok);
	T_CHECK("table: no keyword missing", i == NWANT);
}

/* expect_line: the log a sample line of want[i] gives. */
static void
expect_line(size_t i, const char *prefix, int lineno, char *out, size_t len)
{
	switch (want[i].status) {
	case IMPL:
		out[0] = '\0';
		break;
	case DEP:
		/* Protocol is logged at DEBUG2 only, as by sshd. */
		if (strcmp(want[i].name, "Protocol") == 0)
			out[0] = '\0';
		else
			snprintf(out, len,
			    "t.conf line %d: Deprecated option %s\n", lineno,
			    want[i].name);
		break;
	default:
		snprintf(out, len,
		    "t.conf line %d: Unsupported option %s (not implemented by "
		    "postern; ignored)\n",
		    lineno, want[i].name);
		break;
	}
	(void)prefix;
}

static void
test_samples(void)
{
	struct server_config c;
	char text[512], exp[512], name[256];
	size_t i;
	int r;

	for (i = 0; i < NWANT; i++) {
		if (want[i].sample == NULL)
			continue;
		/* Globally. */
		snprintf(text, sizeof(text), "%s %s\n", want[i].name,
		    want[i].sample);
		r = load(&c, text);
		expect_line(i, "", 1, exp, sizeof(exp));
		snprintf(name, sizeof(name), "sample: %s %s", want[i].name,
		    want[i].sample);
		T_CHECK(name, r == 0 && strcmp(logbuf, exp) == 0);
		if (r != 0 || strcmp(logbuf, exp) != 0)
			printf("# got: %s", logbuf);
		config_free(&c);
		/* Inside a Match block. */
		snprintf(text, sizeof(text), "Match User x\n%s %s\n",
		    want[i].name, want[i].sample);
		r = load(&c, text);
		if (want[i].in_match)
			expect_line(i, "", 2, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp),
			    "t.conf line 2: Directive '%s' is not allowed "
			    "within a Match block\n",
			    want[i].name);
		snprintf(
		    name, sizeof(name), "sample in Match: %s", want[i].name);
		T_CHECK(name,
		    (r == 0) == (want[i].in_match != 0) &&
		        strcmp(logbuf, exp) == 0);
		if (strcmp(logbuf, exp) != 0)
			printf("# got: %s", logbuf);
		config_free(&c);
	}
}

/* refused: a line that must be refused with exactly this reason. */
static void
refused(const char *line, const char *value_why)
{
	struct server_config c;
	char kw[64], exp[1024], name[256];
	int r;

	sscanf(line, "%63s", kw);
	snprintf(exp, sizeof(exp), "t.conf line 1: %s %s\n%s", kw, value_why,
	    t_config_counted(value_why)
	        ? "t.conf: terminating, 1 bad configuration options\n"
	        : "");
	r = load(&c, line);
	snprintf(name, sizeof(name), "refused: %s", line);
	T_CHECK(name, r == ERR_CONFIG && strcmp(logbuf, exp) == 0);
	if (strcmp(logbuf, exp) != 0)
		printf("# got: %s", logbuf);
	config_free(&c);
}

/* warned: a line accepted with the warning only. */
static void
warned(const char *line)
{
	struct server_config c;
	char kw[64], exp[512], name[256];
	int r;

	sscanf(line, "%63s", kw);
	snprintf(exp, sizeof(exp),
	    "t.conf line 1: Unsupported option %s (not implemented by "
	    "postern; ignored)\n",
	    kw);
	r = load(&c, line);
	snprintf(name, sizeof(name), "warned: %s", line);
	T_CHECK(name, r == 0 && strcmp(logbuf, exp) == 0);
	if (strcmp(logbuf, exp) != 0)
		printf("# got: %s", logbuf);
	config_free(&c);
}

/* accepted: an implemented line that loads without a word. */
static void
accepted(const char *line)
{
	struct server_config c;
	char name[256];
	int r;

	r = load(&c, line);
	snprintf(name, sizeof(name), "accepted: %s", line);
	T_CHECK(name, r == 0 && logbuf[0] == '\0');
	if (r != 0 || logbuf[0] != '\0')
		printf("# got: %s", logbuf);
	config_free(&c);
}

static void
test_values(void)
{
	accepted("HostKeyAgent /run/agent.sock");
	accepted("HostKeyAgent SSH_AUTH_SOCK");
	refused("RDomain vrf0",
	    "vrf0 is not supported by postern (routing "
	    "domains are not supported on this platform)");
	accepted("Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com");
	accepted("Ciphers -chacha20*");
	accepted("Ciphers ^aes256-ctr");
	accepted("Ciphers -aes*-ctr,3des-cbc");
	accepted("KexAlgorithms mlkem768x25519-sha256,curve25519-sha256");
	accepted("KexAlgorithms +diffie-hellman-group14-sha256");
	accepted("MACs +hmac-sha1,hmac-sha1-etm@openssh.com");
	accepted("HostKeyAlgorithms *");
	accepted("HostKeyAlgorithms rsa-sha2-512");
	/* As sshd: empty entries (a trailing or doubled comma) are skipped. */
	accepted("PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,");
	accepted("Ciphers aes128-ctr,,aes256-ctr");
	warned("HostbasedAcceptedAlgorithms ssh-ed25519,,ssh-rsa");
	accepted("Compression no");
	accepted("RekeyLimit 1G 1h");
	accepted("RekeyLimit default 30m");
	accepted("RekeyLimit 1.5M none");
	accepted("UseDNS yes");
	accepted("PerSourceMaxStartups 10");
	accepted("PerSourceMaxStartups 0");
	accepted("PerSourceNetBlockSize 24");
	accepted("PerSourcePenalties authfail:10s min:1m overflow:deny-all");
	accepted("PerSourcePenalties yes");
	accepted("PerSourcePenalties refuseconnection:5s");
	accepted("PerSourcePenaltyExemptList 192.0.2.0/24,*.example,!10.1.2.3");

	accepted("TOTPWindow 10");
	refused("TOTPWindow 11", "integer value too large.");
	accepted("RekeyLimit 0 0");
	accepted("RekeyLimit default");
	/*
	 * Ignored keywords set to what postern does anyway (CIS's
	 * HostbasedAuthentication no, IgnoreRhosts yes...): no warning, as
	 * sshd says nothing; the other values still warn.
	 */
	accepted("UseDNS no");
	accepted("HostbasedAuthentication no");
	accepted("IgnoreRhosts yes");
	accepted("IgnoreUserKnownHosts YES");
	accepted("GSSAPIAuthentication no");
	accepted("GSSAPIKeyExchange no");
	accepted("KerberosAuthentication no");
	accepted("DebianBanner no");
	accepted("GSSAPICleanupCredentials yes");
	accepted("GSSAPICleanupCreds yes");
	accepted("GSSAPIStoreCredentialsOnRekey no");
	accepted("GSSAPIStrictAcceptorCheck yes");
	accepted("HostbasedUsesNameFromPacketOnly no");
	accepted("KerberosOrLocalPasswd no");
	accepted("KerberosTicketCleanup yes");
	warned("DebianBanner yes");
	warned("KerberosOrLocalPasswd yes");
	warned("IgnoreRhosts shosts-only");
	warned("GSSAPIAuthentication yes");
}

static void
bad(const char *line, const char *msg)
{
	struct server_config c;
	char exp[1024], name[256];
	int r;

	snprintf(exp, sizeof(exp), "%s\n%s", msg,
	    t_config_counted(msg)
	        ? "t.conf: terminating, 1 bad configuration options\n"
	        : "");
	r = load(&c, line);
	snprintf(name, sizeof(name), "error: %s", line);
	T_CHECK(name, r == ERR_CONFIG && strcmp(logbuf, exp) == 0);
	if (strcmp(logbuf, exp) != 0)
		printf("# got: %s", logbuf);
	config_free(&c);
}

static void
test_errors(void)
{
	/* Algorithm lists: unknown names name the file, line and keyword. */
	/* Ignored keywords' lists are still checked as sshd checks them. */
	bad("HostbasedAcceptedAlgorithms ^ssh-foo",
	    "t.conf line 1: HostbasedAcceptedAlgorithms: Bad key types "
	    "'^ssh-foo'.");
	bad("GSSAPIKexAlgorithms gss-group14-sha256-,gss-*",
	    "Unsupported KEX algorithm \"gss-*\"\nt.conf line 1: "
	    "GSSAPIKexAlgorithms: Bad GSSAPI KexAlgorithms "
	    "'gss-group14-sha256-,gss-*'.");
	/* A UTF-8 BOM (Notepad) before the first keyword: shown as sshd. */
	/* Raw here: log_emit() writes it as \357\273\277Port (test_log). */
	bad("\xef\xbb\xbfPort 22",
	    "t.conf: line 1: Bad configuration option: \xef\xbb\xbfPort");
	bad("Ciphers aes128-ctr,nosuch",
	    "t.conf line 1: Ciphers: Bad SSH2 cipher spec "
	    "'aes128-ctr,nosuch'.");
	bad("Ciphers 3des-cbc,aes128-cbc",
	    "t.conf line 1: Ciphers '3des-cbc,aes128-cbc': postern implements "
	    "none of these");
	bad("KexAlgorithms gss-group18-sha512-",
	    "Unsupported KEX algorithm \"gss-group18-sha512-\"\n"
	    "t.conf line 1: Bad SSH2 KexAlgorithms 'gss-group18-sha512-'.");
	bad("MACs umac-32*",
	    "t.conf line 1: MACs: Bad SSH2 mac spec 'umac-32*'.");
	bad("HostKeyAlgorithms ssh-foo",
	    "t.conf line 1: HostKeyAlgorithms: Bad key types 'ssh-foo'.");
	bad("Ciphers *,!aes128-ctr",
	    "t.conf line 1: Ciphers: Bad SSH2 cipher spec '*,!aes128-ctr'.");
	/* As sshd 9.2: patterns only in a "-list" of these three. */
	bad("Ciphers chacha20-poly1305@openssh.com,aes*-gcm@openssh.com",
	    "t.conf line 1: Ciphers: Bad SSH2 cipher spec "
	    "'chacha20-poly1305@openssh.com,aes*-gcm@openssh.com'.");
	bad("MACs +hmac-sha2-*",
	    "t.conf line 1: MACs: Bad SSH2 mac spec '+hmac-sha2-*'.");
	bad("KexAlgorithms ^curve25519-*",
	    "Unsupported KEX algorithm \"curve25519-*\"\n"
	    "t.conf line 1: Bad SSH2 KexAlgorithms '^curve25519-*'.");
	bad("Compression sometimes",
	    "t.conf line 1: Compression: unsupported option \"sometimes\".");
	bad("PAMServiceName ../evil",
	    "t.conf line 1: PAMServiceName needs a PAM service name.");
	bad("UsePAM maybe",
	    "t.conf line 1: UsePAM: unsupported option \"maybe\".");
	bad("PermitRootLogin maybe",
	    "t.conf line 1: PermitRootLogin: unsupported option \"maybe\".");
	bad("AllowUsers \"\"",
	    "t.conf line 1: invalid AllowUsers pattern: "
	    "\"\"");
	bad("DenyUsers bob@10.0.0.1/8",
	    "t.conf line 1: invalid DenyUsers pattern: \"bob@10.0.0.1/8\"");
	bad("AllowGroups a \"\"", "t.conf line 1: empty AllowGroups pattern");
	bad("AuthenticationMethods any publickey",
	    "t.conf line 1: \"any\" must appear alone in "
	    "AuthenticationMethods");
	bad("AuthenticationMethods publickey any",
	    "t.conf line 1: \"any\" must appear alone in "
	    "AuthenticationMethods");
	bad("AuthenticationMethods publickey,,password",
	    "Unknown authentication method \"\" in list\nt.conf line 1: "
	    "invalid AuthenticationMethods method list.");
	bad("AuthenticationMethods publickey,publickey,publickey,publickey,"
	    "publickey,publickey,publickey,publickey,publickey,publickey,"
	    "publickey,publickey,publickey,publickey,publickey,publickey,"
	    "password",
	    "t.conf line 1: AuthenticationMethods list of more than 16 "
	    "methods.");
	bad("AuthenticationMethods pubkey",
	    "Unknown authentication method \"pubkey\" in list\nt.conf line "
	    "1: invalid AuthenticationMethods method list.");
	/* As sshd: the method's name, without its submethod. */
	bad("AuthenticationMethods publickey,pubkey:x:y",
	    "Unknown authentication method \"pubkey\" in list\nt.conf line "
	    "1: invalid AuthenticationMethods method list.");
	bad("AuthenticationMethods :pam",
	    "Unknown authentication method \"\" in list\nt.conf line 1: "
	    "invalid AuthenticationMethods method list.");
	bad("AuthenticationMethods \"\"",
	    "empty authentication method list\nt.conf line 1: invalid "
	    "AuthenticationMethods method list.");
	bad("AuthenticationMethods none",
	    "t.conf line 1: AuthenticationMethods method \"none\" is not "
	    "supported by postern");
	bad("AuthenticationMethods hostbased:x",
	    "t.conf line 1: AuthenticationMethods: method hostbased has no "
	    "submethods (\"hostbased:x\")");
	bad("AuthenticationMethods publickey:x",
	    "t.conf line 1: AuthenticationMethods: method publickey has no "
	    "submethods (\"publickey:x\")");
	bad("AuthenticationMethods keyboard-interactive:",
	    "t.conf line 1: AuthenticationMethods: bad submethod in "
	    "\"keyboard-interactive:\"");
	bad("Banner \"\"", "t.conf line 1: Banner: missing file name.");
	bad("X11Forwarding maybe",
	    "t.conf line 1: X11Forwarding: unsupported option \"maybe\".");
	bad("AcceptEnv A=B",
	    "t.conf line 1: AcceptEnv: Invalid environment name.");
	bad("SetEnv A", "t.conf line 1: SetEnv: Invalid environment.");
	bad("ClientAliveInterval 1x",
	    "t.conf line 1: ClientAliveInterval: invalid time value.");
	bad("ChannelTimeout none session=1m",
	    "t.conf line 1: keyword ChannelTimeout \"none\" argument must "
	    "appear alone.");
	bad("ChannelTimeout session",
	    "t.conf line 1: ChannelTimeout: invalid channel timeout session");
	bad("IPQoS fast", "t.conf line 1: Bad IPQoS value: fast");
	bad("RekeyLimit 8", "t.conf line 1: RekeyLimit too small");
	bad("RekeyLimit lots",
	    "t.conf line 1: Bad RekeyLimit number 'lots': Invalid argument");
	bad("RekeyLimit 1KB",
	    "t.conf line 1: Bad RekeyLimit number '1KB': Invalid argument");
	bad("RekeyLimit 8E",
	    "t.conf line 1: Bad RekeyLimit number '8E': "
	    "Numerical result out of range");
	bad("RekeyLimit 1M 1x",
	    "t.conf line 1: RekeyLimit: invalid time value.");
	bad("RekeyLimit 0.01K", "t.conf line 1: RekeyLimit too small");
	bad("StreamLocalBindMask x",
	    "t.conf line 1: Invalid "
	    "StreamLocalBindMask.");
	bad("FingerprintHash crc32",
	    "t.conf line 1: Invalid FingerprintHash algorithm \"crc32\".");
	bad("PubkeyAcceptedKeyTypes *,!ssh-dss",
	    "t.conf line 1: invalid PubkeyAcceptedKeyTypes list '*,!ssh-dss'");
	bad("PubkeyAcceptedAlgorithms ssh-ed25519,foo",
	    "t.conf line 1: PubkeyAcceptedAlgorithms: Bad key types "
	    "'ssh-ed25519,foo'.");
	bad("CASignatureAlgorithms ssh-ed25519-cert-v01@openssh.com",
	    "t.conf line 1: invalid CASignatureAlgorithms list "
	    "'ssh-ed25519-cert-v01@openssh.com'");
	bad("RequiredRSASize big",
	    "t.conf line 1: RequiredRSASize integer value invalid.");
	bad("PubkeyAuthOptions touch",
	    "t.conf line 1: unsupported "
	    "PubkeyAuthOptions option touch");
	bad("PerSourceNetBlockSize 33",
	    "t.conf line 1: Invalid "
	    "PerSourceNetBlockSize spec.");
	bad("PerSourcePenalties no crash:1",
	    "t.conf line 1: keyword PerSourcePenalties \"no\" argument "
	    "must appear alone.");
	bad("PerSourcePenalties authfail:5x",
	    "t.conf line 1: invalid PerSourcePenalties time value.");
	bad("PerSourcePenalties overflow:none",
	    "t.conf line 1: unsupported PerSourcePenalties keyword "
	    "overflow:none");
	bad("PerSourcePenalties max-sources6:-2",
	    "t.conf line 1: PerSourcePenalties value too small.");
	bad("PerSourcePenaltyExemptList 192.0.2.0/8",
	    "t.conf line 1: keyword PerSourcePenaltyExemptList invalid "
	    "address argument.");
	bad("Subsystem sftp", "t.conf line 1: Missing subsystem command.");
	bad("PermitTunnel Yes", "t.conf line 1: bad PermitTunnel argument Yes");
	bad("AuthorizedKeysCommand bin/x",
	    "t.conf line 1: AuthorizedKeysCommand must be an absolute path");
	bad("Ciphers aes,,x",
	    "t.conf line 1: Ciphers: Bad SSH2 cipher spec 'aes,,x'.");
	bad("UnusedConnectionTimeout soon",
	    "t.conf line 1: UnusedConnectionTimeout: invalid time value.");
	bad("LogVerbose a none",
	    "t.conf line 1: keyword LogVerbose \"none\" argument must appear "
	    "alone.");
	bad("X11DisplayOffset x",
	    "t.conf line 1: X11DisplayOffset integer value invalid.");
	bad("Include \"\"", "t.conf line 1: keyword Include empty argument");
}

/* As sshd, no limit a real list reaches: 3000 names on one line, 700
 * lines; 65536 entries is the bound. */
static void
test_long_access_list(void)
{
	struct server_config c;
	size_t len = 0, i, cap = 65537 * 8 + 64;
	char *text = malloc(cap);
	int ok;

	if (text == NULL)
		return;
	len += (size_t)snprintf(text + len, cap - len, "AllowUsers");
	for (i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len, " u%zu", i);
	text[len++] = '\n';
	for (i = 0; i < 700; i++)
		len += (size_t)snprintf(
		    text + len, cap - len, "DenyGroups g%zu\n", i);
	text[len] = '\0';
	ok = load(&c, text) == 0 && c.nallow_users == 3000 &&
	    strcmp(c.allow_users[2999], "u2999") == 0 &&
	    c.ndeny_groups == 700 && strcmp(c.deny_groups[699], "g699") == 0;
	T_CHECK("values: 3000 AllowUsers names, 700 DenyGroups lines", ok);
	config_free(&c);
	len = (size_t)snprintf(text, cap, "DenyUsers");
	for (i = 0; i < 65537; i++)
		len += (size_t)snprintf(text + len, cap - len, " %zx", i);
	T_CHECK("values: 65537 DenyUsers entries refused",
	    load(&c, text) != 0 &&
	        strstr(logbuf, "t.conf line 1: too many DenyUsers entries.") !=
	            NULL);
	config_free(&c);
	free(text);
}

static void
test_implemented_values(void)
{
	struct server_config c;

	T_CHECK("values: access lists accumulate",
	    load(&c,
	        "AllowUsers a b@10.0.0.0/8\nAllowUsers c@*.example\n"
	        "DenyUsers d\nAllowGroups g1 g2\nDenyGroups \"g 3\"\n") == 0 &&
	        c.nallow_users == 3 &&
	        strcmp(c.allow_users[2], "c@*.example") == 0 &&
	        c.ndeny_users == 1 && c.nallow_groups == 2 &&
	        strcmp(c.deny_groups[0], "g 3") == 0);
	config_free(&c);
	test_long_access_list();
	T_CHECK("values: forwarding and liveness keywords",
	    load(&c,
	        "ClientAliveInterval 1m\nClientAliveCountMax 0\n"
	        "UnusedConnectionTimeout none\nX11DisplayOffset 12\n"
	        "ChannelTimeout session:*=5m *=1h\nChannelTimeout x=1\n"
	        "PermitTunnel ethernet\nKeepAlive no\nTCPKeepAlive yes\n") ==
	            0 &&
	        c.client_alive_interval == 60 &&
	        c.client_alive_count_max == 0 &&
	        c.unused_connection_timeout == 0 &&
	        c.x11_display_offset == 12 && c.nchannel_timeouts == 2 &&
	        strcmp(c.channel_timeouts[1], "*=1h") == 0 &&
	        c.permit_tunnel == TUNNEL_ETHERNET && c.tcp_keepalive == 0);
	config_free(&c);
	/* As sshd: each half kept from the first line that sets it;
	 * scan_scaled(3) truncates fractions. */
	T_CHECK("values: RekeyLimit",
	    load(&c,
	        "RekeyLimit 1.999K none\nRekeyLimit 2M 1h30m\n"
	        "RekeyLimit 3M 5\n") == 0 &&
	        c.rekey_limit == 2046 && c.rekey_interval == 5400);
	config_free(&c);
	T_CHECK("values: RekeyLimit defaults",
	    load(&c, "RekeyLimit default\n") == 0 &&
	        (config_fill_defaults(&c), 1) && c.rekey_limit == 0 &&
	        c.rekey_interval == 0);
	config_free(&c);
	T_CHECK("values: RekeyLimit 7.99E drops what does not fit",
	    load(&c, "RekeyLimit 7.99E") == 0 &&
	        c.rekey_limit == 8070450532247928832LL);
	config_free(&c);
	T_CHECK("values: PermitTunnel is case-sensitive",
	    load(&c, "PermitTunnel Yes") != 0);
	config_free(&c);
	T_CHECK("values: ChannelTimeout none stands alone",
	    load(&c, "ChannelTimeout none x=1") != 0);
	config_free(&c);
	T_CHECK("values: PermitRootLogin prohibit-password",
	    load(&c, "PermitRootLogin prohibit-password") == 0 &&
	        c.permit_root_login == PERMIT_NO_PASSWD);
	config_free(&c);
	T_CHECK("values: PermitRootLogin without-password",
	    load(&c, "PermitRootLogin without-password") == 0 &&
	        c.permit_root_login == PERMIT_NO_PASSWD);
	config_free(&c);
	T_CHECK("values: PermitRootLogin forced-commands-only",
	    load(&c, "PermitRootLogin forced-commands-only") == 0 &&
	        c.permit_root_login == PERMIT_FORCED_ONLY);
	config_free(&c);
	T_CHECK("values: PermitRootLogin yes / no",
	    load(&c, "PermitRootLogin YES\nPermitRootLogin no") == 0 &&
	        c.permit_root_login == PERMIT_YES);
	config_free(&c);
	T_CHECK("values: AuthenticationMethods lists",
	    load(&c,
	        "AuthenticationMethods publickey,keyboard-interactive:totp "
	        "password publickey,publickey\n"
	        "AuthenticationMethods password") == 0 &&
	        c.nauth_methods == 3 &&
	        strcmp(c.auth_methods[0],
	            "publickey,keyboard-interactive:totp") == 0 &&
	        strcmp(c.auth_methods[2], "publickey,publickey") == 0);
	config_free(&c);
	T_CHECK("values: AuthenticationMethods any is no list",
	    load(&c, "AuthenticationMethods any") == 0 &&
	        c.nauth_methods == 1 && (config_fill_defaults(&c), 1) &&
	        c.nauth_methods == 0);
	config_free(&c);
	T_CHECK("values: ForceCommand keeps the line as written",
	    load(&c,
	        "ForceCommand   /bin/echo \"a  b\" %u # c\n"
	        "ForceCommand /bin/second") == 0 &&
	        strcmp(c.force_command, "/bin/echo \"a  b\" %u # c") == 0);
	config_free(&c);
	T_CHECK("values: ForceCommand \"\" is kept as written, as by sshd",
	    load(&c, "ForceCommand \"\"") == 0 &&
	        strcmp(c.force_command, "\"\"") == 0);
	config_free(&c);
	T_CHECK("values: KbdInteractive old names are aliases",
	    load(&c,
	        "ChallengeResponseAuthentication no\n"
	        "KbdInteractiveAuthentication yes") == 0 &&
	        c.kbd_interactive_authentication == 0);
	config_free(&c);
	T_CHECK("values: Banner none",
	    load(&c, "Banner none") == 0 && (config_fill_defaults(&c), 1) &&
	        c.banner == NULL);
	config_free(&c);
	T_CHECK("values: defaults of the access rules",
	    load(&c, "") == 0 && (config_fill_defaults(&c), 1) &&
	        c.permit_root_login == PERMIT_NO_PASSWD &&
	        c.permit_empty_passwords == 0 &&
	        c.password_authentication == 1 &&
	        c.kbd_interactive_authentication == 1 && c.use_pam == 0 &&
	        c.permit_tty == 1 && c.banner == NULL &&
	        c.force_command == NULL && c.nauth_methods == 0 &&
	        c.nallow_users == 0);
	config_free(&c);

	/* sshd's check that some list can be satisfied. */
	T_CHECK("check: no list can be satisfied",
	    check_says("PubkeyAuthentication no\n"
	               "AuthenticationMethods publickey\n",
	        ERR_CONFIG,
	        "Disabled method \"publickey\" in AuthenticationMethods "
	        "list \"publickey\"\nAuthenticationMethods cannot be "
	        "satisfied by enabled authentication methods\n"));
	T_CHECK("check: one list is enough",
	    load(&c,
	        "PasswordAuthentication no\nAuthenticationMethods "
	        "password,publickey publickey\n") == 0 &&
	        (config_fill_defaults(&c), 1) && config_check(&c) == 0);
	config_free(&c);
	/* hostbased and gssapi-with-mic load, as sshd's switched-off
	 * methods: their lists are disabled, the others serve. */
	T_CHECK("check: gssapi-with-mic and hostbased lists disabled",
	    check_says("AuthenticationMethods gssapi-with-mic "
	               "publickey,hostbased publickey\n",
	        0,
	        "Disabled method \"gssapi-with-mic\" in "
	        "AuthenticationMethods list \"gssapi-with-mic\"\n"
	        "Disabled method \"hostbased\" in AuthenticationMethods "
	        "list \"publickey,hostbased\"\n"));
	T_CHECK("check: hostbased alone load",
	    load(&c, "AuthenticationMethods hostbased\n") == 0);
	config_fill_defaults(&c);
	T_CHECK("check: hostbased alone cannot be satisfied",
	    config_check(&c) == ERR_CONFIG);
	config_free(&c);
	/* As sshd's fatal(): the first address that does not resolve ends
	 * the check, whatever the number of ports; sshd's words after the
	 * file, line and keyword that gave the address. */
	T_CHECK("listen: load",
	    load(&c,
	        "AddressFamily inet\nPort 22\nPort 2222\nListenAddress ::\n") ==
	        0);
	config_fill_defaults(&c);
	logbuf[0] = '\0';
	T_CHECK("listen: one bad addr line",
	    config_check_listen(&c) == ERR_CONFIG &&
	        strncmp(logbuf,
	            "t.conf line 4: ListenAddress: bad addr or host: :: (",
	            52) == 0 &&
	        strchr(logbuf, '\n') == logbuf + strlen(logbuf) - 1);
	config_free(&c);
	/* As sshd: the method is named without its submethod. */
	T_CHECK("check: disabled submethod named as its method",
	    check_says("KbdInteractiveAuthentication no\nAuthenticationMethods "
	               "publickey,keyboard-interactive:pam publickey\n",
	        0,
	        "Disabled method \"keyboard-interactive\" in "
	        "AuthenticationMethods list "
	        "\"publickey,keyboard-interactive:pam\"\n"));
}

/* The status a row of docs/sshd_config.md gives in words. */
static int
doc_status(const char *s)
{
	if (strncmp(s, "implemented", 11) == 0)
		return IMPL;
	if (strncmp(s, "ignored", 7) == 0)
		return IGN;
	if (strncmp(s, "depends on the value", 20) == 0)
		return VALUE;
	if (strncmp(s, "refused", 7) == 0)
		return REF;
	if (strncmp(s, "deprecated", 10) == 0)
		return DEP;
	return -1;
}

/* docs/sshd_config.md: one row per keyword with the same status. */
static void
test_docs(void)
{
	FILE *f = fopen("docs/sshd_config.md", "r");
	char line[2048], name[128], *p, *q;
	int seen[NWANT], ok = 1, st, in_match, in_table = 0;
	size_t i;

	memset(seen, 0, sizeof(seen));
	T_CHECK("docs: docs/sshd_config.md readable", f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "## Keywords": | `Keyword` | status | Match | notes | */
		if (strncmp(line, "## ", 3) == 0)
			in_table = strcmp(line, "## Keywords\n") == 0;
		if (!in_table || strncmp(line, "| `", 3) != 0)
			continue;
		p = line + 3;
		if ((q = strchr(p, '`')) == NULL ||
		    (size_t)(q - p) >= sizeof(name))
			continue;
		memcpy(name, p, (size_t)(q - p));
		name[q - p] = '\0';
		p = q + 1;
		p += strspn(p, " |");
		st = doc_status(p);
		in_match = -1;
		if ((q = strchr(p, '|')) != NULL) {
			q += strspn(q, " |");
			if (strncmp(q, "yes", 3) == 0)
				in_match = 1;
			else if (strncmp(q, "no", 2) == 0)
				in_match = 0;
		}
		for (i = 0; i < NWANT; i++) {
			if (strcmp(want[i].name, name) != 0)
				continue;
			seen[i]++;
			if (st != want[i].status ||
			    in_match != want[i].in_match) {
				printf("# docs: %s: wrong status or Match "
				       "column\n",
				    name);
				ok = 0;
			}
		}
	}
	fclose(f);
	for (i = 0; i < NWANT; i++) {
		if (seen[i] != 1) {
			printf("# docs: %s listed %d times\n", want[i].name,
			    seen[i]);
			ok = 0;
		}
	}
	T_CHECK("docs: every keyword once, with its status", ok);
}

/* Subsystem: lines accumulate, the first for a name wins, args joined. */
static void
test_subsystem_values(void)
{
	struct server_config c;

	T_CHECK("subsystem: accumulate, first wins",
	    load(&c,
	        "Subsystem sftp internal-sftp -l  INFO \"-d\" '/srv'\n"
	        "Subsystem x /bin/echo\n"
	        "Subsystem sftp /usr/lib/openssh/sftp-server\n") == 0 &&
	        c.nsubsystems == 2 &&
	        strcmp(c.subsystem_name[0], "sftp") == 0 &&
	        strcmp(c.subsystem_args[0], "internal-sftp -l INFO -d /srv") ==
	            0 &&
	        strcmp(c.subsystem_name[1], "x") == 0 &&
	        strcmp(c.subsystem_args[1], "/bin/echo") == 0);
	config_free(&c);
	T_CHECK("subsystem: not inside Match",
	    load(&c, "Match user x\nSubsystem sftp internal-sftp\n") != 0);
	config_free(&c);
}

/* The keywords of public keys and certificates: defaults, lists, Match. */
static void
test_pubkey_values(void)
{
	struct server_config c;
	struct cfg_memfile f;
	struct config_source *src = NULL;
	struct match_conn mc;
	const char *text;

	T_CHECK("pubkey: defaults",
	    load(&c, "") == 0 && (config_fill_defaults(&c), 1) &&
	        c.required_rsa_size == 1024 && c.pubkey_auth_options == 0 &&
	        c.trusted_user_ca_keys == NULL && c.revoked_keys_file == NULL &&
	        c.authorized_principals_file == NULL &&
	        c.nhost_cert_files == 0 &&
	        strcmp(c.pubkey_accepted_algos, ALGLIST_PUBKEY_DEFAULT) == 0 &&
	        strcmp(c.ca_sign_algorithms, ALGLIST_CA_SIG_DEFAULT) == 0);
	config_free(&c);
	T_CHECK("pubkey: values as written, lists resolved",
	    load(&c,
	        "PubkeyAcceptedAlgorithms rsa-sha2-*\n"
	        "PubkeyAcceptedAlgorithms ssh-ed25519\n"
	        "CASignatureAlgorithms +ssh-rsa\n"
	        "RequiredRSASize 3072\n"
	        "PubkeyAuthOptions verify-required none\n"
	        "TrustedUserCAKeys /etc/ssh/ca.pub\n"
	        "RevokedKeys NONE\n"
	        "AuthorizedPrincipalsFile .ssh/p_%u\n"
	        "HostCertificate /etc/ssh/a-cert.pub\n"
	        "HostCertificate /etc/ssh/b-cert.pub\n") == 0 &&
	        (config_fill_defaults(&c), 1) &&
	        strcmp(c.pubkey_accepted_algos,
	            "rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,"
	            "rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com") == 0 &&
	        strcmp(c.ca_sign_algorithms,
	            ALGLIST_CA_SIG_DEFAULT ",ssh-rsa") == 0 &&
	        c.required_rsa_size == 3072 &&
	        c.pubkey_auth_options == PUBKEYAUTH_VERIFY_REQUIRED &&
	        strcmp(c.trusted_user_ca_keys, "/etc/ssh/ca.pub") == 0 &&
	        c.revoked_keys_file == NULL &&
	        strcmp(c.authorized_principals_file, ".ssh/p_%u") == 0 &&
	        c.nhost_cert_files == 2 &&
	        strcmp(c.host_cert_files[1], "/etc/ssh/b-cert.pub") == 0);
	config_free(&c);

	/* sshd's quirk: a principals command after a keys command is lost. */
	T_CHECK("commands: rest of line kept, first value wins",
	    load(&c,
	        "AuthorizedKeysCommand /usr/bin/k %u \"%f x\"\n"
	        "AuthorizedKeysCommand /usr/bin/other\n"
	        "AuthorizedKeysCommandUser nobody\n"
	        "AuthorizedPrincipalsCommand none\n") == 0 &&
	        strcmp(c.authorized_keys_command, "/usr/bin/k %u \"%f x\"") ==
	            0 &&
	        strcmp(c.authorized_keys_command_user, "nobody") == 0 &&
	        c.authorized_principals_command == NULL &&
	        c.authorized_principals_command_user == NULL);
	config_free(&c);
	T_CHECK("commands: a command needs its user",
	    load(&c, "AuthorizedPrincipalsCommand /bin/p %u\n") == 0 &&
	        (config_fill_defaults(&c), 1) && config_check(&c) != 0);
	config_free(&c);

	/* A Match block's values replace the global ones, resolved again. */
	text = "PubkeyAcceptedAlgorithms -rsa*\n"
	       "RevokedKeys /etc/ssh/revoked\n"
	       "Match User alice\n"
	       "PubkeyAcceptedAlgorithms ssh-ed25519\n"
	       "RevokedKeys none\n"
	       "RequiredRSASize 4096\n"
	       "PubkeyAuthOptions touch-required\n";
	f.path = "t.conf";
	f.text = text;
	f.len = strlen(text);
	config_init(&c);
	T_CHECK("pubkey match: load",
	    cfg_source_from_memory(&f, 1, &src) == 0 &&
	        config_load_source(&c, src) == 0);
	config_fill_defaults(&c);
	T_CHECK("pubkey match: global -list resolved",
	    strstr(c.pubkey_accepted_algos, "rsa") == NULL &&
	        strstr(c.pubkey_accepted_algos, "ssh-ed25519,") != NULL &&
	        strcmp(c.revoked_keys_file, "/etc/ssh/revoked") == 0);
	memset(&mc, 0, sizeof(mc));
	mc.user = "alice";
	mc.addr = mc.host = "192.0.2.1";
	T_CHECK("pubkey match: applied",
	    config_apply_match(&c, src, &mc) == 0 &&
	        strcmp(c.pubkey_accepted_algos, "ssh-ed25519") == 0 &&
	        c.revoked_keys_file == NULL && c.required_rsa_size == 4096 &&
	        c.pubkey_auth_options == PUBKEYAUTH_TOUCH_REQUIRED);
	config_free(&c);
	config_source_free(src);
}

/*
 * Names sshd 9.2 knows that postern does not implement (hardening guides
 * and benchmarks name them): the line loads, as with sshd, each such name
 * is logged and left out of the effective list.
 */
static void
left_out(const char *line, const char *logged, const char *effective)
{
	struct server_config c;
	char name[256];
	int r;

	r = load(&c, line);
	if (r == 0)
		config_fill_defaults(&c);
	snprintf(name, sizeof(name), "left out: %s", line);
	T_CHECK(name, r == 0 && strcmp(logbuf, logged) == 0);
	if (strcmp(logbuf, logged) != 0)
		printf("# got: %s", logbuf);
	snprintf(name, sizeof(name), "effective: %s", line);
	T_CHECK(name,
	    r == 0 &&
	        (strcmp(c.ciphers, effective) == 0 ||
	            strcmp(c.macs, effective) == 0 ||
	            strcmp(c.kex_algorithms, effective) == 0));
	config_free(&c);
}

static void
test_unimplemented_names(void)
{
	left_out("Ciphers aes256-gcm@openssh.com,aes256-cbc,aes256-ctr",
	    "t.conf line 1: Ciphers aes256-cbc is not implemented by postern; "
	    "left out\n",
	    "aes256-gcm@openssh.com,aes256-ctr");
	left_out("Ciphers +aes128-cbc",
	    "t.conf line 1: Ciphers aes128-cbc is not implemented by postern; "
	    "left out\n",
	    ALGLIST_CIPHER_DEFAULT);
	left_out("MACs hmac-md5,hmac-sha2-256",
	    "t.conf line 1: MACs hmac-md5 is not implemented by postern; left "
	    "out\n",
	    "hmac-sha2-256");
	left_out("KexAlgorithms +diffie-hellman-group14-sha1",
	    "t.conf line 1: KexAlgorithms diffie-hellman-group14-sha1 is not "
	    "implemented by postern; left out\n",
	    ALGLIST_KEX_DEFAULT);
	/* ssh-audit's Debian 12 guide: Debian's GSSAPI key exchanges. */
	left_out("KexAlgorithms sntrup761x25519-sha512@openssh.com,"
	         "gss-curve25519-sha256-,curve25519-sha256",
	    "t.conf line 1: KexAlgorithms gss-curve25519-sha256- is not "
	    "implemented by postern; left out\n",
	    "sntrup761x25519-sha512@openssh.com,curve25519-sha256");
	/* A "-list" removes names; nothing to say about them. */
	left_out("Ciphers -3des-cbc,aes128-cbc,chacha20-poly1305@openssh.com",
	    "",
	    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,"
	    "aes192-ctr,aes256-ctr");
}

int
main(void)
{
	log_init("test_config_keywords", LL_INFO, LOG_AUTH, 1);
	log_set_handler(capture, NULL);
	test_table();
	test_samples();
	test_values();
	test_errors();
	test_unimplemented_names();
	test_implemented_values();
	test_pubkey_values();
	test_subsystem_values();
	test_docs();
	return T_DONE();
}
