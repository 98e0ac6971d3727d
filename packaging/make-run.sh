#!/bin/sh
# make-run.sh: start the build-tree server in the foreground on
# 127.0.0.1:2222 with host keys and a config under run/ (created if missing).
# POSTERN_RUN_PORT puts a newly written config on another port (the tests
# use it; an existing run/sshd_config is left as it is).
set -eu
BUILD=${BUILD:-build}
port=${POSTERN_RUN_PORT:-2222}
top=$(pwd)
run="$top/run"
mkdir -p "$run"
chmod 0755 "$run"

if [ "$(id -u)" = 0 ] && ! getent passwd postern >/dev/null; then
	echo "make run: creating privilege separation user postern"
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin postern
fi
# The host keys that are missing: ed25519, ECDSA P-256, RSA 3072.
"$BUILD/postern-keygen" -d "$run"
if [ ! -f "$run/sshd_config" ]; then
	echo "make run: writing $run/sshd_config"
	cat >"$run/sshd_config" <<CONF
# Created by 'make run'. Edit freely; it is not overwritten.
Port $port
ListenAddress 127.0.0.1
HostKey $run/ssh_host_ed25519_key
HostKey $run/ssh_host_rsa_key
# As without HostKey lines, the ECDSA key is made but not served (ssh-audit
# fails the NIST curves); uncomment to offer it to clients that want it.
#HostKey $run/ssh_host_ecdsa_key
PidFile $run/posternd.pid
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
StrictModes yes
LogLevel INFO
CONF
fi
port=$(sed -n 's/^Port[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' "$run/sshd_config" | head -n 1)
echo "make run: connect with: ssh -p ${port:-22} $(id -un)@127.0.0.1"
exec "$BUILD/posternd" -D -e -f "$run/sshd_config"
