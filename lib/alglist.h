/*
 * alglist.h: OpenSSH's algorithm-list syntax for sshd_config keywords such
 * as PubkeyAcceptedAlgorithms and CASignatureAlgorithms: "+list" appends
 * to the default, "-list" removes from it, "^list" puts names first, a
 * plain list replaces it; names may be wildcard patterns.
 */
#ifndef POSTERN_ALGLIST_H
#define POSTERN_ALGLIST_H

/* The longest list handled (every name OpenSSH knows fits many times). */
#define ALGLIST_MAX 4096

/*
 * Every key and signature algorithm name OpenSSH 9.x knows, in its own
 * order (`ssh -Q PubkeyAcceptedAlgorithms`): patterns are matched
 * against these, so `sshd -T` and `posternd -T` print the same lists.
 */
#define ALGLIST_KEY_ALL                                                        \
	ALGLIST_KEY_NOT_RSA ALGLIST_KEY_UNIMPLEMENTED "," ALGLIST_KEY_RSA

/* Its parts: the names before DSA's, and the RSA ones after them. */
#define ALGLIST_KEY_NOT_RSA                                                    \
	"ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,"                        \
	"sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,"      \
	"ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,"        \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,"        \
	"ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,"        \
	"sk-ecdsa-sha2-nistp256@openssh.com,"                                  \
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"                         \
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com,"
#define ALGLIST_KEY_RSA                                                        \
	"ssh-rsa,ssh-rsa-cert-v01@openssh.com,"                                \
	"rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,"                      \
	"rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"

/*
 * The DSA names OpenSSH 9.2 knows (disabled by default there since 7.0)
 * and postern does not implement: accepted in the key algorithm lists,
 * with a warning, and left out of them.
 */
#define ALGLIST_KEY_UNIMPLEMENTED "ssh-dss,ssh-dss-cert-v01@openssh.com"

/* ALGLIST_KEY_ALL less those: what the key algorithm lists resolve to. */
#define ALGLIST_KEY_IMPL ALGLIST_KEY_NOT_RSA ALGLIST_KEY_RSA

/* The plain (non-certificate) ones: what a CA may sign with. */
#define ALGLIST_SIG_ALL                                                        \
	"ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,"          \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"                             \
	"sk-ecdsa-sha2-nistp256@openssh.com,"                                  \
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,"         \
	"rsa-sha2-256,rsa-sha2-512"
/* ALGLIST_SIG_ALL less ssh-dss. */
#define ALGLIST_SIG_IMPL                                                       \
	"ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,"          \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"                             \
	"sk-ecdsa-sha2-nistp256@openssh.com,"                                  \
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,"                 \
	"rsa-sha2-256,rsa-sha2-512"

/* OpenSSH's default PubkeyAcceptedAlgorithms (KEX_DEFAULT_PK_ALG). */
#define ALGLIST_PUBKEY_DEFAULT                                                 \
	"ssh-ed25519-cert-v01@openssh.com,"                                    \
	"ecdsa-sha2-nistp256-cert-v01@openssh.com,"                            \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com,"                            \
	"ecdsa-sha2-nistp521-cert-v01@openssh.com,"                            \
	"sk-ssh-ed25519-cert-v01@openssh.com,"                                 \
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"                         \
	"rsa-sha2-512-cert-v01@openssh.com,"                                   \
	"rsa-sha2-256-cert-v01@openssh.com,"                                   \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"                 \
	"ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"                      \
	"sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

/* OpenSSH's default CASignatureAlgorithms: no SHA-1 "ssh-rsa". */
#define ALGLIST_CA_SIG_DEFAULT                                                 \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"                 \
	"ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"                      \
	"sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

/*
 * postern's transport defaults: stricter than OpenSSH's so that ssh-audit
 * finds nothing to fail or warn about (docs/sshd_config.md). No NIST
 * curves, no 2048-bit group14, no SHA-1, no 64-bit-tag or encrypt-and-MAC
 * MACs; all of them can still be configured.
 */
