/*
 * fuzz_transport_state.c: libFuzzer target for transport_state_algs, the
 * monitor's reading of a hand-over state that preauth (hostile) sent:
 * any input is refused or read into NUL-terminated names that fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport_algs a;
	struct buf *b;

	if ((b = buf_from(data, size)) == NULL)
		return 0;
	if (transport_state_algs(b, &a) == 0 &&
	    (strlen(a.kex) >= sizeof(a.kex) ||
	        strlen(a.hostkey) >= sizeof(a.hostkey) ||
	        strlen(a.cipher_out) >= sizeof(a.cipher_out) ||
	        strlen(a.cipher_in) >= sizeof(a.cipher_in)))
		abort();
	/* The state is only looked at, never consumed. */
	if (buf_len(b) != size)
		abort();
	buf_free(b);
	return 0;
}
