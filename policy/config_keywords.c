/*
 * config_keywords.c: every keyword of OpenSSH 9.x's sshd_config(5) in one
 * table that drives parsing, the `sshd -T` dump and docs/sshd_config.md:
 * what postern implements, what it ignores with a warning, what it
 * refuses, and what OpenSSH itself only calls deprecated.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "crypto.h"
#include "err.h"
#include "log.h"
#include "policy/config_int.h"

#define CFG_HINT_MAX 48 /* longest keyword considered for "did you mean" */

static const struct choice choices_yesno[] = {
    {"yes", 1},
    {"no", 0},
    {NULL, 0},
};

static const struct choice choices_family[] = {
    {"any", AF_UNSPEC},
    {"inet", AF_INET},
    {"inet6", AF_INET6},
    {NULL, 0},
};

/* The first name of a value is what `sshd -T` prints for it. */
static const struct choice choices_permit_root[] = {
    {"without-password", PERMIT_NO_PASSWD},
    {"prohibit-password", PERMIT_NO_PASSWD},
    {"forced-commands-only", PERMIT_FORCED_ONLY},
    {"yes", PERMIT_YES},
    {"no", PERMIT_NO},
    {NULL, 0},
};

static const struct choice choices_compression[] = {
    {"yes", COMPRESSION_DELAYED},
    {"delayed", COMPRESSION_DELAYED},
    {"no", COMPRESSION_NO},
    {NULL, 0},
};

static const struct choice choices_gateway_ports[] = {
    {"clientspecified", 2},
    {"yes", 1},
    {"no", 0},
    {NULL, 0},
};

static const struct choice choices_forwarding[] = {
    {"yes", 3},
    {"all", 3},
    {"no", 0},
    {"remote", 2},
    {"local", 1},
    {NULL, 0},
};

/* PermitTunnel (compared case-sensitively, as sshd does). */
static const struct choice choices_permit_tunnel[] = {
    {"yes", TUNNEL_YES},
    {"point-to-point", TUNNEL_POINTOPOINT},
    {"ethernet", TUNNEL_ETHERNET},
    {"no", TUNNEL_NO},
    {NULL, 0},
};

static const struct choice choices_ignore_rhosts[] = {
    {"yes", 1},
    {"no", 0},
    {"shosts-only", 2},
    {NULL, 0},
};

/* --- dump ----------------------------------------------------------------- */

static void
dump_key(FILE *f, const struct keyword *k)
{
	const char *p;

	for (p = k->name; *p != '\0'; p++)
		fputc(tolower((unsigned char)*p), f);
	fputc(' ', f);
}

void
cfg_dump_key(FILE *f, const struct keyword *k)
{
	dump_key(f, k);
}

static void
dump_int(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_key(f, k);
	fprintf(f, "%d\n", *field_int_c(c, k));
}

static void
dump_choice(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);
	size_t i;

	for (i = 0; k->choices[i].name != NULL; i++) {
		if (k->choices[i].value == v) {
			dump_key(f, k);
			fprintf(f, "%s\n", k->choices[i].name);
			return;
		}
	}
	dump_key(f, k);
	fprintf(f, "UNKNOWN\n");
}

static void
dump_log_level(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);

	dump_key(f, k);
	/* sshd -T's names: QUIET shows as SILENT, DEBUG1 as DEBUG. */
	fprintf(f, "%s\n",
	    v == LL_QUIET ? "SILENT" : log_level_name((enum log_level)v));
}

static const struct {
	int facility;
	const char *name;
} facility_names[] = {
    {LOG_DAEMON, "DAEMON"},
    {LOG_USER, "USER"},
    {LOG_AUTH, "AUTH"},
    {LOG_AUTHPRIV, "AUTHPRIV"},
    {LOG_LOCAL0, "LOCAL0"},
    {LOG_LOCAL1, "LOCAL1"},
    {LOG_LOCAL2, "LOCAL2"},
    {LOG_LOCAL3, "LOCAL3"},
    {LOG_LOCAL4, "LOCAL4"},
    {LOG_LOCAL5, "LOCAL5"},
    {LOG_LOCAL6, "LOCAL6"},
    {LOG_LOCAL7, "LOCAL7"},
};

static void
dump_facility(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);
	const char *name = "UNKNOWN";
	size_t i;

	for (i = 0; i < sizeof(facility_names) / sizeof(facility_names[0]);
	     i++) {
		if (facility_names[i].facility == v)
			name = facility_names[i].name;
	}
	dump_key(f, k);
	fprintf(f, "%s\n", name);
}

static void
dump_str(const struct server_config *c, const struct keyword *k, FILE *f)
{
	const char *v = *field_str_c(c, k);

	dump_key(f, k);
	fprintf(f, "%s\n", v != NULL ? v : "none");
}

