/*
 * authopts.h: authorized_keys options (sshd(8), AUTHORIZED_KEYS FILE FORMAT)
 * parsed as OpenSSH's sshd parses them; from= and expiry-time= checks; the
 * most-restrictive merge of several option sets; an IPC encoding.
 */
#ifndef POSTERN_AUTHOPTS_H
#define POSTERN_AUTHOPTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct sshkey;
struct sshkey_sk;

#define AUTHOPTS_ENV_MAX 1024    /* environment= strings per set */
#define AUTHOPTS_PERMIT_MAX 4096 /* permitopen= or permitlisten= entries */
#define AUTHOPTS_FROM_MAX 64     /* from=/source-address lists after merges */

#define AUTHOPTS_TUN_NONE (-1)
#define AUTHOPTS_TUN_ANY 0x7fffffff /* tunnel="any" */
#define AUTHOPTS_TUN_MAX (AUTHOPTS_TUN_ANY - 2)

#define AUTHOPTS_PORT_ANY 0 /* port "*" in permitopen=/permitlisten= */

/* One permitopen= or permitlisten= entry, already split and cleaned. */
struct authopts_permit {
	char *host; /* brackets removed; "*" is any host */
	int port;   /* 1..65535 or AUTHOPTS_PORT_ANY */
};

/*
 * restricted == 0: no list was given, anything goes (subject to
 * permit_port_forwarding and the server config). restricted == 1: only the
 * entries in v are allowed; n may be 0 after a merge, which allows nothing.
 */
struct authopts_permits {
	int restricted;
	size_t n;
	struct authopts_permit *v;
};

struct authopts {
	/* Permissions: 1 allowed. A key starts with all five set. */
	int permit_pty;
	int permit_port_forwarding;
	int permit_agent_forwarding;
	int permit_x11_forwarding;
	int permit_user_rc;
	int restricted; /* "restrict" was given */

	/* FIDO (sk-) keys: "no-touch-required", "verify-required". */
	int no_require_user_presence;
	int require_verify;

	/* The line's key is a CA for user certificates; principals= list. */
	int cert_authority;
	char *principals;

	char *force_command; /* command=, NULL if none */
	char **env;          /* "NAME=value", names unique, first one wins */
	size_t nenv;

	/*
	 * Source restrictions; every list must match. from[] holds from=
	 * pattern-lists (host names, addresses, CIDR, negation); one from a
	 * line, more after merges. source_address[] holds certificate
	 * source-address CIDR lists.
	 */
	char **from;
	size_t nfrom;
	char **source_address;
	size_t nsource_address;

	uint64_t expiry; /* expiry-time=, seconds since the epoch; 0 none */
	int tunnel;      /* tunnel=: AUTHOPTS_TUN_NONE, 0..MAX or ANY */

	struct authopts_permits permitopen;
	struct authopts_permits permitlisten;
};

/*
 * authopts_new: an empty set. permit_all 1 gives authorized_keys defaults
 * (all five permissions on); 0 gives all off, as a certificate starts
 * before its extensions are read. NULL on allocation failure.
 */
struct authopts *authopts_new(int permit_all);
void authopts_free(struct authopts *o);
struct authopts *authopts_copy(const struct authopts *o);

/*
 * authopts_parse: the options field of an authorized_keys line, read up to
 * the first space or tab outside double quotes (or the end). opts NULL or
 * "" gives the defaults. Option names are case-insensitive; values are
 * double-quoted, \" stands for a quote and every other backslash is
 * literal. Returns 0 and a new set in *out, or ERR_FORMAT with *out NULL
 * and *errstrp (if non-NULL) set to OpenSSH's static reason, e.g. "unknown
 * key option", "missing end quote", "multiple \"command\" clauses",
 * "invalid environment string", "invalid expires time", "invalid
 * permission port", "invalid tun device"; ERR_ALLOC on allocation failure.
 */
int authopts_parse(
    const char *opts, struct authopts **out, const char **errstrp);

/*
 * authkeys_split_line: OpenSSH's rule for where the options of an
 * authorized_keys line end and its key starts: if the line (after leading
 * blanks) starts with a key it has no options (*optsp NULL, *optslenp 0);
 * otherwise everything up to the first blank outside double quotes is the
 * options field and a key must follow it. *keyp points at the key's type
 * name. Returns 0; ERR_NOT_FOUND for blank and comment lines and lines with
 * no supported key where one should be; ERR_FORMAT for an unterminated
 * quote ("invalid key option string").
 */
