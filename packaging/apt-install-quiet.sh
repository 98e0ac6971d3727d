#!/bin/sh
# apt-install-quiet.sh PKG...: install Debian packages for the build and
# tests without starting any service they ship (openssh-server would start
# an sshd on port 22): a temporary policy-rc.d refuses service starts.
set -eu
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
	saved=$(mktemp)
	cp -p "$policy" "$saved"
fi
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 0755 "$policy"
cleanup() {
	if [ -n "$saved" ]; then
		mv -f "$saved" "$policy"
	else
		rm -f "$policy"
	fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "$@" >/dev/null
mkdir -p /run/sshd
