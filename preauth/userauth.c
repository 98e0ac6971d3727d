/*
 * userauth.c: the userauth wire protocol (RFC 4252) in the sandboxed
 * preauth process. It parses only the outer request; every verdict comes
 * from the monitor, which re-parses the method data itself.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "preauth.h"
#include "transport.h"

static int
send_failure(struct transport *t, const char *methods, int partial)
{
	struct buf *p;
	int r;

	if ((r = transport_packet_begin(t, SSH2_MSG_USERAUTH_FAILURE, &p)) !=
	        0 ||
	    (r = buf_put_cstring(p, methods)) != 0 ||
	    (r = buf_put_bool(p, partial)) != 0)
		return r;
	return transport_packet_send(t);
}

static int
handle_service_request(
    struct userauth *ua, struct transport *t, struct buf *payload)
{
	struct buf *p;
	char *service = NULL;
	int r;

	if ((r = buf_get_cstring(payload, &service, NULL)) != 0 ||
	    (r = buf_end(payload)) != 0)
		goto out;
	/*
	 * As OpenSSH: ssh-userauth is accepted again until authentication
	 * succeeds; paramiko asks for it before every method it tries (a
	 * key, then keyboard-interactive for the second factor).
	 */
	if (strcmp(service, "ssh-userauth") != 0) {
		/* sshd's line and DISCONNECT (reason protocol error). */
		logit("Disconnecting %s port %d: bad service request %.255s",
		    transport_peer_addr(t), transport_peer_port(t), service);
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "bad service request %.255s", service);
		r = ERR_PROTOCOL;
		goto out;
	}
	ua->service_ok = 1;
	if ((r = transport_packet_begin(t, SSH2_MSG_SERVICE_ACCEPT, &p)) != 0 ||
	    (r = buf_put_cstring(p, service)) != 0 ||
	    (r = transport_packet_send(t)) != 0)
		goto out;
out:
	free(service);
	return r;
}

/* The number of prompts of an INFO_REQUEST (RFC 4256 s3.2) from the
 * monitor, after its message number. */
static int
info_request_prompts(const uint8_t *p, size_t len, uint32_t *n)
{
	struct buf *v;
	int r;

	if ((v = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_skip_string(v)) == 0 && (r = buf_skip_string(v)) == 0 &&
	    (r = buf_skip_string(v)) == 0)
		r = buf_get_u32(v, n);
	buf_free(v);
	return r;
}

/* Act on the monitor's IPC_AUTH_REPLY (to a request or a response). */
static int
apply_reply(struct userauth *ua, struct transport *t, struct buf *rep)
{
	const uint8_t *extra, *banner;
	size_t elen, blen;
	char *methods = NULL;
	uint32_t verdict;
	struct buf *p;
	int r;

	if ((r = buf_get_u32(rep, &verdict)) != 0 ||
	    (r = buf_get_cstring(rep, &methods, NULL)) != 0 ||
	    (r = buf_get_string_direct(rep, &extra, &elen)) != 0 ||
	    (r = buf_get_string_direct(rep, &banner, &blen)) != 0 ||
	    (r = buf_end(rep)) != 0)
		goto out;
	/* The Banner precedes the answer to the first request. */
	if (blen > 0 &&
	    ((r = transport_packet_begin(t, SSH2_MSG_USERAUTH_BANNER, &p)) !=
	            0 ||
	        (r = buf_put_string(p, banner, blen)) != 0 ||
	        (r = buf_put_cstring(p, "")) != 0 ||
	        (r = transport_packet_send(t)) != 0))
		goto out;
	ua->info_pending = 0;
	switch (verdict) {
	case AUTH_SUCCESS:
		if ((r = transport_packet_begin(
		         t, SSH2_MSG_USERAUTH_SUCCESS, &p)) != 0 ||
		    (r = transport_packet_send(t)) != 0)
			goto out;
		transport_set_authenticated(t);
		ua->authenticated = 1;
		break;
	case AUTH_CONTINUE:
		/* extra is the message to send: PK_OK or INFO_REQUEST (60). */
		if (elen < 1 || extra[0] != SSH2_MSG_USERAUTH_PK_OK) {
			r = ERR_PROTOCOL;
			goto out;
		}
		if (ua->last_was_kbdint &&
		    (r = info_request_prompts(
		         extra + 1, elen - 1, &ua->info_nreq)) != 0)
			goto out;
		if ((r = transport_packet_begin(t, extra[0], &p)) != 0 ||
		    (r = buf_put(p, extra + 1, elen - 1)) != 0 ||
		    (r = transport_packet_send(t)) != 0)
			goto out;
		ua->info_pending = ua->last_was_kbdint;
		break;
	case AUTH_FAILURE:
	case AUTH_PARTIAL:
		r = send_failure(t, methods, verdict == AUTH_PARTIAL);
		break;
	case AUTH_TOO_MANY:
		/* As sshd's ssh_packet_disconnect(): reason code 2. */
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "Too many authentication failures");
		r = ERR_LIMIT;
		break;
	default:
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR, "%s",
		    methods[0] ? methods : "authentication refused");
		r = ERR_PROTOCOL;
		break;
	}
