#!/bin/sh
# smoke.sh: the real OpenSSH ssh-keygen enrols and signs with soft_sk.so,
# and its own verifier accepts the signatures. Prints "ok - ..." lines.
# shellcheck disable=SC2317 # helpers run through check()
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
SO=$(pwd)/$BUILD/tests/soft_sk.so
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failed=0

check() {
	name=$1
	shift
	if "$@" >"$dir/out" 2>&1; then
		echo "ok - soft_sk: $name"
	else
		echo "not ok - soft_sk: $name"
		sed 's/^/# /' "$dir/out"
		failed=1
	fi
}

enrol() { # type file [options...]
	t=$1 f=$2
	shift 2
	ssh-keygen -q -t "$t" -w "$SO" -N '' -C "$t@soft" -f "$f" "$@" </dev/null
}

sign() { # key [env...]
	k=$1
	shift
	rm -f "$dir/msg.sig"
	env SSH_SK_PROVIDER="$SO" "$@" ssh-keygen -Y sign -n test -f "$k" \
		"$dir/msg" </dev/null
}

verify() { # pubkey file-to-check
	printf 'signer@test %s\n' "$(cut -d' ' -f1,2 "$1")" >"$dir/allowed"
	ssh-keygen -Y verify -f "$dir/allowed" -I signer@test -n test \
		-s "$dir/msg.sig" <"$2"
}

refuses() { ! "$@"; }

counter_is() { [ "$(cat "$dir/ctr")" = "$1" ]; }

pub_type_is() { [ "$(cut -d' ' -f1 "$1")" = "$2" ]; }

[ -r "$SO" ] || { echo "not ok - soft_sk: $SO missing (tests/sk/build.sh)"; exit 1; }
echo "hello postern" >"$dir/msg"
echo "hello postern!" >"$dir/other"

check "ed25519-sk enrols" enrol ed25519-sk "$dir/ked"
check "ed25519-sk public key type" \
	pub_type_is "$dir/ked.pub" sk-ssh-ed25519@openssh.com
check "ecdsa-sk enrols" enrol ecdsa-sk "$dir/kec"
check "ecdsa-sk public key type" \
	pub_type_is "$dir/kec.pub" sk-ecdsa-sha2-nistp256@openssh.com
check "resident key refused" refuses enrol ed25519-sk "$dir/kres" -O resident

echo 41 >"$dir/ctr"
check "ed25519-sk signs" sign "$dir/ked" SOFT_SK_COUNTER="$dir/ctr"
check "counter file incremented" counter_is 42
check "ssh-keygen verifies ed25519-sk" verify "$dir/ked.pub" "$dir/msg"
check "ssh-keygen refuses other data" refuses verify "$dir/ked.pub" "$dir/other"
check "ecdsa-sk signs with UV" sign "$dir/kec" SOFT_SK_UV=1 \
	SOFT_SK_COUNTER="$dir/ctr"
check "counter file incremented again" counter_is 43
check "ssh-keygen verifies ecdsa-sk" verify "$dir/kec.pub" "$dir/msg"
check "other key's signature refused" refuses verify "$dir/ked.pub" "$dir/msg"
check "no-touch-required key enrols" \
	enrol ed25519-sk "$dir/knt" -O no-touch-required -O application=ssh:x
check "no-touch-required key signs" sign "$dir/knt"
check "ssh-keygen verifies it" verify "$dir/knt.pub" "$dir/msg"
exit $failed
