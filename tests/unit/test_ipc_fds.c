/*
 * test_ipc_fds.c: descriptors in lib/ipc.c's framing, as a hostile peer
 * sends them: one with a message that expects none, one with a later
 * part of a message, two where one is expected, more than the control
 * buffer holds. Each is an error, and none stays open in the receiver.
 * A stray socket whose last close would linger is closed at once; with
 * ipc_refuse_fds() the sender cannot pass one at all.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "tests/unit/t.h"

/* The descriptors this process has open. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* Send len bytes of p with nfd copies of /dev/null attached. */
static int
send_with_fds(int sock, const void *p, size_t len, int nfd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct iovec iov = {(void *)p, len};
	struct msghdr msg;
	struct cmsghdr *c;
	int fds[8], i, r;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	for (i = 0; i < nfd; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfd > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
	}
	r = sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1;
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	return r;
}

/*
 * One message (type 21, one payload byte): the header carries hdr_fds
 * descriptors, the payload body_fds. The receiver's result; *got its
 * descriptor (closed here), *leaked how many more it holds after.
 */
static int
exchange(int hdr_fds, int body_fds, int want_fd, int *got, int *leaked)
{
	static const uint8_t hdr[5] = {0, 0, 0, 2, 21}, body[1] = {7};
	struct buf *b = buf_new(IPC_MAX_MESSAGE);
	int sp[2], before, r, fd = -1;
	uint8_t type;

	*got = 0;
	*leaked = -1;
	if (b == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return ERR_SYSTEM;
	before = open_fds();
	if (send_with_fds(sp[1], hdr, sizeof(hdr), hdr_fds) != 0 ||
	    send_with_fds(sp[1], body, sizeof(body), body_fds) != 0)
		r = ERR_SYSTEM;
	else
		r = ipc_recv(sp[0], &type, b, want_fd ? &fd : NULL, 1024);
	if (fd != -1) {
		*got = 1;
		close(fd);
	}
	*leaked = open_fds() - before;
	close(sp[0]);
	close(sp[1]);
	buf_free(b);
	return r;
}

/*
 * A loopback TCP socket with unsent data its peer never reads and
 * SO_LINGER of 3 s, sent with a message that expects no descriptor, the
 * sender's copy closed: ipc_recv's close must not wait. The time taken
 * (ms) and the result; -1 if the setup failed.
 */
static int
stray_lingering(int *rp, int refuse)
{
	static char junk[65536];
	uint8_t type;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct linger lg = {1, 3};
	struct buf *b = buf_new(1024);
	int sp[2], l = -1, s = -1, peer = -1, ms = -1;
	int64_t t0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (b == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return -1;
	if (refuse && ipc_refuse_fds(sp[0]) != 0) {
		ms = -2; /* a kernel without SO_PASSRIGHTS */
		goto out;
	}
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) != 0 ||
	    (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (peer = accept(l, NULL, NULL)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0 ||
	    fcntl(s, F_SETFL, O_NONBLOCK) != 0)
		goto out;
	while (write(s, junk, sizeof(junk)) > 0)
		;
	/* Type 21 and no payload, with s: ipc_send passes it as asked. */
	if (ipc_send(sp[1], 21, NULL, s) != 0) {
		*rp = errno == EPERM ? ERR_PERM : ERR_SYSTEM;
		ms = 0;
		goto out;
	}
	close(s);
	s = -1;
	t0 = ipc_now_ms();
	*rp = ipc_recv(sp[0], &type, b, NULL, 1024);
	ms = (int)(ipc_now_ms() - t0);
out:
	if (s != -1) {
		lg.l_linger = 0;
		(void)setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s);
	}
	if (peer != -1)
		close(peer);
	if (l != -1)
		close(l);
	close(sp[0]);
	close(sp[1]);
	buf_free(b);
	return ms;
}

int
main(void)
{
	int r, got, leaked;

	r = exchange(1, 0, 1, &got, &leaked);
	T_CHECK("one descriptor where one is expected", r == 0 && got);
	T_CHECK("... nothing else kept", leaked == 0);

	r = exchange(0, 0, 0, &got, &leaked);
	T_CHECK("no descriptor, none expected", r == 0 && leaked == 0);

	r = exchange(1, 0, 0, &got, &leaked);
	T_CHECK("a descriptor with a message that expects none: refused",
	    r == ERR_PROTOCOL);
	T_CHECK("... and closed", leaked == 0);

	r = exchange(0, 1, 0, &got, &leaked);
	T_CHECK("a descriptor with the payload: refused", r == ERR_PROTOCOL);
	T_CHECK("... and closed", leaked == 0);

	r = exchange(0, 1, 1, &got, &leaked);
	T_CHECK("a descriptor with the payload, one expected with the "
	        "header: refused",
	    r == ERR_PROTOCOL && !got);
	T_CHECK("... and closed", leaked == 0);

	r = exchange(2, 0, 1, &got, &leaked);
	T_CHECK("two descriptors where one is expected: refused",
	    r == ERR_PROTOCOL && !got);
	T_CHECK("... both closed", leaked == 0);

	r = exchange(8, 0, 1, &got, &leaked);
	T_CHECK("more descriptors than the control buffer holds: refused",
	    r == ERR_PROTOCOL && !got);
	T_CHECK("... none kept", leaked == 0);

	r = 0;
	got = stray_lingering(&r, 0);
	T_CHECK("a stray lingering socket: refused", r == ERR_PROTOCOL);
	T_CHECK("... and closed at once", got >= 0 && got < 1000);

	r = 0;
	got = stray_lingering(&r, 1);
	T_CHECK("ipc_refuse_fds: the sender cannot pass one",
	    got == -2 || (got == 0 && r == ERR_PERM));
	return T_DONE();
}
