/*
 * fuzz_zcomp.c: libFuzzer target for packet decompression, the one parser
 * of peer data behind the MAC: the input is a run of packets (a length
 * byte, then that many bytes), inflated in turn through one stream; the
 * output must never pass the bound, whatever the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "zcomp.h"

#define MAXP (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zcomp *z = NULL;
	struct buf *out;
	size_t n;

	if ((out = buf_new(MAXP + 8192)) == NULL)
		return 0;
	if (zcomp_new(&z, 0) != 0) {
		buf_free(out);
		return 0;
	}
	while (size > 0) {
		n = data[0];
		data++;
		size--;
		if (n > size)
			n = size;
		buf_reset(out);
		if (zcomp_inflate(z, data, n, out, MAXP) != 0)
			break;
		if (buf_len(out) > MAXP)
			abort();
		data += n;
		size -= n;
	}
	zcomp_free(z);
	buf_free(out);
	return 0;
}