static void
dump_lines(const struct keyword *k, char *const *list, size_t n, FILE *f)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dump_key(f, k);
		fprintf(f, "%s\n", list[i]);
	}
}

/* dump_list_lines: one line per entry (hostkey). */
static void
dump_list_lines(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_lines(k, field_str_c(c, k), *field_count_c(c, k), f);
}

/* dump_vec_lines: likewise for a grown array (allowusers). */
static void
dump_vec_lines(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_lines(k, field_vec_c(c, k), *field_count_c(c, k), f);
}

/* dump_list_words: all entries on one line (authorizedkeysfile). */
static void
dump_list_words(const struct server_config *c, const struct keyword *k, FILE *f)
{
	char *const *list = field_str_c(c, k);
	size_t i, n = *field_count_c(c, k);

	if (n == 0)
		return;
	dump_key(f, k);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i == 0 ? "" : " ", list[i]);
	fputc('\n', f);
}

static void
dump_ports(const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i;

	for (i = 0; i < c->nports; i++) {
		dump_key(f, k);
		fprintf(f, "%d\n", c->ports[i]);
	}
}

/*
 * dump_addrinfo_reversed: sshd keeps each lookup's addresses in reverse
 * (for a wildcard: [::] before 0.0.0.0), so -T lists them that way.
 */
static void
dump_addrinfo_reversed(
    const struct keyword *k, const struct addrinfo *ai, int port, FILE *f)
{
	char addr[NI_MAXHOST];

	if (ai == NULL)
		return;
	dump_addrinfo_reversed(k, ai->ai_next, port, f);
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
	        0, NI_NUMERICHOST) != 0)
		return;
	dump_key(f, k);
	if (ai->ai_family == AF_INET6)
		fprintf(f, "[%s]:%d\n", addr, port);
	else
		fprintf(f, "%s:%d\n", addr, port);
}

/*
 * one_listen: la's host with port resolved to numeric addresses as sshd
 * does when it reads the config; printed like sshd -T when k is set. -1 if
 * it does not resolve: sshd's line, after the file, line and keyword that
 * gave the address.
 */
static int
one_listen(const struct server_config *c, const struct keyword *k,
    const struct listen_addr *la, int port, FILE *f)
{
	const char *host = la->host;
	struct addrinfo hints, *res = NULL;
	char portstr[8];
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family =
	    c->address_family == CONFIG_UNSET ? AF_UNSPEC : c->address_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (host == NULL ? AI_PASSIVE : 0);
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		if (la->file != NULL)
			error("%s line %d: ListenAddress: bad addr or host: %s "
			      "(%s)",
			    la->file, la->line, host != NULL ? host : "",
			    gai_strerror(gai));
		else
			error("bad addr or host: %s (%s)",
			    host != NULL ? host : "", gai_strerror(gai));
		return -1;
	}
	if (k != NULL)
		dump_addrinfo_reversed(k, res, port, f);
	freeaddrinfo(res);
	return 0;
}

/* each_listen: every address with its own port or with each Port; the
 * first that does not resolve ends it, as sshd's fatal(). */
static int
each_listen(const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i, j;

	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].port != 0) {
			if (one_listen(
			        c, k, &c->listen[i], c->listen[i].port, f) != 0)
				return -1;
			continue;
		}
		for (j = 0; j < c->nports; j++)
			if (one_listen(c, k, &c->listen[i], c->ports[j], f) !=
			    0)
				return -1;
	}
	return 0;
}

static void
dump_listen(const struct server_config *c, const struct keyword *k, FILE *f)
{
	each_listen(c, k, f);
}

int
config_check_listen(const struct server_config *c)
{
	return each_listen(c, NULL, NULL) != 0 ? ERR_CONFIG : 0;
}

/* dump_auth_methods: one line of lists; none set shows as "any". */
static void
dump_auth_methods(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i;

	dump_key(f, k);
	for (i = 0; i < c->nauth_methods; i++)
		fprintf(f, "%s%s", i == 0 ? "" : " ", c->auth_methods[i]);
	fprintf(f, "%s\n", c->nauth_methods == 0 ? "any" : "");
}

/* dump_pubkey_auth_options: the flags by name, "none" for none. */
static void
dump_pubkey_auth_options(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);

	dump_key(f, k);
	if ((v & (PUBKEYAUTH_TOUCH_REQUIRED | PUBKEYAUTH_VERIFY_REQUIRED)) ==
	    0) {
		fprintf(f, "none\n");
		return;
	}
	fprintf(f, "%s%s%s\n",
	    (v & PUBKEYAUTH_TOUCH_REQUIRED) ? "touch-required" : "",
	    (v & PUBKEYAUTH_TOUCH_REQUIRED) && (v & PUBKEYAUTH_VERIFY_REQUIRED)
	        ? " "
	        : "",
	    (v & PUBKEYAUTH_VERIFY_REQUIRED) ? "verify-required" : "");
}

