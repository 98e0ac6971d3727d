/*
 * notify.h: the service manager's readiness protocol (sd_notify(3)), as
 * Debian's sshd speaks it under ssh.service's Type=notify: one datagram
 * "READY=1" to the AF_UNIX socket named by $NOTIFY_SOCKET once the
 * listening sockets are bound, again after a SIGHUP restart. Written here
 * rather than linking libsystemd: the listener stays without libsystemd's
 * dependencies (the xz backdoor, CVE-2024-3094, reached sshd that way).
 */
#ifndef POSTERN_NOTIFY_H
#define POSTERN_NOTIFY_H

/*
 * Sends state (such as "READY=1") when $NOTIFY_SOCKET names a socket: a
 * path, or an abstract name written with a leading '@'. Failures are
 * logged at debug level and otherwise ignored, as a missing manager is.
 */
void service_notify(const char *state);

#endif
