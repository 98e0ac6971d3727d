/*
 * config.c: sshd_config(5) as OpenSSH's sshd reads it: the global pass
 * (Match blocks checked, not applied), the Match pass for one connection,
 * Include with its Match scoping, defaults, and the command line's -o.
 */
#include <sys/socket.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "alglist.h"
#include "cipher.h"
#include "crypto.h"
#include "kex.h"
#include "mac.h"
#include "err.h"
#include "fwdpolicy.h"
#include "log.h"
#include "policy/config_int.h"

#define REASON_MAX 512

int
config_time_value(const char *s)
{
	return cfg_time_value(s);
}

void
config_init(struct server_config *c)
{
	memset(c, 0, sizeof(*c));
	c->address_family = CONFIG_UNSET;
	c->pubkey_authentication = CONFIG_UNSET;
	c->strict_modes = CONFIG_UNSET;
	c->log_level = CONFIG_UNSET;
	c->syslog_facility = CONFIG_UNSET;
	c->fingerprint_hash = CONFIG_UNSET;
	c->login_grace_time = CONFIG_UNSET;
	c->max_auth_tries = CONFIG_UNSET;
	c->max_sessions = CONFIG_UNSET;
	c->max_startups = CONFIG_UNSET;
	c->max_startups_rate = CONFIG_UNSET;
	c->per_source_max_startups = CONFIG_UNSET;
	c->per_source_masklen_v4 = CONFIG_UNSET;
	c->per_source_masklen_v6 = CONFIG_UNSET;
	c->permit_root_login = CONFIG_UNSET;
	c->permit_empty_passwords = CONFIG_UNSET;
	c->password_authentication = CONFIG_UNSET;
	c->kbd_interactive_authentication = CONFIG_UNSET;
	c->use_pam = CONFIG_UNSET;
	c->totp_window = CONFIG_UNSET;
	c->permit_tty = CONFIG_UNSET;
	c->required_rsa_size = CONFIG_UNSET;
	c->pubkey_auth_options = CONFIG_UNSET;
	c->permit_user_rc = CONFIG_UNSET;
	c->print_motd = CONFIG_UNSET;
	c->print_lastlog = CONFIG_UNSET;
	c->expose_auth_info = CONFIG_UNSET;
	cfg_liveness_init(c);
	cfg_penalty_init(c);
	c->compression = CONFIG_UNSET;
	c->use_dns = CONFIG_UNSET;
	cfg_forward_init(&c->fwd);
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
}

void
config_free(struct server_config *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++) {
		free(c->listen[i].host);
		free(c->listen[i].file);
	}
	free_list(c->host_key_files, c->nhost_key_files);
	free_list(c->authorized_keys_files, c->nauthorized_keys_files);
	cfg_vec_free(&c->allow_users, &c->nallow_users);
	cfg_vec_free(&c->deny_users, &c->ndeny_users);
	cfg_vec_free(&c->allow_groups, &c->nallow_groups);
	cfg_vec_free(&c->deny_groups, &c->ndeny_groups);
	free_list(c->auth_methods, c->nauth_methods);
	free(c->pid_file);
	free(c->banner);
	free(c->force_command);
	free(c->version_addendum);
	free(c->host_key_agent);
	free(c->pam_service_name);
	free(c->totp_users_file);
	free(c->pubkey_accepted_algos);
	free(c->pubkey_algos_in_match);
	free(c->ca_sign_algorithms);
	free(c->ciphers);
	free(c->macs);
	free(c->kex_algorithms);
	free(c->hostkey_algorithms);
	free(c->moduli_file);
	free(c->trusted_user_ca_keys);
	free(c->revoked_keys_file);
	free(c->authorized_principals_file);
	free(c->authorized_keys_command);
	free(c->authorized_keys_command_user);
	free(c->authorized_principals_command);
	free(c->authorized_principals_command_user);
	free_list(c->host_cert_files, c->nhost_cert_files);
	free_list(c->subsystem_name, c->nsubsystems);
	free_list(c->subsystem_args, c->nsubsystems);
	free_list(c->accept_env, c->naccept_env);
	free_list(c->set_env, c->nset_env);
	free(c->permit_user_env);
	free(c->chroot_directory);
	cfg_liveness_free(c);
	free(c->penalty_exempt);
	cfg_forward_free(&c->fwd);
	config_init(c);
}

