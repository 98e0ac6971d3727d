#!/bin/sh
# build.sh: build $BUILD/tests/postern-sftp-stdio, the SFTP engine of
# $BUILD/libsession.a as a stdin/stdout program (an sshd Subsystem), for
# the integration tests that drive it with the real OpenSSH client.
# Run after make has built $BUILD/libsession.a and $BUILD/liblib.a.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
WARN="-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
-Wstrict-prototypes -Wmissing-prototypes"
SAN=""
# An ASan build's archives need the sanitizer runtime at link time.
if nm "$BUILD/libsession.a" 2>/dev/null | grep -q __asan_; then
	SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
mkdir -p "$BUILD/tests"
# shellcheck disable=SC2086 # WARN and SAN are word lists
$CC -std=gnu11 -D_GNU_SOURCE -O2 -g $WARN $SAN -I. -Ilib \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie \
	-Wl,-z,relro,-z,now \
	-o "$BUILD/tests/postern-sftp-stdio" tests/sftp/postern_sftp_stdio.c \
	"$BUILD/libsession.a" "$BUILD/liblib.a" -lcrypto -lz
