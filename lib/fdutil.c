/* fdutil.c: small descriptor helpers every process uses. */
#include <fcntl.h>

#include "fdutil.h"

int
fd_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}
