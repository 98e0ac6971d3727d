/*
 * config_liveness.c: the keywords of agent and X11 forwarding, tunnels and
 * connection liveness (AllowAgentForwarding, X11*, ClientAlive*,
 * ChannelTimeout, UnusedConnectionTimeout, PermitTunnel, IPQoS, ...): their
 * defaults, Match copying, and the value syntax the generic handlers of
 * config_values.c do not cover.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "policy/config_int.h"

#define XAUTH_DEFAULT "/usr/bin/xauth" /* Debian's xauth package */
#define IPQOS_LOWDELAY 0x10            /* RFC 1349 */
#define IPQOS_THROUGHPUT 0x08

void
cfg_liveness_init(struct server_config *c)
{
	c->allow_agent_forwarding = CONFIG_UNSET;
	c->disable_forwarding = CONFIG_UNSET;
	c->x11_forwarding = CONFIG_UNSET;
	c->x11_display_offset = CONFIG_UNSET;
	c->x11_use_localhost = CONFIG_UNSET;
	c->client_alive_interval = CONFIG_UNSET;
	c->client_alive_count_max = CONFIG_UNSET;
	c->tcp_keepalive = CONFIG_UNSET;
	c->unused_connection_timeout = CONFIG_UNSET;
	c->permit_tunnel = CONFIG_UNSET;
	c->ip_qos_interactive = CONFIG_UNSET;
	c->ip_qos_bulk = CONFIG_UNSET;
	c->rekey_limit = CONFIG_UNSET;
	c->rekey_interval = CONFIG_UNSET;
}

static void
cfg_liveness_free_timeouts(struct server_config *c)
{
	size_t i;

	for (i = 0; i < c->nchannel_timeouts; i++)
		free(c->channel_timeouts[i]);
	c->nchannel_timeouts = 0;
}

void
cfg_liveness_free(struct server_config *c)
{
	free(c->xauth_location);
	c->xauth_location = NULL;
	cfg_liveness_free_timeouts(c);
}

static void
default_int(int *field, int value)
{
	if (*field == CONFIG_UNSET)
		*field = value;
}

void
cfg_liveness_defaults(struct server_config *c)
{
	default_int(&c->allow_agent_forwarding, 1);
	default_int(&c->disable_forwarding, 0);
	default_int(&c->x11_forwarding, 0);
	default_int(&c->x11_display_offset, 10);
	default_int(&c->x11_use_localhost, 1);
	default_int(&c->client_alive_interval, 0);
	default_int(&c->client_alive_count_max, 3);
	default_int(&c->tcp_keepalive, 1);
	default_int(&c->unused_connection_timeout, 0);
	default_int(&c->permit_tunnel, TUNNEL_NO);
	default_int(&c->ip_qos_interactive, IPQOS_LOWDELAY);
	default_int(&c->ip_qos_bulk, IPQOS_THROUGHPUT);
	default_int(&c->rekey_interval, 0);
	if (c->rekey_limit == CONFIG_UNSET)
		c->rekey_limit = 0;
	if (c->xauth_location == NULL &&
	    (c->xauth_location = strdup(XAUTH_DEFAULT)) == NULL)
		fatal_f("out of memory");
	/* A global "ChannelTimeout none" is no timeout at all. */
	if (c->nchannel_timeouts > 0 &&
	    strcasecmp(c->channel_timeouts[0], "none") == 0)
		cfg_liveness_free_timeouts(c);
}

static void
copy_set(int *dst, int src)
{
	if (src != CONFIG_UNSET)
		*dst = src;
}

