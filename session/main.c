/*
 * postern-session: runs as the authenticated user from its first
 * instruction. Receives the transport state from the monitor, then serves
 * the connection protocol. It never sees a host private key: rekey
 * signatures are asked of the monitor.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "memtrim.h"
#include "authopts.h"
#include "fwdpolicy.h"
#include "proctitle.h"
#include "session.h"
#include "session_login.h"
#include "transport.h"

#define SESSION_SOCK_FD 3
#define SESSION_IPC_FD 4
#define MAX_HOSTKEYS IPC_HOSTKEY_ENTRIES_MAX /* monitor.h hostkeys.keys */

static int
sign_via_monitor(void *ctx, const char *alg, const uint8_t *hash,
    size_t hashlen, struct buf *sig)
{
	return ipc_sign_request(SESSION_IPC_FD, IPC_SESSION_SIGN_REQ,
	    IPC_SESSION_SIGN_REPLY, alg, hash, hashlen, sig);
}

static int
gex_via_monitor(void *ctx, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g)
{
	return ipc_gex_request(SESSION_IPC_FD, min, n, max, p, g);
}

int
main(int argc, char **argv)
{
	struct buf *b, *state;
	struct transport_params tp;
	struct transport_hostkey hks[MAX_HOSTKEYS];
	struct session_ctx ctx;
	struct transport *t = NULL;
	struct session_login login;
	char *user = NULL, *caddr = NULL, *saddr = NULL, *forced = NULL;
	char *version = NULL, *kex = NULL, *hkalgs = NULL, *ciphers = NULL;
	char *macs = NULL, *comp = NULL;
	struct authopts *opts = NULL;
	struct session_axl *axl = NULL;
	struct fwd_policy fwdp;
	char **pam_env = NULL, **ss_name = NULL, **ss_args = NULL;
	uint32_t npam = 0, nss = 0, permit_tty = 0;
	uint32_t cport, sport, maxsess, level, facility, to_stderr, debug, nhk;
	uint32_t i;
	uint8_t type;
	int r;

	/* Named and titled as OpenSSH's session: "sshd: user@notty". */
	proctitle_init(argc, argv);
	proctitle_name();
	signal(SIGPIPE, SIG_IGN);
	/*
	 * internal-sftp writes here: a write past the user's RLIMIT_FSIZE
	 * must fail (EFBIG, an sftp FAILURE), not end the connection with
	 * every channel. The user's programs get the default back
	 * (session_exec.c child_setup).
	 */
	signal(SIGXFSZ, SIG_IGN);
	/* Session keys live here: keep them out of core dumps. */
	prctl(PR_SET_DUMPABLE, 0);
	/* -e from the monitor: log to stderr from the first line on. */
	log_init(POSTERN_SYSLOG_IDENT, LL_INFO, LOG_AUTH,
	    argc > 1 && strcmp(argv[1], "-e") == 0);
	b = buf_new_secret(IPC_MAX_MESSAGE);
	state = buf_new_secret(IPC_MAX_MESSAGE);
	if (b == NULL || state == NULL)
		fatal("out of memory");
	if ((r = ipc_recv(SESSION_IPC_FD, &type, b, NULL, IPC_MAX_MESSAGE)) !=
	        0 ||
	    type != IPC_SESSION_INIT)
		fatal("session: no init message from monitor");
	if ((r = buf_get_stringb(b, state)) != 0 ||
	    (r = buf_get_cstring(b, &user, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &caddr, NULL)) != 0 ||
	    (r = buf_get_u32(b, &cport)) != 0 ||
	    (r = buf_get_cstring(b, &saddr, NULL)) != 0 ||
	    (r = buf_get_u32(b, &sport)) != 0 ||
	    (r = buf_get_cstring(b, &forced, NULL)) != 0 ||
	    (r = buf_get_u32(b, &maxsess)) != 0 ||
	    (r = buf_get_u32(b, &level)) != 0 ||
	    (r = buf_get_u32(b, &facility)) != 0 ||
	    (r = buf_get_u32(b, &to_stderr)) != 0 ||
	    (r = buf_get_u32(b, &debug)) != 0 ||
	    (r = buf_get_cstring(b, &version, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &kex, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &hkalgs, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ciphers, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &macs, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &comp, NULL)) != 0 ||
	    (r = buf_get_u32(b, &nhk)) != 0)
		fatal("session: bad init message: %s", err_str(r));
	if (debug > 1)
		fatal("session: bad init message: debug flag");
	if (nhk == 0 || nhk > MAX_HOSTKEYS)
		fatal("session: bad init message: host keys");
	memset(hks, 0, sizeof(hks));
	for (i = 0; i < nhk; i++) {
		uint8_t *blob;
		size_t len;
		char *alg;

		if ((r = buf_get_cstring(b, &alg, NULL)) != 0 ||
		    (r = buf_get_string(b, &blob, &len)) != 0)
			fatal("session: bad init message: %s", err_str(r));
		hks[i].alg = alg;
		hks[i].blob = blob;
		hks[i].bloblen = len;
	}
	{
		struct buf *ob = buf_new(IPC_MAX_MESSAGE);

		if (ob == NULL || buf_get_stringb(b, ob) != 0 ||
		    authopts_deserialize(ob, &opts) != 0)
			fatal("session: bad init message: options");
		buf_free(ob);
	}
	if ((r = buf_get_u32(b, &npam)) != 0 || npam > 1024)
		fatal("session: bad init message: PAM environment");
	if ((pam_env = calloc((size_t)npam + 1, sizeof(*pam_env))) == NULL)
		fatal("out of memory");
	for (i = 0; i < npam; i++)
		if ((r = buf_get_cstring(b, &pam_env[i], NULL)) != 0 ||
		    strchr(pam_env[i], '=') == NULL)
			fatal("session: bad init message: PAM environment");
	if ((r = buf_get_u32(b, &nss)) != 0 || nss > 1024)
		fatal("session: bad init message: subsystems");
	if ((ss_name = calloc((size_t)nss + 1, sizeof(*ss_name))) == NULL ||
	    (ss_args = calloc((size_t)nss + 1, sizeof(*ss_args))) == NULL)
		fatal("out of memory");
	for (i = 0; i < nss; i++)
		if ((r = buf_get_cstring(b, &ss_name[i], NULL)) != 0 ||
		    (r = buf_get_cstring(b, &ss_args[i], NULL)) != 0)
			fatal("session: bad init message: subsystems");
	if ((r = buf_get_u32(b, &permit_tty)) != 0)
		fatal("session: bad init message: PermitTTY");
	if ((r = session_axl_get(b, &axl)) != 0)
		fatal("session: bad init message: forwarding settings");
	memset(&tp, 0, sizeof(tp));
	if ((r = transport_rekey_get(b, &tp)) != 0)
		fatal("session: bad init message: RekeyLimit");
	{
		struct buf *fb = buf_new(IPC_MAX_MESSAGE);

		if (fb == NULL || buf_get_stringb(b, fb) != 0 ||
		    fwd_policy_deserialize(fb, &fwdp) != 0)
			fatal("session: bad init message: forwarding");
		buf_free(fb);
	}
	if (buf_end(b) != 0)
		fatal("session: bad init message: trailing data");
	log_init(POSTERN_SYSLOG_IDENT, (enum log_level)level, (int)facility,
	    (int)to_stderr);
	/* The transport fetches its cipher now, key exchange at rekey. */
	crypto_init_config();
	/* The passwd entry comes from the monitor: in a ChrootDirectory
	 * jail there is no /etc/passwd to read. */
	if ((r = session_login_recv(SESSION_IPC_FD, &login)) != 0)
		fatal("session: bad login message: %s", err_str(r));
	if (login.uid != getuid())
		fatal("session: user %s is not who we run as", user);
	proctitle_set("%s@notty", user);

	/* tp.rekey_* came with the init message. */
	tp.version = version;
	tp.kex_algs = kex;
	tp.hostkey_algs = hkalgs;
	tp.ciphers = ciphers;
	tp.macs = macs;
	tp.compression = comp;
	tp.hostkeys = hks;
	tp.nhostkeys = nhk;
	tp.sign = sign_via_monitor;
	tp.gex_group = gex_via_monitor;
	tp.peer_addr = caddr;
	tp.peer_port = (int)cport;
	tp.peer_user = user;
	if ((r = transport_import(SESSION_SOCK_FD, state, &tp, &t)) != 0)
		fatal("session: cannot import transport state: %s", err_str(r));
	buf_free(state);
	buf_free(b);

	memset(&ctx, 0, sizeof(ctx));
	ctx.t = t;
	ctx.monitor_fd = SESSION_IPC_FD;
	ctx.user = user;
	ctx.uid = login.uid;
	ctx.gid = login.gid;
	ctx.home = login.home;
	ctx.shell = login.shell;
	ctx.login = &login;
	session_login_auth_file(&login);
	/* As OpenSSH: ForceCommand wins over a key's command= option. */
	if (forced[0] != '\0') {
		ctx.forced_command = forced;
		ctx.forced_command_source = "(config)";
	} else if (opts->force_command != NULL) {
		ctx.forced_command = opts->force_command;
		ctx.forced_command_source = "(key-option)";
	}
	ctx.opts = opts;
	ctx.pam_env = pam_env;
	ctx.npam_env = npam;
	ctx.client_addr = caddr;
	ctx.client_port = (int)cport;
	ctx.server_addr = saddr;
	ctx.server_port = (int)sport;
	ctx.max_sessions = (int)maxsess;
	ctx.permit_tty = permit_tty != 0;
	ctx.debug = debug != 0;
	ctx.subsys_name = ss_name;
	ctx.subsys_args = ss_args;
	ctx.nsubsys = nss;
	ctx.hostkeys = hks;
	ctx.nhostkeys = nhk;
	ctx.axl = axl;
	ctx.fwd = &fwdp;
	mem_trim(); /* the hand-over's buffers and OpenSSL's set-up */
	r = session_run(&ctx);
	session_login_free(&login);
	transport_free(t);
	for (i = 0; i < nhk; i++) {
		free((char *)hks[i].alg);
		free((uint8_t *)hks[i].blob);
	}
	free(user);
	free(caddr);
	free(saddr);
	free(forced);
	authopts_free(opts);
	session_axl_free(axl);
	fwd_policy_free(&fwdp);
	free(ctx.tun_names);
	for (i = 0; i < npam; i++)
		free(pam_env[i]);
	free(pam_env);
	for (i = 0; i < nss; i++) {
		free(ss_name[i]);
		free(ss_args[i]);
	}
	free(ss_name);
	free(ss_args);
	free(version);
	free(kex);
	free(hkalgs);
	free(ciphers);
	free(macs);
	free(comp);
	if (r != 0)
		return 1;
	return ctx.peer_closed ? SESSION_EXIT_CLOSED : 0;
}
