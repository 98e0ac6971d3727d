#!/bin/sh
# run-one.sh TARGET: fuzz one libFuzzer binary for FUZZ_SECONDS on its
# corpus (FUZZ_BUILD/corpus/NAME, seeded from tests/fuzz/seeds/NAME); on a
# crash print the end of its log, write FUZZ_BUILD/NAME.failed (the
# sanitizer's or harness's own lines, the first frames, and the input in
# base64 when it is small, so that a CI log that keeps only its last lines
# still shows how to reproduce it) and exit 1. make fuzz-check runs
# FUZZ_JOBS of these at a time and prints every .failed file at the end.
set -eu
t=$1
name=$(basename "$t")
corpus=$FUZZ_BUILD/corpus/$name
log=$FUZZ_BUILD/$name.log
mkdir -p "$corpus"
rm -f "$FUZZ_BUILD/$name.failed"
if [ -d "tests/fuzz/seeds/$name" ]; then
	cp -n "tests/fuzz/seeds/$name"/* "$corpus/" 2>/dev/null || true
fi
echo "== fuzz: $name for ${FUZZ_SECONDS}s"
if ! "$t" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 \
	-artifact_prefix="$FUZZ_BUILD/$name-" -print_final_stats=1 \
	"$corpus" 2>"$log"; then
	tail -n 60 "$log"
	{
		echo "fuzz: $name failed:"
		grep -E '^(==[0-9]+== ?ERROR|SUMMARY|fuzz_[a-z_]+:|.*runtime error)' \
			"$log" | head -n 5 || true
		grep -E '^ +#[0-9]+ ' "$log" | head -n 8 || true
		for a in "$FUZZ_BUILD/$name"-*; do
			[ -f "$a" ] || continue
			echo "input $a ($(wc -c < "$a") bytes)"
			if [ "$(wc -c < "$a")" -le 4096 ]; then
				base64 -w 0 "$a"
				echo
			fi
		done
	} > "$FUZZ_BUILD/$name.failed"
	exit 1
fi
echo "$name: $(grep -E '^stat::number_of_executed_units' "$log" || true)"
