#!/bin/sh
# make-deb.sh: a Debian package of the build tree (`make deb`). The files
# are what `make install` installs (posternd and postern-keygen in
# /usr/sbin, the helpers and modules in /usr/lib/postern, the systemd
# units), plus the docs and the example sshd_config.d snippets and audit
# rules under /usr/share/doc/postern. The maintainer scripts add the
# privilege separation user and any missing host key, and never enable or
# start the service: it listens on sshd's port (README.md).
#
# Usage: packaging/make-deb.sh [OUTDIR]   (BUILD: a finished build tree,
# default build; OUTDIR: where the .deb goes, default $BUILD). Prints its
# path.
set -eu
BUILD=${BUILD:-build}
out=${1:-$BUILD}
top=$(pwd)

version=$(sed -n 's/^#define POSTERN_VERSION "postern_\(.*\)"$/\1/p' \
	monitor/monitor.h)
[ -n "$version" ] || { echo "make-deb: no POSTERN_VERSION" >&2; exit 1; }
arch=$(dpkg --print-architecture)
mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/postern-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

# The finished build as `make install` installs it (nothing is rebuilt).
for f in posternd postern-keygen postern-preauth postern-session; do
	[ -x "$BUILD/$f" ] || { echo "make-deb: no $BUILD/$f: build first" >&2; exit 1; }
done
make -s install-files BUILD="$BUILD" DESTDIR="$root" >/dev/null
doc="$root/usr/share/doc/postern"
install -d "$doc/examples/sshd_config.d" "$doc/examples/audit"
install -m 0644 README.md "$doc/README.md"
install -m 0644 docs/*.md "$doc/"
install -m 0644 packaging/sshd_config.d/*.conf "$doc/examples/sshd_config.d/"
install -m 0644 packaging/audit/postern.rules "$doc/examples/audit/"
cat >"$doc/copyright" <<'EOF'
postern: a privilege-separated SSH server. The copyright and licence of
the source are those of the project's repository.
EOF

# Depends: the package of every shared library the binaries and modules
# need (as dpkg-shlibdeps would find them, without its versions).
libs=$(for f in "$root"/usr/sbin/* "$root"/usr/lib/postern/postern-* \
	"$root"/usr/lib/postern/modules/*.so; do
	objdump -p "$f" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }'
done | sort -u)
pkgs=$(for soname in $libs; do
	owner=$(dpkg -S "*/$soname" 2>/dev/null |
		awk -F': ' -v a=":$arch" 'index($1, a) || !index($1, ":") { print $1; exit }')
	[ -n "$owner" ] || { echo "make-deb: no package has $soname" >&2; exit 1; }
	echo "$owner"
done | sed 's/:.*//; s/,.*//' | sort -u)
depends=$(echo $pkgs passwd | tr ' ' '\n' | sort -u | paste -sd, - |
	sed 's/,/, /g')
size=$(du -sk "$root" | cut -f1)

install -d "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: postern
Version: $version
Architecture: $arch
Maintainer: postern developers <postern@localhost>
Installed-Size: $size
Depends: $depends
Recommends: openssh-server, openssh-sftp-server, openssh-client
Suggests: auditd, libpam-oath, rsync, python3
Section: net
Priority: optional
Homepage: https://localhost/postern
Description: privilege-separated SSH server, a drop-in for OpenSSH's sshd
 postern reads sshd_config and sshd_config.d snippets, authorized_keys
 files and command lines as OpenSSH's sshd does, and logs the lines
 fail2ban and sshguard read. It adds a smaller trusted core, auth methods
 as loadable modules, native TOTP two-factor logins and an audit trail of
 every authentication decision.
EOF
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# postern postinst: the privilege separation user and any missing host
# key; the service is neither enabled nor started (it takes port 22). On
# an upgrade, a running listener is reloaded: it re-executes the new
# posternd, which each new connection's processes then match (an old
# listener would start the new per-connection binaries).
set -e
if [ "$1" = configure ]; then
	if ! getent passwd postern >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin postern
	fi
	mkdir -p /etc/ssh
	/usr/sbin/postern-keygen -d /etc/ssh
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
		if [ -n "$2" ]; then
			systemctl try-reload-or-restart postern.service || true
		fi
	fi
fi
exit 0
EOF
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# postern prerm: on removal, the service stops, as openssh-server's prerm
# stops ssh.service: a listener left running without its helpers and
# modules would hold port 22 and refuse every login. With KillMode=process
# open connections carry on. Not on an upgrade: postinst reloads then.
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop postern.socket postern.service || true
fi
exit 0
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# postern postrm: systemd forgets the units; a purge also removes the
# links `systemctl enable` made, which now point at nothing (the
# sshd.service alias only if it is postern's). The user and the host keys
# stay (openssh-server may use the keys; files a user owned may remain).
set -e
if [ "$1" = purge ]; then
	etc=/etc/systemd/system
	rm -f "$etc/multi-user.target.wants/postern.service" \
		"$etc/sockets.target.wants/postern.socket"
	case $(readlink "$etc/sshd.service" 2>/dev/null || true) in
	*/postern.service) rm -f "$etc/sshd.service" ;;
	esac
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

deb="$out/postern_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