/* dump_fp_hash: the digest's name, as sshd -T ("SHA256"). */
static void
dump_fp_hash(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_key(f, k);
	fprintf(f, "%s\n", digest_name(*field_int_c(c, k)));
}

/* An ignored keyword's line: what postern does, whatever the file says. */
static void
dump_fixed(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_key(f, k);
	fprintf(f, "%s\n", k->data);
}

/* dump_subsystems: "subsystem NAME COMMAND ARGS", one line each. */
static void
dump_subsystems(const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i;

	for (i = 0; i < c->nsubsystems; i++) {
		dump_key(f, k);
		fprintf(
		    f, "%s %s\n", c->subsystem_name[i], c->subsystem_args[i]);
	}
}

/* --- the keyword table ---------------------------------------------------- */

#define OFF(field) offsetof(struct server_config, field)
#define M KW_MATCH
#define G 0

/* Implemented: the handler stores into the field; dump NULL for aliases. */
#define IMPL(n, parse, dump, off, count, choices, flags)                       \
	{                                                                      \
		n, parse, dump, off, count, choices, flags,                    \
		    CONFIG_KW_IMPLEMENTED, NULL, NULL                          \
	}
/* Ignored with a warning; parse only checks the arguments. */
#define IGN(n, parse, choices, flags)                                          \
	{                                                                      \
		n, parse, NULL, 0, 0, choices, flags, CONFIG_KW_IGNORED, NULL, \
		    NULL                                                       \
	}
/* Ignored with a warning, but -T prints what postern does (value): the
 * features sshd turns on with it are ones postern never offers, and
 * compliance checks (CIS) read them from `sshd -T`. */
#define IGNT(n, parse, choices, flags, value)                                  \
	{                                                                      \
		n, parse, dump_fixed, 0, 0, choices, flags, CONFIG_KW_IGNORED, \
		    NULL, value                                                \
	}
/* Ignored with a warning or refused, as check decides from the value. */
#define VAL(n, parse, choices, flags, check, data)                             \
	{                                                                      \
		n, parse, NULL, 0, 0, choices, flags, CONFIG_KW_VALUE, check,  \
		    data                                                       \
	}
/* Refused unless its value is "none"; why says what ignoring would do. */
#define REF(n, parse, flags, why)                                              \
	{                                                                      \
		n, parse, NULL, 0, 0, NULL, flags, CONFIG_KW_REFUSED, NULL,    \
		    why                                                        \
	}
/* OpenSSH's deprecated keywords: logged and ignored as sshd does. */
#define DEP(n, flags)                                                          \
	{                                                                      \
		n, cfg_v_consume, NULL, 0, 0, NULL, flags,                     \
		    CONFIG_KW_DEPRECATED, NULL, NULL                           \
	}

/*
 * The keywords -T prints come first, in the order of `sshd -T` output;
 * then the others, alphabetically. The flags say what OpenSSH allows
 * inside a Match block (M) or only globally (G).
 */