/* --- one line ------------------------------------------------------------- */

/*
 * Ignored keywords whose value asks for what postern does anyway (the
 * feature off, or the strict choice of a feature it lacks): accepted
 * without a word, so that a benchmark's snippet (CIS: HostbasedAuthentication
 * no, IgnoreRhosts yes...) loads as quietly as with sshd.
 */
static const struct {
	const char *keyword, *value;
} same_as_postern[] = {
    {"GSSAPIAuthentication", "no"},
    {"GSSAPIKeyExchange", "no"},
    {"HostbasedAuthentication", "no"},
    {"IgnoreRhosts", "yes"},
    {"IgnoreUserKnownHosts", "yes"},
    {"KerberosAuthentication", "no"},
    /* What hardening roles spell out beside those (dev-sec's, ...). */
    {"DebianBanner", "no"}, /* no Debian text in postern's version */
    {"GSSAPICleanupCredentials", "yes"},
    {"GSSAPICleanupCreds", "yes"},
    {"GSSAPIStoreCredentialsOnRekey", "no"},
    {"GSSAPIStrictAcceptorCheck", "yes"},
    {"HostbasedUsesNameFromPacketOnly", "no"},
    {"KerberosOrLocalPasswd", "no"},
    {"KerberosTicketCleanup", "yes"},
};

static int
is_same_as_postern(const struct keyword *k, const struct cfg_args *a)
{
	size_t i;

	for (i = 0; i < sizeof(same_as_postern) / sizeof(same_as_postern[0]);
	     i++) {
		if (strcasecmp(k->name, same_as_postern[i].keyword) == 0 &&
		    a->ac == 1 &&
		    strcasecmp(a->av[0], same_as_postern[i].value) == 0)
			return 1;
	}
	return 0;
}

/*
 * judge: after a line of a keyword postern does not implement parsed:
 * warn that it is ignored, or refuse it when ignoring could weaken
 * security, or log what OpenSSH logs for a deprecated keyword.
 */
static int
judge(const struct keyword *k, struct cfg_args *a, int quiet)
{
	char buf[REASON_MAX];
	const char *why = NULL;

	switch (k->status) {
	case CONFIG_KW_IMPLEMENTED:
		return 0;
	case CONFIG_KW_DEPRECATED:
		if (quiet)
			return 0;
		/* sshd keeps "Protocol" quiet: every old config has it. */
		if (strcasecmp(k->name, "Protocol") == 0)
			debug2("%s line %d: Deprecated option %s", a->filename,
			    a->lineno, a->keyword);
		else
			logit("%s line %d: Deprecated option %s", a->filename,
			    a->lineno, a->keyword);
		return 0;
	case CONFIG_KW_REFUSED:
		if (strcasecmp(a->av[0], "none") != 0)
			why = k->data;
		break;
	case CONFIG_KW_VALUE:
		why = k->check(k, a, buf, sizeof(buf));
		break;
	default:
		break;
	}
	if (why != NULL) {
		cfg_error(a, "%s %.60s is not supported by postern (%s)",
		    a->keyword, a->av[0], why);
		return ERR_CONFIG;
	}
	if (!quiet && !is_same_as_postern(k, a))
		logit("%s line %d: Unsupported option %s (not implemented by "
		      "postern; ignored)",
		    a->filename, a->lineno, a->keyword);
	return 0;
}

/*
 * process_line: one line in pass p (NULL: a command-line option). As
 * sshd: a keyword that may not appear in a Match block is an error there
 * while loading, and skipped while applying Match blocks.
 */
