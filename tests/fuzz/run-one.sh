#!/bin/sh
# run-one.sh TARGET: fuzz one libFuzzer binary for FUZZ_SECONDS on its
# corpus (FUZZ_BUILD/corpus/NAME, seeded from tests/fuzz/seeds/NAME); on a
# crash print the end of its log and exit 1. make fuzz-check runs
# FUZZ_JOBS of these at a time.
set -eu
t=$1
name=$(basename "$t")
corpus=$FUZZ_BUILD/corpus/$name
mkdir -p "$corpus"
if [ -d "tests/fuzz/seeds/$name" ]; then
	cp -n "tests/fuzz/seeds/$name"/* "$corpus/" 2>/dev/null || true
fi
echo "== fuzz: $name for ${FUZZ_SECONDS}s"
if ! "$t" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 \
	-artifact_prefix="$FUZZ_BUILD/$name-" -print_final_stats=1 \
	"$corpus" 2>"$FUZZ_BUILD/$name.log"; then
	tail -n 60 "$FUZZ_BUILD/$name.log"
	echo "fuzz: $name failed, see $FUZZ_BUILD/$name-*"
	exit 1
fi
echo "$name: $(grep -E '^stat::number_of_executed_units' \
	"$FUZZ_BUILD/$name.log" || true)"