void
cfg_liveness_copy_match(struct server_config *dst, struct server_config *src)
{
	size_t i;

	copy_set(&dst->allow_agent_forwarding, src->allow_agent_forwarding);
	copy_set(&dst->disable_forwarding, src->disable_forwarding);
	copy_set(&dst->x11_forwarding, src->x11_forwarding);
	copy_set(&dst->x11_display_offset, src->x11_display_offset);
	copy_set(&dst->x11_use_localhost, src->x11_use_localhost);
	copy_set(&dst->client_alive_interval, src->client_alive_interval);
	copy_set(&dst->client_alive_count_max, src->client_alive_count_max);
	copy_set(
	    &dst->unused_connection_timeout, src->unused_connection_timeout);
	copy_set(&dst->permit_tunnel, src->permit_tunnel);
	copy_set(&dst->ip_qos_interactive, src->ip_qos_interactive);
	copy_set(&dst->ip_qos_bulk, src->ip_qos_bulk);
	copy_set(&dst->rekey_interval, src->rekey_interval);
	if (src->rekey_limit != CONFIG_UNSET)
		dst->rekey_limit = src->rekey_limit;
	if (src->nchannel_timeouts == 0)
		return;
	for (i = 0; i < dst->nchannel_timeouts; i++)
		free(dst->channel_timeouts[i]);
	for (i = 0; i < src->nchannel_timeouts; i++) {
		dst->channel_timeouts[i] = src->channel_timeouts[i];
		src->channel_timeouts[i] = NULL;
	}
	dst->nchannel_timeouts = src->nchannel_timeouts;
	src->nchannel_timeouts = 0;
}

/* UnusedConnectionTimeout: "none" (stored as 0) or a time. */
int
cfg_kw_none_or_time(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	int v = 0;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing time value.");
		return ERR_CONFIG;
	}
	if (strcasecmp(arg, "none") != 0 && (v = cfg_time_value(arg)) < 0) {
		cfg_error(a, "invalid time value.");
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

void
cfg_dump_none_or_time(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);

	if (v <= 0)
		fprintf(f, "%s none\n", "unusedconnectiontimeout");
	else
		fprintf(f, "%s %d\n", "unusedconnectiontimeout", v);
}

/* IPQoS's names, in the order sshd -T looks a value up (RFC 2474,
 * 4594 and 8622 code points shifted into the TOS byte; RFC 1349's). */
static const struct {
	const char *name;
	int value;
} ipqos_names[] = {
    {"af11", 0x28},
    {"af12", 0x30},
    {"af13", 0x38},
    {"af21", 0x48},
    {"af22", 0x50},
    {"af23", 0x58},
    {"af31", 0x68},
    {"af32", 0x70},
    {"af33", 0x78},
    {"af41", 0x88},
    {"af42", 0x90},
    {"af43", 0x98},
    {"cs0", 0x00},
    {"cs1", 0x20},
    {"cs2", 0x40},
    {"cs3", 0x60},
    {"cs4", 0x80},
    {"cs5", 0xa0},
    {"cs6", 0xc0},
    {"cs7", 0xe0},
    {"ef", 0xb8},
    {"le", 0x04},
    {"lowdelay", IPQOS_LOWDELAY},
    {"throughput", IPQOS_THROUGHPUT},
    {"reliability", 0x04},
};

/* One IPQoS word: a name (any case), "none", or a number 0..255 in C
 * syntax (0x.. hex, 0.. octal); -1 if it is none of these. */
static int
ipqos_value(const char *s)
{
	char *end;
	long v;
	size_t i;

	for (i = 0; i < sizeof(ipqos_names) / sizeof(ipqos_names[0]); i++) {
		if (strcasecmp(s, ipqos_names[i].name) == 0)
			return ipqos_names[i].value;
	}
	if (strcasecmp(s, "none") == 0)
		return CONFIG_IPQOS_NONE;
	errno = 0;
	v = strtol(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 255)
		return -1;
	return (int)v;
}

/* IPQoS: one value for both, or interactive then bulk. The last line
 * wins, as in sshd 9.2 (it has no first-wins check for IPQoS). */
