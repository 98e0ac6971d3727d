#!/bin/sh
# make bench: every bench/bench_*.py in order. Each prints its own table of
# postern against OpenSSH's sshd on this machine. BENCH=NAME runs only
# bench/bench_NAME.py.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "make bench must run as root" >&2
	exit 1
fi
for b in bench/bench_*.py; do
	name=$(basename "$b" .py)
	name=${name#bench_}
	if [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ]; then
		continue
	fi
	echo "### bench: $name"
	python3 "$b"
done
