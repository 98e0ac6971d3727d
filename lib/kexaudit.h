/*
 * kexaudit.h: IPC_AUDIT_KEX, the report of a finished key exchange that
 * the preauth and session processes send their monitor after each
 * NEWKEYS (the first one and every rekey), so that the audit trail has a
 * CRYPTO_SESSION record for every set of session keys (docs/ipc.md,
 * docs/audit.md).
 */
#ifndef POSTERN_KEXAUDIT_H
#define POSTERN_KEXAUDIT_H

#include <stdint.h>

#include "transport.h"

struct buf;

/*
 * kexaudit_report: when t has finished a key exchange since *reported
 * (-1: never asked; the exchanges t already had count as reported), send
 * IPC_AUDIT_KEX on fd and update *reported. 0, or an IPC error.
 */
int kexaudit_report(struct transport *t, int fd, int *reported);

/* The algorithm lists a report is checked against: the server's offers. */
struct kexaudit_lists {
	const char *kex;
	const char *hostkey;
	const char *ciphers;
	const char *macs;
};

/*
 * kexaudit_decode: an IPC_AUDIT_KEX payload from a hostile process: every
 * name must be one the server offered (in lists), so nothing but known
 * algorithm names reaches a record. Key sizes come from lib/cipher.c, not
 * the sender. 0 with *num (the exchange's number, 1 for the first) and a;
 * ERR_FORMAT or a decoding error otherwise.
 */
int kexaudit_decode(struct buf *b, const struct kexaudit_lists *lists,
    uint32_t *num, struct transport_algs *a);

#endif
