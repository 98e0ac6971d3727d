/*
 * fuzz_zimport.c: libFuzzer target for zcomp_import, the session process's
 * rebuilding of a zlib stream from the history preauth handed over (through
 * the monitor; hostile): the first byte picks deflate or inflate, the rest
 * is the state (string history, string SHA-256). Anything but a history
 * that replays to its hash is refused, and a refusal leaves no stream.
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
	struct buf *b;
	int r;

	if (size < 1 || (b = buf_from(data + 1, size - 1)) == NULL)
		return 0;
	r = zcomp_import(&z, data[0] & 1, b, MAXP);
	if ((r == 0) != (z != NULL))
		abort();
	zcomp_free(z);
	buf_free(b);
	return 0;
}
