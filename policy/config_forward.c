/*
 * config_forward.c: the forwarding keywords of sshd_config(5):
 * AllowTcpForwarding, AllowStreamLocalForwarding, GatewayPorts,
 * PermitOpen, PermitListen, StreamLocalBindMask and
 * StreamLocalBindUnlink: parsing, the `sshd -T` lines and the policy handed
 * to the session (defaults are set in config.c, Match copies in
 * config_keywords.c; DisableForwarding is config_liveness.c's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "fwdpolicy.h"
#include "log.h"
#include "policy/config_int.h"

void
cfg_forward_init(struct config_forward *f)
{
	memset(f, 0, sizeof(*f));
	f->allow_tcp_forwarding = CONFIG_UNSET;
	f->allow_streamlocal_forwarding = CONFIG_UNSET;
	f->gateway_ports = CONFIG_UNSET;
	f->streamlocal_bind_mask = CONFIG_UNSET;
	f->streamlocal_bind_unlink = CONFIG_UNSET;
}

static void
free_words(char **v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
	*n = 0;
}

void
cfg_forward_free(struct config_forward *f)
{
	free_words(f->permit_open, &f->npermit_open);
	free_words(f->permit_listen, &f->npermit_listen);
	cfg_forward_init(f);
}

/*
 * check_permit: sshd's checks of one PermitOpen/PermitListen entry: a host
 * part ending at ':' (or "[addr]:"), then a port number, service or "*".
 * Returns NULL or the reason as sshd words it.
 */
static const char *
check_permit(const char *spec)
{
	const char *p = spec;

	if (*p == '[') {
		if ((p = strchr(p, ']')) == NULL)
			return "missing host";
		p++;
		if (*p != ':' && *p != '\0')
			return "missing host";
	} else
		p += strcspn(p, ":/");
	if (*p == '/')
		return "missing host";
	if (*p == '\0')
		return "bad port number";
	p++;
	if (strcmp(p, "*") == 0 || cfg_a2port(p) > 0)
		return NULL;
	return "bad port number";
}

/*
 * PermitOpen host:port ... / PermitListen [host:]port ...: the first line
 * wins; "any" or "none" must be the only word; an empty (quoted) word
 * ends the list, as in sshd.
 */
int
cfg_kw_permits(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	int listen = strcasecmp(k->name, "PermitListen") == 0;
	char **list = field_str(c, k);
	size_t *n = field_count(c, k), nw = 0;
	const char *arg, *why;
	char *word;
	int store = a->active && *n == 0, special;

	while ((arg = cfg_next_arg(a)) != NULL) {
		/* As sshd: an empty word ends the list (any word after it
		 * is an extra argument); first, it is a missing one. */
		if (*arg == '\0') {
			if (nw == 0)
				return cfg_missing_arg(a);
			break;
		}
		if (nw == 0 &&
		    (strcmp(arg, "any") == 0 || strcmp(arg, "none") == 0)) {
			if (a->next < a->ac) {
				cfg_error(a,
				    "keyword %s extra arguments "
				    "at end of line",
				    a->keyword);
				return ERR_FORMAT; /* not fatal() in sshd */
			}
		} else if (nw >= CONFIG_MAX_LIST) {
			cfg_error(a, "too many %s entries.", a->keyword);
			return ERR_CONFIG;
		}
		special = nw == 0 &&
		    (strcmp(arg, "any") == 0 || strcmp(arg, "none") == 0);
		/* A bare PermitListen port means any address. */
		if (asprintf(&word, "%s%s",
		        listen && !special && strchr(arg, ':') == NULL ? "*:"
		                                                       : "",
		        arg) == -1)
			return ERR_ALLOC;
		why = special ? NULL : check_permit(word);
		if (why != NULL) {
			cfg_error(a, "%s %s", a->keyword, why);
			free(word);
			return ERR_CONFIG;
		}
		if (store)
			list[(*n)++] = word;
		else
			free(word);
		nw++;
	}
	if (nw == 0) {
		cfg_error(a, "no argument after keyword \"%s\"", a->keyword);
		return ERR_CONFIG;
	}
	return 0;
}

/* StreamLocalBindMask: octal, as sshd reads it (trailing junk ignored). */
int
cfg_kw_octal(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	char *end;
	long v;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	v = strtol(arg, &end, 8);
	if (end == arg || v < 0 || v > 0777) {
		cfg_error(a, "Invalid %s.", a->keyword);
		return ERR_CONFIG;
	}
	/* As sshd: the last line (or matching Match block) wins. */
	if (a->active)
		*field = (int)v;
	return 0;
}

void
cfg_dump_octal(const struct server_config *c, const struct keyword *k, FILE *f)
{
	cfg_dump_key(f, k);
	fprintf(f, "0%o\n", (unsigned)*field_int_c(c, k));
}

/* "permitopen any" when unset, else the words of the line. */
void
cfg_dump_permits(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	char *const *list = field_str_c(c, k);
	size_t i, n = *field_count_c(c, k);

	cfg_dump_key(f, k);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i == 0 ? "" : " ", list[i]);
	fprintf(f, "%s\n", n == 0 ? "any" : "");
}

int
config_forward_policy(const struct server_config *c, struct fwd_policy *p)
{
	const struct config_forward *f = &c->fwd;
	const char *why = NULL;
	int r;

	fwd_policy_init(p);
	p->allow_tcp = f->allow_tcp_forwarding;
	p->allow_streamlocal = f->allow_streamlocal_forwarding;
	p->gateway_ports = f->gateway_ports;
	p->disable = c->disable_forwarding == 1;
	p->bind_mask = f->streamlocal_bind_mask;
	p->bind_unlink = f->streamlocal_bind_unlink == 1;
	if ((r = fwd_policy_add_permits(&p->permitopen, f->permit_open,
	         f->npermit_open, 0, &why)) != 0 ||
	    (r = fwd_policy_add_permits(&p->permitlisten, f->permit_listen,
	         f->npermit_listen, 1, &why)) != 0) {
		error_f("PermitOpen/PermitListen: %s", why ? why : err_str(r));
		fwd_policy_free(p);
		return r == ERR_ALLOC ? r : ERR_CONFIG;
	}
	return 0;
}
