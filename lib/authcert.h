/*
 * authcert.h: what sshd does with a user certificate once it is parsed and
 * its CA signature verified (lib/sshcert.h): the options it imposes, the
 * TrustedUserCAKeys lookup, and how log lines describe it.
 */
#ifndef POSTERN_AUTHCERT_H
#define POSTERN_AUTHCERT_H

#include <stddef.h>

struct authopts;
struct sshcert;
struct sshkey;
struct sshkey_sk;

/* The longest TrustedUserCAKeys file read (a line per CA key). */
#define AUTHCERT_CA_FILE_MAX (1024 * 1024)

/*
 * authcert_opts: OpenSSH's sshauthopt_from_cert(): the options a
 * certificate imposes. They start with every permission off
 * (authopts_new(0)); each permit-* extension turns one on;
 * no-touch-required and the verify-required critical option set the FIDO
 * flags; force-command and source-address are copied. An unknown
 * extension is named at INFO, as sshd does. Returns 0 and *optsp,
 * ERR_FORMAT for a certificate with options_error or a malformed
 * source-address (logged), ERR_ALLOC.
 */
int authcert_opts(const struct sshcert *cert, struct authopts **optsp);

/*
 * authcert_ca_listed: is ca, or the FIDO key ca_sk (the other one NULL),
 * one of the public keys in the TrustedUserCAKeys file path (one per line,
 * '#' comments and blank lines allowed)? As sshd reads it: a key of a type
 * postern does not read (ssh-dss, a certificate) or an RSA key of a size
 * sshd refuses is skipped, but a line
 * that is no public key ends the search before ca is found: ERR_FORMAT,
 * logged, and no CA of the file is trusted. 0 if listed, ERR_NOT_FOUND if
 * not, ERR_SYSTEM (errno set) if the file cannot be read, ERR_TOO_BIG,
 * ERR_ALLOC.
 * Read with the caller's privileges (root in the monitor, as sshd).
 */
int authcert_ca_listed(
    const char *path, const struct sshkey *ca, const struct sshkey_sk *ca_sk);

/* "ED25519-CERT", "ECDSA-CERT", "RSA-CERT": OpenSSH's sshkey_type(). */
const char *authcert_type_short(const struct sshcert *cert);

/*
 * authcert_describe: what follows "ssh2: " in OpenSSH's Accepted and Failed
 * lines for a certificate: "ED25519-CERT SHA256:<key> ID <key id> (serial
 * N) CA ED25519 SHA256:<CA key>". The key ID is cut at 255 bytes, and
 * shortened (ending in "...") when the whole would not fit in len.
 */
void authcert_describe(const struct sshcert *cert, char *out, size_t len);

#endif