int
cfg_kw_ipqos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a), *second;
	int inter, bulk;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	bulk = inter = ipqos_value(arg);
	if (inter >= 0 && (second = cfg_next_arg(a)) != NULL) {
		arg = second; /* the word the error names */
		bulk = ipqos_value(arg);
	}
	if (inter < 0 || bulk < 0) {
		cfg_error(a, "Bad %s value: %s", a->keyword, arg);
		return ERR_CONFIG;
	}
	if (a->active) {
		c->ip_qos_interactive = inter;
		c->ip_qos_bulk = bulk;
	}
	return 0;
}

static void
ipqos_word(int v, char *out, size_t len)
{
	size_t i;

	if (v == CONFIG_IPQOS_NONE) {
		snprintf(out, len, "none");
		return;
	}
	for (i = 0; i < sizeof(ipqos_names) / sizeof(ipqos_names[0]); i++) {
		if (ipqos_names[i].value == v) {
			snprintf(out, len, "%s", ipqos_names[i].name);
			return;
		}
	}
	snprintf(out, len, "0x%02x", (unsigned)v & 0xffu);
}

/* "ipqos INTERACTIVE BULK", each a name where one has that value. */
void
cfg_dump_ipqos(const struct server_config *c, const struct keyword *k, FILE *f)
{
	char inter[16], bulk[16];

	ipqos_word(c->ip_qos_interactive, inter, sizeof(inter));
	ipqos_word(c->ip_qos_bulk, bulk, sizeof(bulk));
	fprintf(f, "ipqos %s %s\n", inter, bulk);
}

/* PermitTunnel: sshd compares its words case-sensitively. */
int
cfg_kw_permit_tunnel(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	size_t i;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	for (i = 0; k->choices[i].name != NULL; i++) {
		if (strcmp(arg, k->choices[i].name) == 0)
			break;
	}
	if (k->choices[i].name == NULL) {
		cfg_error(a, "bad %s argument %s", a->keyword, arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = k->choices[i].value;
	return 0;
}

/*
 * cfg_channel_timeout_split: one ChannelTimeout word "type=interval" into
 * the type pattern (copied into type, size tlen) and seconds; -1 if bad.
 */
int
cfg_channel_timeout_split(const char *word, char *type, size_t tlen, int *secs)
{
	const char *eq = strchr(word, '=');
	size_t n;

	if (eq == NULL || eq == word || (n = (size_t)(eq - word)) >= tlen ||
	    (*secs = cfg_time_value(eq + 1)) < 0)
		return -1;
	memcpy(type, word, n);
	type[n] = '\0';
	return 0;
}

/* ChannelTimeout: "none" alone, or TYPE=INTERVAL words; first line wins. */
int
cfg_kw_channel_timeout(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;
	char type[256];
	int n = 0, secs, store = a->active && c->nchannel_timeouts == 0;

	while ((arg = cfg_next_arg(a)) != NULL) {
		/* As sshd 9.2: "none" in any case, refused only when more
		 * follow ("session=5m none" is taken, and "none" ignored). */
		if (strcasecmp(arg, "none") == 0) {
			if (a->next < a->ac)
				return cfg_none_not_alone(a);
		} else if (cfg_channel_timeout_split(
		               arg, type, sizeof(type), &secs) != 0) {
			cfg_error(a, "invalid channel timeout %s", arg);
			return ERR_CONFIG;
		}
		n++;
		if (!store)
			continue;
		if (c->nchannel_timeouts >= CONFIG_MAX_LIST) {
			cfg_error(a, "too many %s entries.", a->keyword);
			return ERR_CONFIG;
		}
		if ((c->channel_timeouts[c->nchannel_timeouts] = strdup(arg)) ==
		    NULL)
			return ERR_ALLOC;
		c->nchannel_timeouts++;
	}
	return 0;
}

/* sshd -T prints the words as written; nothing for a global "none"
 * (cfg_liveness_defaults drops it), "none" for a Match block's. */
void
cfg_dump_channel_timeouts(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i;

	if (c->nchannel_timeouts == 0)
		return;
	fprintf(f, "channeltimeout");
	for (i = 0; i < c->nchannel_timeouts; i++)
		fprintf(f, " %s", c->channel_timeouts[i]);
	fputc('\n', f);
}
