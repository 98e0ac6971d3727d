/*
 * fuzz_kexaudit.c: libFuzzer target for the IPC_AUDIT_KEX decoder
 * (lib/kexaudit.c), which reads what a hostile preauth process sends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kexaudit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kexaudit_lists lists = {
	    "mlkem768x25519-sha256,curve25519-sha256",
	    "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com",
	    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com",
	    "hmac-sha2-256-etm@openssh.com"};
	struct transport_algs a;
	struct buf *b;
	uint32_t num;

	if ((b = buf_from(data, size)) == NULL)
		return 0;
	if (kexaudit_decode(b, &lists, &num, &a) == 0 &&
	    (num == 0 || strlen(a.kex) >= sizeof(a.kex) ||
	        strchr(a.cipher_in, ',') != NULL))
		abort();
	buf_free(b);
	return 0;
}
