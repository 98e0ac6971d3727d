#!/bin/sh
# run-checks.sh: run the unit tests and the integration suite, print one
# summary line "N passed, M failed", exit non-zero on any failure.
BUILD=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== unit: $(basename "$t")"
	if ! "$t" >>"$log" 2>&1; then
		status=1
		# A crash prints no "not ok": count it as a failure of its own.
		echo "not ok - $(basename "$t") exited non-zero" >>"$log"
	fi
done
grep '^not ok' "$log" || true

# Formatting is mechanical: every C file must be as .clang-format has it.
echo "== format"
for f in $(git ls-files '*.c' '*.h' 2>/dev/null); do
	if clang-format "$f" | cmp -s - "$f"; then
		echo "ok - clang-format: $f" >>"$log"
	else
		echo "not ok - clang-format: $f (run make format)" | tee -a "$log"
	fi
done

echo "== integration"
# The pipe's status is tee's: run.py's own goes through a file, so that a
# suite that cannot even start (an import error) fails the run.
rcfile=$(mktemp)
trap 'rm -f "$log" "$rcfile"' EXIT
echo 1 >"$rcfile"
{
	BUILD="$BUILD" python3 tests/integration/run.py ${INTEGRATION_ARGS:-}
	echo $? >"$rcfile"
} | tee -a "$log"
if [ "$(cat "$rcfile")" != 0 ]; then
	echo "not ok - integration suite exited $(cat "$rcfile")" | tee -a "$log"
	status=1
fi

passed=$(grep -c '^ok - ' "$log")
failed=$(grep -c '^not ok - ' "$log")
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$status" -ne 0 ]; then
	exit 1
fi
exit 0