out:
	free(methods);
	return r;
}

/* Send one IPC request to the monitor and act on its reply. */
static int
ask_monitor(struct userauth *ua, struct transport *t, int ipc_fd, uint8_t type,
    const struct buf *req)
{
	struct buf *rep;
	uint8_t rtype;
	int r;

	if ((rep = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = ipc_send(ipc_fd, type, req, -1)) != 0 ||
	    (r = ipc_recv(ipc_fd, &rtype, rep, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (rtype != IPC_AUTH_REPLY) {
		r = ERR_PROTOCOL;
		goto out;
	}
	r = apply_reply(ua, t, rep);
out:
	buf_free(rep);
	return r;
}

static int
handle_request(
    struct userauth *ua, struct transport *t, int ipc_fd, struct buf *payload)
{
	struct buf *req = NULL;
	const uint8_t *user, *service, *method;
	size_t ulen, slen, mlen;
	int r;

	if ((r = buf_get_string_direct(payload, &user, &ulen)) != 0 ||
	    (r = buf_get_string_direct(payload, &service, &slen)) != 0 ||
	    (r = buf_get_string_direct(payload, &method, &mlen)) != 0) {
		/* sshd's line (the monitor puts in the user it may know
		 * by now). */
		transport_log_fatal(t, "incomplete message");
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
		    "malformed userauth request");
		return ERR_PROTOCOL;
	}
	ua->requested = 1;
	/* C strings, each allowed one final NUL, which the monitor is not
	 * sent; a NUL elsewhere ends the connection as in sshd's dispatch. */
	if (buf_cstring_trim(user, &ulen) != 0 ||
	    buf_cstring_trim(service, &slen) != 0 ||
	    buf_cstring_trim(method, &mlen) != 0) {
		transport_log_fatal(t, "invalid format");
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		return ERR_PROTOCOL;
	}
	ua->last_was_kbdint = mlen == strlen("keyboard-interactive") &&
	    memcmp(method, "keyboard-interactive", mlen) == 0;
	/* The method's fields may hold a password: wiped when freed, and
	 * here if there is no memory to copy them. */
	if ((req = buf_new_secret(IPC_MAX_MESSAGE)) == NULL) {
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		return ERR_ALLOC;
	}
	/* The rest of the packet is the method's; the monitor parses it. */
	if ((r = buf_put_string(req, user, ulen)) == 0 &&
	    (r = buf_put_string(req, service, slen)) == 0 &&
	    (r = buf_put_string(req, method, mlen)) == 0 &&
	    (r = buf_put_string(req, buf_ptr(payload), buf_len(payload))) == 0)
		r = ask_monitor(ua, t, ipc_fd, IPC_AUTH_REQ, req);
	wipe(buf_mutable_ptr(payload), buf_len(payload));
	buf_free(req);
	return r;
}

/*
 * A message sshd's userauth has no handler for. Before the first request
 * it is its dispatch_protocol_error's (UNIMPLEMENTED); each request then
 * clears the handlers of what only an exchange in progress may send
 * (INFO_RESPONSE, and GSSAPI's EXCHANGE_COMPLETE, which sshd's Debian
 * build knows), and ssh_dispatch_run() ends the connection for one of
 * those: DISCONNECT 2 "protocol error: rcvd type T", and "Disconnected
 * from ..." (the monitor's line for ERR_DISCONNECTED).
 */
static int
unwanted(const struct userauth *ua, struct transport *t, uint8_t type)
{
	if (!ua->requested ||
	    (type != SSH2_MSG_USERAUTH_INFO_RESPONSE &&
	        type != SSH2_MSG_USERAUTH_GSSAPI_EXCHANGE_COMPLETE))
		return transport_send_unimplemented(t);
	transport_disconnect(t, SSH2_DISCONNECT_PROTOCOL_ERROR,
	    "protocol error: rcvd type %u", type);
	return ERR_DISCONNECTED;
}

/*
 * The client's INFO_RESPONSE checked as sshd's input_userauth_info_response
 * checks it, in its order and with its words; NULL if well formed. A
 * broken one is the client's fault: logged and the connection ends, as
 * sshd's fatal() (no DISCONNECT), before the monitor sees it.
 */
static const char *
info_response_fault(const struct userauth *ua, const struct buf *payload)
{
	struct buf v = *payload; /* a view: the answers are not copied */
	const uint8_t *s;
	size_t len;
	uint32_t n, i;

	if (buf_get_u32(&v, &n) != 0)
		return "parse packet: incomplete message";
	if (n != ua->info_nreq)
		return "wrong number of replies";
	if (n > 100)
		return "too many replies";
	for (i = 0; i < n; i++) {
		if (buf_get_string_direct(&v, &s, &len) != 0)
			return "parse response: incomplete message";
		if (buf_cstring_trim(s, &len) != 0)
			return "parse response: invalid format";
	}
	if (buf_end(&v) != 0)
		return "parse packet: unexpected bytes remain after decoding";
	return NULL;
}

/* keyboard-interactive: relay the client's answers to the monitor. */
static int
handle_info_response(
    struct userauth *ua, struct transport *t, int ipc_fd, struct buf *payload)
{
	struct buf *req;
	const char *fault;
	int r;

	if (!ua->info_pending) {
		/* Answers nobody asked for may still be a password. */
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		return unwanted(ua, t, SSH2_MSG_USERAUTH_INFO_RESPONSE);
	}
	if ((fault = info_response_fault(ua, payload)) != NULL) {
		log_msg(LL_FATAL, NULL, 0, "input_userauth_info_response: %s",
		    fault);
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		return ERR_PROTOCOL;
	}
	if ((req = buf_new_secret(IPC_MAX_MESSAGE)) == NULL) {
		wipe(buf_mutable_ptr(payload), buf_len(payload));
		return ERR_ALLOC;
	}
	if ((r = buf_put_string(req, buf_ptr(payload), buf_len(payload))) == 0)
		r = ask_monitor(ua, t, ipc_fd, IPC_AUTH_RESPONSE, req);
	wipe(buf_mutable_ptr(payload), buf_len(payload));
	buf_free(req);
	return r;
}

int
userauth_dispatch(struct userauth *ua, struct transport *t, int ipc_fd,
    uint8_t type, struct buf *payload)
{
	switch (type) {
	case SSH2_MSG_SERVICE_REQUEST:
		return handle_service_request(ua, t, payload);
	case SSH2_MSG_USERAUTH_REQUEST:
		if (!ua->service_ok) {
			/* Not acted on, but its fields may hold a password. */
			wipe(buf_mutable_ptr(payload), buf_len(payload));
			break;
		}
		return handle_request(ua, t, ipc_fd, payload);
	case SSH2_MSG_USERAUTH_INFO_RESPONSE:
		return handle_info_response(ua, t, ipc_fd, payload);
	case SSH2_MSG_EXT_INFO:
	case SSH2_MSG_PING:
		return 0; /* nothing we act on before authentication */
	}
	/* As OpenSSH's dispatch_protocol_error: answer and carry on. */
	debug("userauth: unexpected message type %u", type);
	return unwanted(ua, t, type);
}