const struct keyword cfg_keywords[] = {
    IMPL("Port", cfg_kw_port, dump_ports, 0, 0, NULL, G),
    IMPL("AddressFamily", cfg_kw_choice, dump_choice, OFF(address_family), 0,
        choices_family, G),
    IMPL("ListenAddress", cfg_kw_listen, dump_listen, 0, 0, NULL, G),
    IMPL("UsePAM", cfg_kw_use_pam, dump_choice, OFF(use_pam), 0, choices_yesno,
        G),
    /* OpenSSH >= 10; sshd 9.2 -T does not print it, so neither do we. */
    IMPL("PAMServiceName", cfg_kw_pam_service, NULL, OFF(pam_service_name), 0,
        NULL, G),
    /* postern's own: the pam_oath users file keyboard-interactive:totp
     * reads (sshd knows no such keyword, so -T does not print it). */
    IMPL("TOTPUsersFile", cfg_kw_path, NULL, OFF(totp_users_file), 0, NULL, M),
    /* postern's own: steps either side a users-file code may be from. */
    IMPL("TOTPWindow", cfg_kw_totp_window, NULL, OFF(totp_window), 0, NULL, M),
    IMPL("LoginGraceTime", cfg_kw_time, dump_int, OFF(login_grace_time), 0,
        NULL, G),
    IMPL("X11DisplayOffset", cfg_kw_int, dump_int, OFF(x11_display_offset), 0,
        NULL, M),
    IMPL("MaxAuthTries", cfg_kw_int, dump_int, OFF(max_auth_tries), 0, NULL, M),
    IMPL("MaxSessions", cfg_kw_int, dump_int, OFF(max_sessions), 0, NULL, M),
    IMPL("ClientAliveInterval", cfg_kw_time, dump_int,
        OFF(client_alive_interval), 0, NULL, M),
    IMPL("ClientAliveCountMax", cfg_kw_int, dump_int,
        OFF(client_alive_count_max), 0, NULL, M),
    IMPL("RequiredRSASize", cfg_kw_int, dump_int, OFF(required_rsa_size), 0,
        NULL, M),
    IMPL("StreamLocalBindMask", cfg_kw_octal, cfg_dump_octal,
        OFF(fwd.streamlocal_bind_mask), 0, NULL, M),
    IMPL("UnusedConnectionTimeout", cfg_kw_none_or_time, cfg_dump_none_or_time,
        OFF(unused_connection_timeout), 0, NULL, M),
    IMPL("PermitRootLogin", cfg_kw_choice, dump_choice, OFF(permit_root_login),
        0, choices_permit_root, M),
    IGNT("IgnoreRhosts", cfg_kw_choice, choices_ignore_rhosts, M, "yes"),
    IGNT("HostbasedAuthentication", cfg_kw_choice, choices_yesno, M, "no"),
    IMPL("PubkeyAuthentication", cfg_kw_choice, dump_choice,
        OFF(pubkey_authentication), 0, choices_yesno, M),
    IGNT("KerberosAuthentication", cfg_kw_choice, choices_yesno, M, "no"),
    IGNT("GSSAPIAuthentication", cfg_kw_choice, choices_yesno, M, "no"),
    IGNT("GSSAPIKeyExchange", cfg_kw_choice, choices_yesno, G, "no"),
    IMPL("PasswordAuthentication", cfg_kw_choice, dump_choice,
        OFF(password_authentication), 0, choices_yesno, M),
    IMPL("KbdInteractiveAuthentication", cfg_kw_choice, dump_choice,
        OFF(kbd_interactive_authentication), 0, choices_yesno, M),
    IMPL("PrintMotd", cfg_kw_choice, dump_choice, OFF(print_motd), 0,
        choices_yesno, G),
    IMPL("PrintLastLog", cfg_kw_choice, dump_choice, OFF(print_lastlog), 0,
        choices_yesno, G),
    IMPL("X11Forwarding", cfg_kw_choice, dump_choice, OFF(x11_forwarding), 0,
        choices_yesno, M),
    IMPL("X11UseLocalhost", cfg_kw_choice, dump_choice, OFF(x11_use_localhost),
        0, choices_yesno, M),
    IMPL("PermitTTY", cfg_kw_choice, dump_choice, OFF(permit_tty), 0,
        choices_yesno, M),
    IMPL("PermitUserRC", cfg_kw_choice, dump_choice, OFF(permit_user_rc), 0,
        choices_yesno, M),
    IMPL("StrictModes", cfg_kw_choice, dump_choice, OFF(strict_modes), 0,
        choices_yesno, G),
    IMPL("TCPKeepAlive", cfg_kw_choice, dump_choice, OFF(tcp_keepalive), 0,
        choices_yesno, G),
    IMPL("PermitEmptyPasswords", cfg_kw_choice, dump_choice,
        OFF(permit_empty_passwords), 0, choices_yesno, M),
    IMPL("Compression", cfg_kw_choice, dump_choice, OFF(compression), 0,
        choices_compression, G),
    IMPL("GatewayPorts", cfg_kw_choice, dump_choice, OFF(fwd.gateway_ports), 0,
        choices_gateway_ports, M),
    IMPL("UseDNS", cfg_kw_choice, dump_choice, OFF(use_dns), 0, choices_yesno,
        G),
    IMPL("AllowTcpForwarding", cfg_kw_choice, dump_choice,
        OFF(fwd.allow_tcp_forwarding), 0, choices_forwarding, M),
    IMPL("AllowAgentForwarding", cfg_kw_choice, dump_choice,
        OFF(allow_agent_forwarding), 0, choices_yesno, M),
    IMPL("DisableForwarding", cfg_kw_choice, dump_choice,
        OFF(disable_forwarding), 0, choices_yesno, M),
    IMPL("AllowStreamLocalForwarding", cfg_kw_choice, dump_choice,
        OFF(fwd.allow_streamlocal_forwarding), 0, choices_forwarding, M),
    IMPL("StreamLocalBindUnlink", cfg_kw_choice, dump_choice,
        OFF(fwd.streamlocal_bind_unlink), 0, choices_yesno, M),
    IMPL("FingerprintHash", cfg_kw_fp_hash, dump_fp_hash, OFF(fingerprint_hash),
        0, NULL, G),
    IMPL("ExposeAuthInfo", cfg_kw_choice, dump_choice, OFF(expose_auth_info), 0,
        choices_yesno, M),
    IMPL("PidFile", cfg_kw_path, dump_str, OFF(pid_file), 0, NULL, G),
    IMPL("ModuliFile", cfg_kw_path, dump_str, OFF(moduli_file), 0, NULL, G),
    IMPL("XAuthLocation", cfg_kw_path, dump_str, OFF(xauth_location), 0, NULL,
        G),
    IMPL("Ciphers", cfg_kw_ciphers, dump_str, OFF(ciphers), 0, NULL, G),
    IMPL("MACs", cfg_kw_macs, dump_str, OFF(macs), 0, NULL, G),
    IMPL("Banner", cfg_kw_path, dump_str, OFF(banner), 0, NULL, M),
    IMPL("ForceCommand", cfg_kw_force_command, dump_str, OFF(force_command), 0,
        NULL, M),
    IMPL("ChrootDirectory", cfg_kw_chroot, dump_str, OFF(chroot_directory), 0,
        NULL, M),
    IMPL("TrustedUserCAKeys", cfg_kw_path, dump_str, OFF(trusted_user_ca_keys),
        0, NULL, M),
    IMPL("RevokedKeys", cfg_kw_path, dump_str, OFF(revoked_keys_file), 0, NULL,
        M),
    IMPL("AuthorizedPrincipalsFile", cfg_kw_tilde_path, dump_str,
        OFF(authorized_principals_file), 0, NULL, M),
    IMPL("VersionAddendum", cfg_kw_version_addendum, dump_str,
        OFF(version_addendum), 0, NULL, G),
    IMPL("AuthorizedKeysCommand", cfg_kw_command, dump_str,
        OFF(authorized_keys_command), 0, NULL, M),
    IMPL("AuthorizedKeysCommandUser", cfg_kw_local_user, dump_str,
        OFF(authorized_keys_command_user), 0, NULL, M),
    IMPL("AuthorizedPrincipalsCommand", cfg_kw_command, dump_str,
        OFF(authorized_principals_command), 0, NULL, M),
    IMPL("AuthorizedPrincipalsCommandUser", cfg_kw_local_user, dump_str,
        OFF(authorized_principals_command_user), 0, NULL, M),
    IMPL("HostKeyAgent", cfg_kw_host_key_agent, dump_str, OFF(host_key_agent),
        0, NULL, G),
    IMPL("KexAlgorithms", cfg_kw_kex_algos, dump_str, OFF(kex_algorithms), 0,
        NULL, G),
    IMPL("CASignatureAlgorithms", cfg_kw_ca_sig_algos, dump_str,
        OFF(ca_sign_algorithms), 0, NULL, M),
    IMPL("HostKeyAlgorithms", cfg_kw_hostkey_algos, dump_str,
        OFF(hostkey_algorithms), 0, NULL, G),
    IMPL("PubkeyAcceptedAlgorithms", cfg_kw_pubkey_algos, dump_str,
        OFF(pubkey_accepted_algos), 0, NULL, M),
    IMPL("LogLevel", cfg_kw_log_level, dump_log_level, OFF(log_level), 0, NULL,
        M),
    IMPL("SyslogFacility", cfg_kw_facility, dump_facility, OFF(syslog_facility),
        0, NULL, G),
    IMPL("AuthorizedKeysFile", cfg_kw_word_list, dump_list_words,
        OFF(authorized_keys_files), OFF(nauthorized_keys_files), NULL, M),
    IMPL("HostKey", cfg_kw_path_list, dump_list_lines, OFF(host_key_files),
        OFF(nhost_key_files), NULL, G),
    IMPL("HostCertificate", cfg_kw_path_list, dump_list_lines,
        OFF(host_cert_files), OFF(nhost_cert_files), NULL, G),
    IMPL("AllowUsers", cfg_kw_user_list, dump_vec_lines, OFF(allow_users),
        OFF(nallow_users), NULL, M),
    IMPL("DenyUsers", cfg_kw_user_list, dump_vec_lines, OFF(deny_users),
        OFF(ndeny_users), NULL, M),
    IMPL("AllowGroups", cfg_kw_group_list, dump_vec_lines, OFF(allow_groups),
        OFF(nallow_groups), NULL, M),
    IMPL("DenyGroups", cfg_kw_group_list, dump_vec_lines, OFF(deny_groups),
        OFF(ndeny_groups), NULL, M),
    /* The login environment (config_session.c). */
    IMPL("AcceptEnv", cfg_kw_accept_env, cfg_dump_env_list, OFF(accept_env),
        OFF(naccept_env), NULL, M),
    IMPL("SetEnv", cfg_kw_set_env, cfg_dump_env_list, OFF(set_env),
        OFF(nset_env), NULL, M),
    IMPL("AuthenticationMethods", cfg_kw_auth_methods, dump_auth_methods, 0, 0,
        NULL, M),
    IMPL("ChannelTimeout", cfg_kw_channel_timeout, cfg_dump_channel_timeouts, 0,
        0, NULL, M),
    IMPL("Subsystem", cfg_kw_subsystem, dump_subsystems, 0, 0, NULL, G),
    IMPL("MaxStartups", cfg_kw_max_startups, cfg_dump_max_startups, 0, 0, NULL,
        G),
    IMPL("PerSourceMaxStartups", cfg_kw_per_source_max, cfg_dump_per_source_max,
        0, 0, NULL, G),
    IMPL("PerSourceNetBlockSize", cfg_kw_netblock, cfg_dump_netblock, 0, 0,
        NULL, G),
    IMPL("PerSourcePenalties", cfg_kw_penalties, cfg_dump_penalties, 0, 0, NULL,
        G),
    IMPL("PerSourcePenaltyExemptList", cfg_kw_penalty_exempt,
        cfg_dump_penalty_exempt, 0, 0, NULL, G),
    IMPL("PermitTunnel", cfg_kw_permit_tunnel, dump_choice, OFF(permit_tunnel),
        0, choices_permit_tunnel, M),
    IMPL("IPQoS", cfg_kw_ipqos, cfg_dump_ipqos, 0, 0, NULL, M),
    IMPL("RekeyLimit", cfg_kw_rekey_limit, cfg_dump_rekey_limit, 0, 0, NULL, M),
    IMPL("PermitOpen", cfg_kw_permits, cfg_dump_permits, OFF(fwd.permit_open),
        OFF(fwd.npermit_open), NULL, M),
    IMPL("PermitListen", cfg_kw_permits, cfg_dump_permits,
        OFF(fwd.permit_listen), OFF(fwd.npermit_listen), NULL, M),
    IMPL("PermitUserEnvironment", cfg_kw_permit_user_env,
        cfg_dump_permit_user_env, OFF(permit_user_env), 0, NULL, G),
    IMPL("PubkeyAuthOptions", cfg_kw_pubkey_auth_options,
        dump_pubkey_auth_options, OFF(pubkey_auth_options), 0, NULL, M),
    IMPL("Include", cfg_kw_include, NULL, 0, 0, NULL, M),
    IMPL("Match", cfg_kw_match, NULL, 0, 0, NULL, M),
    /* Old names sshd still accepts. */
    IMPL("ChallengeResponseAuthentication", cfg_kw_choice, NULL,
        OFF(kbd_interactive_authentication), 0, choices_yesno, M),
    IMPL("SKeyAuthentication", cfg_kw_choice, NULL,
        OFF(kbd_interactive_authentication), 0, choices_yesno, M),
    IMPL("DSAAuthentication", cfg_kw_choice, NULL, OFF(pubkey_authentication),
        0, choices_yesno, G),
    IMPL("HostDSAKey", cfg_kw_path_list, NULL, OFF(host_key_files),
        OFF(nhost_key_files), NULL, G),
    IMPL("PubkeyAcceptedKeyTypes", cfg_kw_pubkey_algos, NULL,
        OFF(pubkey_accepted_algos), 0, NULL, M),
    IMPL("KeepAlive", cfg_kw_choice, NULL, OFF(tcp_keepalive), 0, choices_yesno,
        G),

    IGN("AFSTokenPassing", cfg_v_consume, NULL, G),
    IGN("DebianBanner", cfg_kw_choice, choices_yesno, G),
    IGN("GSSAPICleanupCredentials", cfg_kw_choice, choices_yesno, G),
    /* Debian's old spelling of the above. */
    IGN("GSSAPICleanupCreds", cfg_kw_choice, choices_yesno, G),
    IGN("GSSAPIKexAlgorithms", cfg_v_gss_kex, NULL, G),
    IGN("GSSAPIStoreCredentialsOnRekey", cfg_kw_choice, choices_yesno, G),
    IGN("GSSAPIStrictAcceptorCheck", cfg_kw_choice, choices_yesno, G),
    /* Debian's; its sshd says "Unsupported option" and ignores them. */
    IGN("GSSAPIUseSessionCredCache", cfg_v_consume, NULL, G),
    IGN("GSSUseSessionCCache", cfg_v_consume, NULL, G),
    IGN("HostbasedAcceptedAlgorithms", cfg_v_algos, NULL, M),
    IGN("HostbasedAcceptedKeyTypes", cfg_v_algos, NULL, M),
    IGN("HostbasedUsesNameFromPacketOnly", cfg_kw_choice, choices_yesno, M),
    IGN("IgnoreUserKnownHosts", cfg_kw_choice, choices_yesno, G),
    IGN("KerberosGetAFSToken", cfg_v_consume, NULL, G),
    IGN("KerberosOrLocalPasswd", cfg_kw_choice, choices_yesno, G),
    IGN("KerberosTgtPassing", cfg_v_consume, NULL, G),
    IGN("KerberosTicketCleanup", cfg_kw_choice, choices_yesno, G),
    IGN("LogVerbose", cfg_v_words, NULL, M),
    VAL("RDomain", cfg_v_one, NULL, M, cfg_chk_always,
        "routing domains are not supported on this platform"),
    IGN("SecurityKeyProvider", cfg_v_one, NULL, G),
    IGN("SshdSessionPath", cfg_v_file, NULL, G),

    DEP("AuthorizedKeysFile2", M),
    DEP("CheckMail", G),
    DEP("KeyRegenerationInterval", G),
    DEP("PAMAuthenticationViaKbdInt", G),
    /* Debian's, from its openssh-blacklist days. */
    DEP("PermitBlacklistedKeys", G),
    DEP("Protocol", G),
    DEP("ReverseMappingCheck", G),
    DEP("RhostsAuthentication", G),
    DEP("RhostsRSAAuthentication", M),
    DEP("RSAAuthentication", M),
    DEP("ServerKeyBits", G),
    DEP("UseLogin", G),
    DEP("UsePrivilegeSeparation", G),
    DEP("VerifyReverseMapping", G),
};