static int
process_line(struct cfg_pass *p, struct server_config *c, const char *line,
    const char *filename, int lineno, int *activep, unsigned *fflags, int depth)
{
	const struct keyword *k;
	struct cfg_args a;
	char *copy, *rest, *kw;
	int r = 0;

	memset(&a, 0, sizeof(a));
	if ((copy = strdup(line)) == NULL)
		return ERR_ALLOC;
	/* ERR_FORMAT for what sshd refuses without its fatal(): the exit
	 * code of a bad -o option tells them apart (config_parse_line). */
	if (cfg_split_line(copy, &kw, &rest) != 0) {
		error("%s line %d: invalid quotes", filename, lineno);
		r = ERR_FORMAT;
		goto out;
	}
	if (kw == NULL)
		goto out;
	if (rest == NULL || *rest == '\0') {
		error("%s line %d: no argument after keyword \"%s\"", filename,
		    lineno, kw);
		r = ERR_FORMAT;
		goto out;
	}
	if ((k = cfg_keyword_find(kw)) == NULL) {
		cfg_report_unknown(kw, filename, lineno);
		r = ERR_FORMAT;
		/* As sshd: in a Match block an unknown keyword is no Match
		 * keyword either, which ends the load there. */
		if (!*activep && !(p != NULL && p->apply)) {
			error("%s line %d: Directive '%s' is not allowed "
			      "within a Match block",
			    filename, lineno, kw);
			r = ERR_CONFIG;
		}
		goto out;
	}
	if ((r = cfg_split_args(rest, &a)) != 0) {
		if (r == ERR_FORMAT)
			error("%s line %d: %s: invalid quotes", filename,
			    lineno, kw);
		goto out;
	}
	if (!(k->flags & KW_MATCH)) {
		/* Applying: a global keyword was dealt with when loading. */
		if (p != NULL && p->apply)
			goto out;
		if (!*activep) {
			error(
			    "%s line %d: Directive '%s' is not allowed within "
			    "a Match block",
			    filename, lineno, kw);
			r = ERR_CONFIG;
			goto out;
		}
	}
	a.filename = filename;
	a.lineno = lineno;
	a.keyword = kw;
	a.rest = rest;
	a.active = *activep && k->status == CONFIG_KW_IMPLEMENTED;
	a.pass = p;
	a.activep = activep;
	a.fflags = fflags;
	a.depth = depth;
	if ((r = k->parse(c, k, &a)) != 0)
		goto out;
	if (a.next < a.ac) {
		error("%s line %d: keyword %s extra arguments at end of line",
		    filename, lineno, kw);
		r = ERR_FORMAT; /* not a fatal() in sshd either */
		goto out;
	}
	if (p == NULL || !p->apply)
		r = judge(k, &a, p != NULL && p->quiet);
out:
	cfg_free_args(&a);
	free(copy);
	return r;
}

int
cfg_parse_file(
    struct cfg_pass *p, size_t idx, int depth, int *activep, unsigned fflags)
{
	const struct config_file *f;
	const char *s, *end, *nl;
	char *line = NULL;
	int lineno = 0, bad = 0, fatal = 0, r;