int authkeys_split_line(
    const char *line, const char **optsp, size_t *optslenp, const char **keyp);

/*
 * authkeys_parse_line: split a line and parse both parts. 0: *keyp and
 * *optsp set (a "cert-authority" line has (*optsp)->cert_authority set: its
 * key is a CA key, to be matched against a certificate's signer, never
 * against a user key). ERR_NOT_FOUND as authkeys_split_line. ERR_FORMAT:
 * *optsp NULL and *errstrp says why; *keyp is NULL for an unterminated
 * quote, and holds the line's key when the options were malformed (so the
 * caller can say whether the refused line was meant for the key it looks
 * for). The caller frees *keyp in every case.
 */
int authkeys_parse_line(const char *line, struct sshkey **keyp,
    struct authopts **optsp, const char **errstrp);
/*
 * authkeys_parse_line_sk: the same, also taking FIDO security keys
 * (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com): a line
 * holding one sets *skp instead of *keyp (skp NULL: such a line has no
 * supported key, ERR_NOT_FOUND). The caller frees both in every case.
 */
int authkeys_parse_line_sk(const char *line, struct sshkey **keyp,
    struct sshkey_sk **skp, struct authopts **optsp, const char **errstrp);

/*
 * authopts_merge: the most restrictive combination of a and b, for the
 * options of an AuthenticationMethods chain or a certificate and its
 * cert-authority line (either may be NULL: a copy of the other; both
 * NULL give NULL).
 * Permissions and no-touch-required are ANDed, verify-required and
 * restrict ORed; the earliest expiry wins; from= and source-address lists
 * accumulate (all must match); environment strings are concatenated with
 * a's winning for a name set in both; commands must be equal if both are
 * set; tunnel devices must agree (a specific device beats "any"); permit
 * lists are intersected when both restrict. cert_authority and principals
 * are cleared: they describe a line, not a login. Returns NULL, after
 * logging why as sshd does (`error: forced command options do not
 * match`), when the sets conflict (the login must be refused) or on
 * allocation failure.
 */
struct authopts *authopts_merge(
    const struct authopts *a, const struct authopts *b);
/* The same, logging nothing: on a conflict *whyp is sshd's words for it
 * (NULL on success, or when a copy failed for want of memory). */
struct authopts *authopts_merge_why(
    const struct authopts *a, const struct authopts *b, const char **whyp);

/*
 * authopts_check_from: OpenSSH's match_host_and_ip() for every from= list
 * and addr_match_cidr_list() for every source-address list. host is the
 * canonical host name, or NULL (UseDNS no) to use the address. Returns 1
 * if every list admits the client, 0 if one does not, -1 if one is
 * malformed ("invalid from criteria"; refuse).
 */
int authopts_check_from(
    const struct authopts *o, const char *host, const char *addr);

/* authopts_check_expiry: 1 if o has no expiry-time= or now is not past it. */
int authopts_check_expiry(const struct authopts *o, time_t now);

/*
 * authopts_authorise: OpenSSH's auth_authorise_keyopts() for o, the
 * options of loc (an authorized_keys line or a principals entry) when
 * user logs in from addr, whose name is host (NULL: addr): 0 if they
 * allow it; -1 if an expiry-time= is past, principals= sits on a key
 * that is no CA, cert-authority is set where allow_ca is 0, or from= or
 * a source-address list refuses the client (or is malformed). Each
 * refusal is logged as sshd logs it, and with AUTHOPTS_LOG_REMOTE in
 * log_flags told to the client (lib/authdebug.h).
 */
int authopts_authorise(const struct authopts *o, time_t now, int allow_ca,
    const char *user, const char *host, const char *addr, const char *loc,
    unsigned log_flags);

/*
 * authopts_parse_time: expiry-time= "YYYYMMDD" or "YYYYMMDDHHMM[SS]", local
 * time, or UTC with a "Z" (or "UTC") suffix. 0 and *tp, or ERR_FORMAT.
 */
int authopts_parse_time(const char *s, uint64_t *tp);
/* authopts_format_time: local "YYYY-MM-DDTHH:MM:SS", as OpenSSH logs it. */
void authopts_format_time(uint64_t t, char *buf, size_t len);

/*
 * authopts_add_source_address: add a certificate source-address list
 * (comma-separated addresses and CIDR blocks). ERR_FORMAT if malformed
 * ("Certificate source-address contents invalid"), ERR_LIMIT, ERR_ALLOC.
 */
int authopts_add_source_address(struct authopts *o, const char *list);