#define ALGLIST_KEX_DEFAULT                                                    \
	"mlkem768x25519-sha256,sntrup761x25519-sha512,"                        \
	"sntrup761x25519-sha512@openssh.com,curve25519-sha256,"                \
	"curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,"          \
	"diffie-hellman-group18-sha512"
#define ALGLIST_CIPHER_DEFAULT                                                 \
	"chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,"                \
	"aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
#define ALGLIST_MAC_DEFAULT                                                    \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"         \
	"umac-128-etm@openssh.com"
/*
 * Names OpenSSH 9.2 (Debian's, with its GSSAPI key exchanges) accepts in
 * Ciphers, MACs and KexAlgorithms that postern does not implement: a
 * config naming them loads, as with sshd, and they are left out of what
 * is offered (CBC ciphers, MD5 and truncated SHA-1 MACs, SHA-1 groups;
 * GSSAPI key exchange needs GSSAPIKeyExchange, which postern lacks).
 */
#define ALGLIST_CIPHER_UNIMPLEMENTED "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc"
#define ALGLIST_MAC_UNIMPLEMENTED                                              \
	"hmac-sha1-96,hmac-md5,hmac-md5-96,hmac-sha1-96-etm@openssh.com,"      \
	"hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com"
/* Debian's GSSAPI key exchanges (GSSAPIKexAlgorithms, KexAlgorithms). */
#define ALGLIST_GSS_KEX                                                        \
	"gss-gex-sha1-,gss-group1-sha1-,gss-group14-sha1-,"                    \
	"gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,"        \
	"gss-curve25519-sha256-"
#define ALGLIST_KEX_UNIMPLEMENTED                                              \
	"diffie-hellman-group1-sha1,"                                          \
	"diffie-hellman-group14-sha1," ALGLIST_GSS_KEX
/* HostKeyAlgorithms: OpenSSH's default; only those with a key are sent. */
#define ALGLIST_HOSTKEY_DEFAULT ALGLIST_PUBKEY_DEFAULT

/*
 * alglist_names_valid: OpenSSH's sshkey_names_valid2() with wildcards, as
 * sshd checks a list when it reads it: every comma-separated entry must
 * match (or, negated, un-match) at least one name of `all'. A leading
 * '+' or '^' is skipped; a "-list" is not checked (sshd does not). Empty
 * entries ("a,,b", a trailing comma) are skipped, as by sshd, but nothing
 * after the prefix is invalid. 1 if valid, 0 if not.
 */
int alglist_names_valid(const char *spec, const char *all);

/*
 * alglist_assemble: OpenSSH's kex_assemble_names(): the effective list
 * for spec given the default list def and every known name all. "+list"
 * appends the list's names to def, "^list" puts them before def, a plain
 * list replaces def; then each entry, in order, is expanded to the names
 * of `all' it matches (in all's order), duplicates dropped. "-list"
 * removes from def every name matching one of its patterns; if that
 * removes them all, def stays (what sshd shows for a global "-*"). spec NULL or ""
 * gives def. Returns 0 and a malloc'd list in *out; ERR_FORMAT for a
 * negated entry outside a "-list", or a list whose entries match no name;
 * ERR_TOO_BIG, ERR_ALLOC.
 */
int alglist_assemble(
    const char *spec, const char *def, const char *all, char **out);
/*
 * alglist_assemble_match: the same for a list a Match block set, where
 * sshd keeps what a "-list" leaves, even nothing: "" (no algorithm).
 */
int alglist_assemble_match(
    const char *spec, const char *def, const char *all, char **out);

/*
 * alglist_next: copy the next comma-separated entry of *p into e (empty
 * for an empty entry, or when it does not fit: then *toolong is set) and
 * advance *p (NULL after the last entry); 0 at the end. Start with *p the
 * list.
 */
int alglist_next(const char **p, char *e, size_t elen, int *toolong);

/* alglist_has: 1 if name is one of the (exact) names of list. */
int alglist_has(const char *list, const char *name);

#endif