	if (depth > CFG_MAX_DEPTH) {
		error("Too many recursive configuration includes");
		return ERR_CONFIG;
	}
	f = &p->src->files[idx];
	for (s = f->text, end = f->text + f->len; s < end;) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		free(line);
		if ((line = strndup(s, (size_t)(nl - s))) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		s = nl < end ? nl + 1 : end;
		if (++p->lines > CFG_MAX_LINES) {
			error(
			    "%s: configuration too large (more than %ld lines "
			    "with its Includes)",
			    p->src->files[0].path, CFG_MAX_LINES);
			r = ERR_TOO_BIG;
			goto out;
		}
		/* Keep counting after a bad line so every mistake is shown. */
		r = process_line(
		    p, p->c, line, f->path, ++lineno, activep, &fflags, depth);
		if (r == ERR_ALLOC || r == ERR_TOO_BIG || p->abort)
			goto out;
		if (r == ERR_FORMAT)
			bad++;
		else if (r != 0)
			fatal++;
	}
	r = 0;
	if (bad + fatal > 0) {
		/*
		 * A SIGHUP's new configuration: the running one goes on. At
		 * start, sshd's summary counts the lines it refuses without
		 * its fatal() (ERR_FORMAT), and a fatal() line ends it before
		 * the summary.
		 */
		if (p->src->reload)
			error("%s: %d bad configuration options", f->path,
			    bad + fatal);
		else if (fatal ==
		    0) /* sshd's fatal(): seen at LogLevel FATAL */
			log_msg(LL_FATAL, __func__, 0,
			    "%s: terminating, %d bad configuration options",
			    f->path, bad);
		r = ERR_CONFIG;
	}
out:
	free(line);
	return r;
}

/*
 * Include: each file the pattern matched, in order, from the source read
 * at start. A Match inside an included file ends with that file; an
 * Include inside a Match block that does not apply is checked only.
 */
int
cfg_kw_include(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const struct config_include *inc;
	char *selector = NULL;
	const char *arg;
	unsigned flags;
	size_t i;
	int n = 0, oactive, r;

	if (a->pass == NULL) {
		error("Include directive not supported as a command-line "
		      "option");
		return ERR_CONFIG;
	}
	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0')
			return cfg_empty_arg(a);
		n++;
		if ((r = cfg_include_selector(arg, &selector)) != 0)
			return r;
		inc = cfg_source_include(a->pass->src, selector);
		if (inc == NULL) {
			cfg_error(a,
			    "include \"%s\" was not read with the "
			    "configuration",
			    selector);
			free(selector);
			return ERR_CONFIG;
		}
		free(selector);
		oactive = *a->activep;
		for (i = 0; i < inc->nfiles; i++) {
			if (*a->fflags & CFG_MATCH_ONLY)
				flags = CFG_MATCH_ONLY;
			else
				flags = oactive ? 0 : CFG_NEVERMATCH;
			flags |= *a->fflags & CFG_IN_MATCH;
			r = cfg_parse_file(a->pass, inc->files[i], a->depth + 1,
			    a->activep, flags);
			*a->activep = oactive;
			if (r != 0) {
				/* The included file said why; stop here. */
				a->pass->abort = 1;
				return r;
			}
		}
	}
	if (n == 0) {
		cfg_error(a, "%s missing filename argument", a->keyword);
		return ERR_CONFIG;
	}
	return 0;
}

/* Match: the lines that follow apply if the criteria match. */
int
cfg_kw_match(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const struct match_conn *mc;
	char *copy, *cp;
	int value;

	if (a->pass == NULL) {
		error("Match directive not supported as a command-line option");
		return ERR_CONFIG;
	}
	if ((copy = strdup(a->rest)) == NULL)
		return ERR_ALLOC;
	cp = copy;
	mc = (*a->fflags & CFG_NEVERMATCH) ? NULL : a->pass->mc;
	if ((value = cfg_match_line(&cp, a->lineno, mc)) < 0) {
		cfg_error(a, "Bad Match condition");
		free(copy);
		return ERR_CONFIG;
	}
	*a->activep = (*a->fflags & CFG_NEVERMATCH) ? 0 : value;
	/* Only lines before a file's first Match are global lines. */
	*a->fflags &= ~(unsigned)CFG_MATCH_ONLY;
	*a->fflags |= CFG_IN_MATCH;
	/* Anything the criteria did not read fails the extra-words check. */
	if (cp == NULL || *cp == '\0')
		a->next = a->ac;
	free(copy);
	return 0;
}

/* --- passes --------------------------------------------------------------- */