/*
 * authopts_is_unrestricted: 1 if o imposes nothing on the session beyond
 * the lookup-time checks (from=, expiry-time=): all permissions on, no
 * command, environment, permit lists, tunnel, principals, CA flag or FIDO
 * flags.
 */
int authopts_is_unrestricted(const struct authopts *o);

/*
 * authopts_permitopen_ok / authopts_permitlisten_ok: may the session open
 * a direct-tcpip channel to host:port (OpenSSH: literal host, "*" any), or
 * listen on host:port for a remote forward (OpenSSH: the host is matched
 * case-insensitively against the entry's wildcard pattern)? 0 also when
 * port forwarding is off. The server config's PermitOpen/PermitListen and
 * AllowTcpForwarding still apply on top.
 */
int authopts_permitopen_ok(
    const struct authopts *o, const char *host, int port);
int authopts_permitlisten_ok(
    const struct authopts *o, const char *host, int port);

/*
 * The same checks on one list alone (sshd_config's PermitOpen and
 * PermitListen use them too): 1 if the list is unrestricted or an entry
 * admits host:port.
 */
int authopts_permits_open_ok(
    const struct authopts_permits *p, const char *host, int port);
int authopts_permits_listen_ok(
    const struct authopts_permits *p, const char *host, int port);
/*
 * authopts_permits_add_spec: add one "host:port" entry as written
 * ("[addr]:port", port "*" for any; with listen, a bare port means "*:port")
 * and mark the list restricted. ERR_FORMAT with *errp set to OpenSSH's
 * reason ("invalid permission hostname", "invalid permission port"),
 * ERR_ALLOC.
 */
int authopts_permits_add_spec(struct authopts_permits *p, const char *spec,
    int listen, const char **errp);
void authopts_permits_free(struct authopts_permits *p);
/* One list in the encoding authopts_serialize uses for it. */
int authopts_permits_put(struct buf *b, const struct authopts_permits *p);
int authopts_permits_get(struct buf *b, struct authopts_permits *p);

/*
 * authopts_log: the debug line "LOC: key options: ..." in sshd 9.2's words,
 * then, in sshd's order, one "LOC: environment: ..." per environment=
 * string, "LOC: expires at ...", "LOC: authorized principals: ...",
 * "LOC: forced command: ..." and one "LOC: permitted open: ..." and
 * "LOC: permitted listen: ..." per entry. flags say what the session's
 * settings let it show, as sshd: AUTHOPTS_LOG_ENV (PermitUserEnvironment
 * is not "no": "environment" and its lines), AUTHOPTS_LOG_OPEN and _LISTEN
 * (AllowTcpForwarding local, remote: "permitopen", "permitlisten" and
 * their lines). AUTHOPTS_LOG_REMOTE also keeps the summary and environment
 * lines for the client (lib/authdebug.h); AUTHOPTS_LOG_NOLOCAL leaves the
 * log out. AUTHOPTS_LOG_NOEXPIRY leaves the expiry out: sshd's "active:"
 * options, after auth, have none.
 */
#define AUTHOPTS_LOG_ENV 0x1u
#define AUTHOPTS_LOG_OPEN 0x2u
#define AUTHOPTS_LOG_LISTEN 0x4u
#define AUTHOPTS_LOG_REMOTE 0x8u
#define AUTHOPTS_LOG_NOLOCAL 0x10u /* the client's lines only, no debug() */
#define AUTHOPTS_LOG_NOEXPIRY 0x20u
void authopts_log(const struct authopts *o, const char *loc, unsigned flags);

/*
 * authopts_serialize appends o to b; authopts_deserialize reads one set
 * from b and requires that it was the last thing in b (ERR_TRAILING
 * otherwise), so put it last in a message or nest it with
 * buf_put_stringb(). Every count, flag, port and environment string is
 * checked on the way in. Encoding (SSH wire types):
 *   bool   permit_pty, permit_port_forwarding, permit_agent_forwarding,
 *          permit_x11_forwarding, permit_user_rc, restricted,
 *          no_require_user_presence, require_verify, cert_authority
 *   uint64 expiry
 *   uint32 tunnel (0xffffffff: none)
 *   bool + [string] principals, force_command (bool: present)
 *   uint32 n + n * string: env, from, source_address
 *   twice (permitopen, permitlisten):
 *          bool restricted, uint32 n, n * (string host, uint32 port)
 */
int authopts_serialize(const struct authopts *o, struct buf *b);
int authopts_deserialize(struct buf *b, struct authopts **out);

#endif
