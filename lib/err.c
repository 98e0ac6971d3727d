/* err.c: descriptions of the shared error codes. */
#include <errno.h>
#include <string.h>

#include "err.h"

const char *
err_str(int r)
{
	switch (r) {
	case ERR_OK:
		return "success";
	case ERR_INTERNAL:
		return "internal error";
	case ERR_ALLOC:
		return "memory allocation failed";
	case ERR_SHORT:
		return "message incomplete";
	case ERR_TOO_BIG:
		return "length exceeds limit";
	case ERR_TRAILING:
		return "unexpected trailing data";
	case ERR_FORMAT:
		return "invalid format";
	case ERR_STRING_NUL:
		return "string contains NUL";
	case ERR_CRYPTO:
		return "cryptographic library error";
	case ERR_MAC:
		return "message authentication code incorrect";
	case ERR_SIGNATURE:
		return "incorrect signature";
	case ERR_KEY_TYPE:
		return "unsupported or mismatched key type";
	case ERR_SYSTEM:
		return strerror(errno);
	case ERR_EOF:
		return "connection closed";
	case ERR_PROTOCOL:
		return "protocol error";
	case ERR_NO_MATCH:
		return "no matching algorithm";
	case ERR_AGAIN:
		return "operation would block";
	case ERR_CONFIG:
		return "invalid configuration";
	case ERR_NOT_FOUND:
		return "not found";
	case ERR_PERM:
		return "permission denied";
	case ERR_DISCONNECTED:
		return "disconnected by peer";
	case ERR_TIMEOUT:
		return "timed out";
	case ERR_BAD_STATE:
		return "message not allowed in this state";
	case ERR_BAD_KEY:
		return "invalid key";
	case ERR_LIMIT:
		return "limit reached";
	case ERR_ENCRYPTED:
		return "key is encrypted (only unencrypted keys are read)";
	}
	return "unknown error";
}

const char *
err_sshd_words(int r)
{
	switch (r) {
	case ERR_SHORT:
		return "incomplete message";
	case ERR_TRAILING:
		return "unexpected bytes remain after decoding";
	case ERR_TOO_BIG:
		return "string is too large";
	case ERR_KEY_TYPE:
		return "unknown or unsupported key type";
	default:
		return "invalid format";
	}
}
