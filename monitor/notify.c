/*
 * notify.c: sd_notify(3)'s datagram to $NOTIFY_SOCKET (notify.h).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "monitor/notify.h"

void
service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n < 2 || n >= sizeof(sun.sun_path)) {
		debug("NOTIFY_SOCKET: name too long or too short");
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	/* An abstract name: a leading NUL, and no terminating one. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/' ? 1 : 0));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		debug("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	        (struct sockaddr *)&sun, len) < 0)
		debug("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	else
		debug("NOTIFY_SOCKET %s: %s", path, state);
	close(fd);
}