int
config_parse_line(
    struct server_config *c, const char *line, const char *filename, int lineno)
{
	unsigned fflags = 0;
	int active = 1;

	return process_line(NULL, c, line,
	    filename != NULL ? filename : "command-line", lineno, &active,
	    &fflags, 0);
}

int
config_load_source(struct server_config *c, const struct config_source *src)
{
	struct cfg_pass p;
	int active = 1;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.src = src;
	p.quiet = src->quiet;
	return cfg_parse_file(&p, 0, 0, &active, 0);
}

/* A path keyword's "none" (any case, as sshd) is no file. */
static void
none_is_null(char **field)
{
	if (*field != NULL && strcasecmp(*field, "none") == 0) {
		free(*field);
		*field = NULL;
	}
}

/* An algorithm list as sshd -T prints it: +, -, ^ and patterns resolved. */
static void
assemble(char **field, const char *def, const char *all, int match)
{
	char *out = NULL;

	/* The handler checked the value, so only memory can fail here. */
	if ((match ? alglist_assemble_match(*field, def, all, &out)
	           : alglist_assemble(*field, def, all, &out)) != 0)
		fatal_f("cannot assemble algorithm list \"%s\"",
		    *field != NULL ? *field : "(default)");
	free(*field);
	*field = out;
}

/*
 * What "none" and "any" mean once a value is final. match: after a Match
 * block's values (the global lists are assembled already), where a
 * "-list" that leaves no algorithm leaves none, as in sshd (whose second
 * assembly turns a global one's empty result back into the default).
 */
static void
normalise(struct server_config *c, int match)
{
	none_is_null(&c->trusted_user_ca_keys);
	none_is_null(&c->revoked_keys_file);
	assemble(&c->pubkey_accepted_algos, ALGLIST_PUBKEY_DEFAULT,
	    ALGLIST_KEY_IMPL, match);
	assemble(&c->ca_sign_algorithms, ALGLIST_CA_SIG_DEFAULT,
	    ALGLIST_SIG_IMPL, match);
	assemble(
	    &c->ciphers, ALGLIST_CIPHER_DEFAULT, cipher_supported_list(), 0);
	assemble(&c->macs, ALGLIST_MAC_DEFAULT, mac_supported_list(), 0);
	assemble(
	    &c->kex_algorithms, ALGLIST_KEX_DEFAULT, kex_supported_list(), 0);
	assemble(&c->hostkey_algorithms, ALGLIST_HOSTKEY_DEFAULT,
	    ALGLIST_KEY_IMPL, 0);
	if (c->banner != NULL && strcasecmp(c->banner, "none") == 0) {
		free(c->banner);
		c->banner = NULL;
	}
	none_is_null(&c->chroot_directory);
	none_is_null(&c->version_addendum);
	none_is_null(&c->host_key_agent);
	if (c->permit_user_env != NULL &&
	    strcasecmp(c->permit_user_env, "no") == 0) {
		free(c->permit_user_env);
		c->permit_user_env = NULL;
	}
	if (c->force_command != NULL &&
	    strcasecmp(c->force_command, "none") == 0) {
		free(c->force_command);
		c->force_command = NULL;
	}
	if (c->nauth_methods == 1 && strcmp(c->auth_methods[0], "any") == 0) {
		free(c->auth_methods[0]);
		c->auth_methods[0] = NULL;
		c->nauth_methods = 0;
	}
}

int
config_apply_match(struct server_config *c, const struct config_source *src,
    const struct match_conn *mc)
{
	static const struct match_conn nobody;
	struct server_config mo;
	struct cfg_pass p;
	int active = 0, r;

	/* As sshd's second pass: only Match blocks, into a fresh config. */
	config_init(&mo);
	memset(&p, 0, sizeof(p));
	p.c = &mo;
	p.src = src;
	p.mc = mc != NULL ? mc : &nobody;
	p.apply = 1;
	p.quiet = 1;
	if ((r = cfg_parse_file(&p, 0, 0, &active, CFG_MATCH_ONLY)) == 0) {
		cfg_copy_match_values(c, &mo);
		normalise(c, 1);
	}
	config_free(&mo);
	return r;
}

