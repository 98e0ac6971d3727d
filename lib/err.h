/* err.h: the single error-code enum shared by every postern process. */
#ifndef POSTERN_ERR_H
#define POSTERN_ERR_H

enum {
	ERR_OK = 0,
	ERR_INTERNAL = -1,      /* a bug: invariant broken */
	ERR_ALLOC = -2,         /* memory allocation failed */
	ERR_SHORT = -3,         /* message shorter than its fields */
	ERR_TOO_BIG = -4,       /* would exceed a hard size cap */
	ERR_TRAILING = -5,      /* bytes left after the last field */
	ERR_FORMAT = -6,        /* malformed field */
	ERR_STRING_NUL = -7,    /* string with an embedded NUL */
	ERR_CRYPTO = -8,        /* libcrypto failure */
	ERR_MAC = -9,           /* message authentication failed */
	ERR_SIGNATURE = -10,    /* signature did not verify */
	ERR_KEY_TYPE = -11,     /* unsupported or mismatched key type */
	ERR_SYSTEM = -12,       /* system call failed; see errno */
	ERR_EOF = -13,          /* peer closed the connection */
	ERR_PROTOCOL = -14,     /* peer violated the protocol */
	ERR_NO_MATCH = -15,     /* negotiation found nothing in common */
	ERR_AGAIN = -16,        /* need more input or output space */
	ERR_CONFIG = -17,       /* bad configuration */
	ERR_NOT_FOUND = -18,    /* no such thing */
	ERR_PERM = -19,         /* refused by permission or ownership check */
	ERR_DISCONNECTED = -20, /* peer sent SSH_MSG_DISCONNECT */
	ERR_TIMEOUT = -21,      /* a deadline passed */
	ERR_BAD_STATE = -22,    /* message not allowed in this state */
	ERR_BAD_KEY = -23,      /* key data malformed */
	ERR_LIMIT = -24,        /* a counted limit was reached */
	ERR_ENCRYPTED = -25,    /* private key file is passphrase-protected */
};

/* err_str returns a static description of an ERR_* code. */
const char *err_str(int r);
/*
 * err_sshd_words: OpenSSH's ssh_err() words for what a parse of a peer's
 * message met (ERR_SHORT "incomplete message", ERR_TRAILING "unexpected
 * bytes remain after decoding", ...), for lines written as sshd's.
 */
const char *err_sshd_words(int r);

#endif
