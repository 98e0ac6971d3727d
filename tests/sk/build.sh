#!/bin/sh
# build.sh: build the test authenticator $BUILD/tests/soft_sk.so, a
# SecurityKeyProvider for the OpenSSH client (ssh, ssh-keygen -w).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
WARN="-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
-Wstrict-prototypes -Wmissing-prototypes"
mkdir -p "$BUILD/tests"
# No sanitizer flags even in an asan build: the .so is dlopen'ed by the
# uninstrumented ssh and ssh-keygen, which cannot host the ASan runtime.
# shellcheck disable=SC2086 # WARN is a word list
$CC -std=gnu11 -D_GNU_SOURCE -O2 -g $WARN -I. -Ilib \
	-fPIC -shared -fvisibility=hidden -Wl,-z,relro,-z,now \
	-o "$BUILD/tests/soft_sk.so" tests/sk/soft_sk.c -lcrypto