/* --- defaults ------------------------------------------------------------- */

static void
set_default_int(int *field, int value)
{
	if (*field == CONFIG_UNSET)
		*field = value;
}

/* Defaults go into empty lists only, so there is always room. */
static char *
xstrdup_default(const char *s)
{
	char *dup;

	if ((dup = strdup(s)) == NULL)
		fatal_f("out of memory");
	return dup;
}

static void
add_default_str(char **list, size_t *n, const char *value)
{
	list[(*n)++] = xstrdup_default(value);
}

void
config_fill_defaults(struct server_config *c)
{
	static const char *const host_keys[] = {
	    POSTERN_SYSCONFDIR "/ssh_host_rsa_key",
	    POSTERN_SYSCONFDIR "/ssh_host_ecdsa_key",
	    POSTERN_SYSCONFDIR "/ssh_host_ed25519_key",
	};
	size_t i;

	if (c->nports == 0)
		c->ports[c->nports++] = 22;
	set_default_int(&c->address_family, AF_UNSPEC);
	/*
	 * No ListenAddress: one wildcard entry, resolved per port with
	 * getaddrinfo(NULL, port, AI_PASSIVE) in AddressFamily, which gives
	 * :: and 0.0.0.0 in the order sshd binds and lists them.
	 */
	if (c->nlisten == 0) {
		c->listen[0].host = NULL;
		c->listen[0].port = 0;
		c->listen[0].file = NULL;
		c->listen[0].line = 0;
		c->nlisten = 1;
	}
	if (c->nhost_key_files == 0) {
		c->host_keys_implicit = 1;
		for (i = 0; i < sizeof(host_keys) / sizeof(host_keys[0]); i++)
			add_default_str(c->host_key_files, &c->nhost_key_files,
			    host_keys[i]);
	}
	if (c->nauthorized_keys_files == 0) {
		add_default_str(c->authorized_keys_files,
		    &c->nauthorized_keys_files, ".ssh/authorized_keys");
		add_default_str(c->authorized_keys_files,
		    &c->nauthorized_keys_files, ".ssh/authorized_keys2");
	}
	set_default_int(&c->pubkey_authentication, 1);
	set_default_int(&c->strict_modes, 1);
	set_default_int(&c->log_level, LL_INFO);
	set_default_int(&c->syslog_facility, LOG_AUTH);
	set_default_int(&c->fingerprint_hash, DIGEST_SHA256);
	set_default_int(&c->login_grace_time, 120);
	set_default_int(&c->max_auth_tries, 6);
	set_default_int(&c->max_sessions, 10);
	if (c->max_startups == CONFIG_UNSET) {
		c->max_startups_begin = 10;
		c->max_startups = 100;
	}
	set_default_int(&c->max_startups_rate, 30);
	set_default_int(&c->per_source_max_startups, INT_MAX);
	set_default_int(&c->per_source_masklen_v4, 32);
	set_default_int(&c->per_source_masklen_v6, 128);
	set_default_int(&c->permit_root_login, PERMIT_NO_PASSWD);
	set_default_int(&c->permit_empty_passwords, 0);
	set_default_int(&c->password_authentication, 1);
	set_default_int(&c->kbd_interactive_authentication, 1);
	set_default_int(&c->use_pam, 0);
	set_default_int(&c->totp_window, 1);
	if (c->totp_users_file == NULL &&
	    (c->totp_users_file = strdup("/etc/users.oath")) == NULL)
		fatal_f("out of memory");
	if (c->pam_service_name == NULL &&
	    (c->pam_service_name = strdup("sshd")) == NULL)
		fatal_f("out of memory");
	set_default_int(&c->permit_tty, 1);
	set_default_int(&c->required_rsa_size, 1024);
	set_default_int(&c->pubkey_auth_options, 0);
	set_default_int(&c->permit_user_rc, 1);
	set_default_int(&c->print_motd, 1);
	set_default_int(&c->print_lastlog, 1);
	set_default_int(&c->expose_auth_info, 0);
	cfg_liveness_defaults(c);
	cfg_penalty_defaults(c);
	set_default_int(&c->compression, COMPRESSION_DELAYED);
	set_default_int(&c->use_dns, 0);
	set_default_int(&c->fwd.allow_tcp_forwarding, FWD_ALL);
	set_default_int(&c->fwd.allow_streamlocal_forwarding, FWD_ALL);
	set_default_int(&c->fwd.gateway_ports, FWD_GATEWAY_NO);
	set_default_int(&c->fwd.streamlocal_bind_mask, 0177);
	set_default_int(&c->fwd.streamlocal_bind_unlink, 0);
	/*
	 * "PidFile none" is kept as the word while parsing, so that it counts
	 * as set (first value wins), and becomes NULL here.
	 */
	if (c->moduli_file == NULL)
		c->moduli_file = xstrdup_default(POSTERN_SYSCONFDIR "/moduli");
	if (c->pid_file == NULL)
		c->pid_file = xstrdup_default("/run/sshd.pid");
	else if (strcasecmp(c->pid_file, "none") == 0) {
		free(c->pid_file);
		c->pid_file = NULL;
	}
	normalise(c, 0);
}