const size_t cfg_nkeywords = sizeof(cfg_keywords) / sizeof(cfg_keywords[0]);

const struct keyword *
cfg_keyword_find(const char *name)
{
	size_t i;

	for (i = 0; i < cfg_nkeywords; i++) {
		if (strcasecmp(name, cfg_keywords[i].name) == 0)
			return &cfg_keywords[i];
	}
	return NULL;
}

/*
 * edit_distance: case-insensitive optimal string alignment distance
 * (insert, delete, substitute, swap adjacent), or INT_MAX when too long
 * or when it cannot be below limit.
 */
static int
edit_distance(const char *a, const char *b, int limit)
{
	int d[CFG_HINT_MAX + 1][CFG_HINT_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;
	int cost, best;

	if (la > CFG_HINT_MAX || lb > CFG_HINT_MAX)
		return INT_MAX;
	/* The distance is at least the difference in length. */
	if ((la > lb ? la - lb : lb - la) >= (size_t)limit)
		return INT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) ==
			        tolower((unsigned char)b[j - 1])
			    ? 0
			    : 1;
			best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
			        tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			        tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

void
cfg_report_unknown(const char *kw, const char *filename, int lineno)
{
	const char *hint = NULL;
	int best = 3, dist;
	size_t i;

	for (i = 0; i < cfg_nkeywords; i++) {
		/* Suggest only keywords that still mean something. */
		if (cfg_keywords[i].status == CONFIG_KW_DEPRECATED)
			continue;
		dist = edit_distance(kw, cfg_keywords[i].name, best);
		if (dist < best) {
			best = dist;
			hint = cfg_keywords[i].name;
		}
	}
	/* A stray byte (a UTF-8 BOM from an editor) shows as \ooo, as
	 * log_emit() escapes every line. */
	if (hint != NULL)
		error("%s: line %d: Bad configuration option: %s (did you "
		      "mean %s?)",
		    filename, lineno, kw, hint);
	else
		error("%s: line %d: Bad configuration option: %s", filename,
		    lineno, kw);
}

int
config_keyword_info(size_t i, const char **name, int *status, int *in_match)
{
	if (i >= cfg_nkeywords)
		return ERR_NOT_FOUND;
	*name = cfg_keywords[i].name;
	*status = cfg_keywords[i].status;
	*in_match = (cfg_keywords[i].flags & KW_MATCH) != 0;
	return 0;
}

void
config_dump(const struct server_config *c, FILE *f)
{
	size_t i;

	for (i = 0; i < cfg_nkeywords; i++) {
		if (cfg_keywords[i].dump != NULL)
			cfg_keywords[i].dump(c, &cfg_keywords[i], f);
	}
}

/* --- Match application ---------------------------------------------------- */

static void
copy_int(int *dst, int src)
{
	if (src != CONFIG_UNSET)
		*dst = src;
}

/* move_str: src's string replaces dst's when a Match block set it. */
static void
move_str(char **dst, char **src)
{
	if (*src == NULL)
		return;
	free(*dst);
	*dst = *src;
	*src = NULL;
}

/* move_vec: likewise for a grown array. */
static void
move_vec(char ***dst, size_t *ndst, char ***src, size_t *nsrc)
{
	if (*nsrc == 0)
		return;
	cfg_vec_free(dst, ndst);
	*dst = *src;
	*ndst = *nsrc;
	*src = NULL;
	*nsrc = 0;
}

/* move_list: a list a Match block set replaces the global one whole. */
static void
move_list(char **dst, size_t *ndst, char **src, size_t *nsrc)
{
	size_t i;

	if (*nsrc == 0)
		return;
	for (i = 0; i < *ndst; i++)
		free(dst[i]);
	for (i = 0; i < *nsrc; i++) {
		dst[i] = src[i];
		src[i] = NULL;
	}
	*ndst = *nsrc;
	*nsrc = 0;
}

/*
 * cfg_copy_match_values: OpenSSH's copy_set_server_options() for the
 * keywords postern implements: whatever the matching blocks set (src)
 * overrides dst; src is left without the moved strings.
 */
int
cfg_copy_match_values(struct server_config *dst, struct server_config *src)
{
	copy_int(&dst->password_authentication, src->password_authentication);
	copy_int(&dst->pubkey_authentication, src->pubkey_authentication);
	copy_int(&dst->kbd_interactive_authentication,
	    src->kbd_interactive_authentication);
	copy_int(&dst->permit_root_login, src->permit_root_login);
	copy_int(&dst->permit_empty_passwords, src->permit_empty_passwords);
	copy_int(&dst->permit_tty, src->permit_tty);
	copy_int(&dst->max_sessions, src->max_sessions);
	copy_int(&dst->max_auth_tries, src->max_auth_tries);
	copy_int(&dst->totp_window, src->totp_window);
	move_str(&dst->totp_users_file, &src->totp_users_file);
	copy_int(&dst->log_level, src->log_level);
	copy_int(&dst->required_rsa_size, src->required_rsa_size);
	copy_int(&dst->pubkey_auth_options, src->pubkey_auth_options);
	move_str(&dst->trusted_user_ca_keys, &src->trusted_user_ca_keys);
	move_str(&dst->revoked_keys_file, &src->revoked_keys_file);
	move_str(
	    &dst->authorized_principals_file, &src->authorized_principals_file);
	move_str(&dst->authorized_keys_command, &src->authorized_keys_command);
	move_str(&dst->authorized_keys_command_user,
	    &src->authorized_keys_command_user);
	move_str(&dst->authorized_principals_command,
	    &src->authorized_principals_command);
	move_str(&dst->authorized_principals_command_user,
	    &src->authorized_principals_command_user);
	move_str(&dst->pubkey_accepted_algos, &src->pubkey_accepted_algos);
	move_str(&dst->ca_sign_algorithms, &src->ca_sign_algorithms);
	move_str(&dst->banner, &src->banner);
	move_str(&dst->force_command, &src->force_command);
	move_list(dst->authorized_keys_files, &dst->nauthorized_keys_files,
	    src->authorized_keys_files, &src->nauthorized_keys_files);
	move_vec(&dst->allow_users, &dst->nallow_users, &src->allow_users,
	    &src->nallow_users);
	move_vec(&dst->deny_users, &dst->ndeny_users, &src->deny_users,
	    &src->ndeny_users);
	move_vec(&dst->allow_groups, &dst->nallow_groups, &src->allow_groups,
	    &src->nallow_groups);
	move_vec(&dst->deny_groups, &dst->ndeny_groups, &src->deny_groups,
	    &src->ndeny_groups);
	move_list(dst->auth_methods, &dst->nauth_methods, src->auth_methods,
	    &src->nauth_methods);
	move_list(dst->accept_env, &dst->naccept_env, src->accept_env,
	    &src->naccept_env);
	move_list(dst->set_env, &dst->nset_env, src->set_env, &src->nset_env);
	copy_int(&dst->permit_user_rc, src->permit_user_rc);
	copy_int(&dst->expose_auth_info, src->expose_auth_info);
	move_str(&dst->chroot_directory, &src->chroot_directory);
	cfg_liveness_copy_match(dst, src);
	copy_int(&dst->fwd.allow_tcp_forwarding, src->fwd.allow_tcp_forwarding);
	copy_int(&dst->fwd.allow_streamlocal_forwarding,
	    src->fwd.allow_streamlocal_forwarding);
	copy_int(&dst->fwd.gateway_ports, src->fwd.gateway_ports);
	copy_int(
	    &dst->fwd.streamlocal_bind_mask, src->fwd.streamlocal_bind_mask);
	copy_int(&dst->fwd.streamlocal_bind_unlink,
	    src->fwd.streamlocal_bind_unlink);
	move_list(dst->fwd.permit_open, &dst->fwd.npermit_open,
	    src->fwd.permit_open, &src->fwd.npermit_open);
	move_list(dst->fwd.permit_listen, &dst->fwd.npermit_listen,
	    src->fwd.permit_listen, &src->fwd.npermit_listen);
	return 0;
}