/* method_enabled: whether the config offers one method[:submethod]. */
static int
method_enabled(const struct server_config *c, const char *m, size_t len)
{
	const char *colon = memchr(m, ':', len);
	size_t name = colon != NULL ? (size_t)(colon - m) : len;

	if (name == strlen("publickey") && strncmp(m, "publickey", name) == 0)
		return c->pubkey_authentication == 1;
	if (name == strlen("password") && strncmp(m, "password", name) == 0)
		return c->password_authentication == 1;
	if (name == strlen("keyboard-interactive") &&
	    strncmp(m, "keyboard-interactive", name) == 0)
		return c->kbd_interactive_authentication == 1;
	return 0;
}

int
config_check(const struct server_config *c)
{
	const char *list, *p, *comma, *colon;
	size_t i, len;
	int ok;

	/* As sshd: a command needs a user to run as (main section only). */
	if (c->authorized_keys_command != NULL &&
	    strcasecmp(c->authorized_keys_command, "none") != 0 &&
	    c->authorized_keys_command_user == NULL) {
		error("AuthorizedKeysCommand set without "
		      "AuthorizedKeysCommandUser");
		return ERR_CONFIG;
	}
	if (c->authorized_principals_command != NULL &&
	    strcasecmp(c->authorized_principals_command, "none") != 0 &&
	    c->authorized_principals_command_user == NULL) {
		error("AuthorizedPrincipalsCommand set without "
		      "AuthorizedPrincipalsCommandUser");
		return ERR_CONFIG;
	}
	if (c->nauth_methods == 0)
		return 0;
	for (i = 0; i < c->nauth_methods; i++) {
		list = c->auth_methods[i];
		for (ok = 1, p = list; ok; p = comma + 1) {
			comma = strchr(p, ',');
			len = comma != NULL ? (size_t)(comma - p) : strlen(p);
			if (!method_enabled(c, p, len)) {
				/* As sshd: the method, not its submethod. */
				colon = memchr(p, ':', len);
				if (colon != NULL)
					len = (size_t)(colon - p);
				error("Disabled method \"%.*s\" in "
				      "AuthenticationMethods list \"%s\"",
				    (int)len, p, list);
				ok = 0;
			}
			if (comma == NULL)
				break;
		}
		if (ok)
			return 0;
	}
	error("AuthenticationMethods cannot be satisfied by enabled "
	      "authentication methods");
	return ERR_CONFIG;
}
