#!/usr/bin/env python3
"""
run.py: postern's integration suite, driving the real OpenSSH client.

    python3 tests/integration/run.py [--server PATH] [-k SUBSTRING]... [-j N]

Run as root. Discovers tests/integration/test_*.py and the functions named
test_* in them; each gets a harness.Context with its own server instance.
Prints "ok - NAME" or "not ok - NAME" (plus indented diagnostics) per test,
then "N passed, M failed"; exits 1 on any failure.
"""

import argparse
import concurrent.futures
import importlib.util
import inspect
import os
import re
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

DEFAULT_TIMEOUT = 60
# At most this much waiting for a shared turn (Context.take_turn) extends a
# test's limit: a turn never given back still ends in a timeout.
MAX_WAIT = 900


def discover():
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        modname = fn[:-3]
        spec = importlib.util.spec_from_file_location(modname,
                                                      os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        funcs = [f for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f)
                 and f.__module__ == modname]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in funcs:
            tests.append((f.__name__[len("test_"):], f))
    return tests


SANITIZER_REPORT = re.compile(
    r"ERROR: (?:Address|Leak|Memory)Sanitizer|runtime error: ")


def run_one(suite, name, fn):
    """Run one test with its timeout. Returns (ok, diagnostic lines)."""
    limit = getattr(fn, "timeout", DEFAULT_TIMEOUT)
    diag = []
    try:
        ctx = harness.Context(suite, name)
    except Exception as e:
        return False, ["fixture setup failed: %s" % e] + harness.format_exc()
    outcome = {}

    def body():
        try:
            fn(ctx)
            outcome["ok"] = True
        except harness.TestFailure as e:
            outcome["ok"] = False
            outcome["msg"] = str(e).splitlines() or ["assertion failed"]
        except BaseException:
            outcome["ok"] = False
            outcome["msg"] = ["unexpected exception:"] + harness.format_exc()

    t = threading.Thread(target=body, name="test-" + name, daemon=True)
    start = time.monotonic()
    t.start()
    # The limit counts the test's own time: waiting its turn for what
    # tests share (ctx.take_turn: /dev/log) is added to it, up to
    # MAX_WAIT, so a test queued behind long ones is not timed out.
    while t.is_alive():
        waited = min(ctx.time_waited(), MAX_WAIT)
        left = start + limit + waited - time.monotonic()
        if left <= 0:
            break
        t.join(min(left, 1.0))
    if t.is_alive():
        diag.append("timed out after %ss (plus %.0fs waiting its turn)"
                    % (limit, waited))
        ctx.abort()
        t.join(10)
        if t.is_alive():
            diag.append("(test thread still blocked after abort)")
        ok = False
    else:
        ok = outcome.get("ok", False)
        if not ok:
            diag += outcome.get("msg", ["no result"])
    if not ok:
        diag.append("(after %.1fs)" % (time.monotonic() - start))
        try:
            diag += ctx.diagnostics()
        except Exception as e:
            diag.append("diagnostics failed: %s" % e)
    # Sanitizer builds (make asan): any report in the server log fails the
    # test. Stop the server first so exit-time leak checks have run.
    try:
        ctx.stop_server()
        log = ctx.server_log() or ""
        # A report the test caused on purpose (and checked) is left out:
        # every line of it names the process, "==PID==".
        for pid in ctx.expected_sanitizer_pids:
            log = re.sub(r"(?m)^==%d==.*\n?" % pid, "", log)
        report = SANITIZER_REPORT.search(log)
    except Exception as e:
        report = None
        diag.append("sanitizer check failed: %s" % e)
    if report:
        ok = False
        diag.append("sanitizer report in server log:")
        diag += ["  " + l for l in log[report.start():].splitlines()[:40]]
    errs = ctx.cleanup()
    if errs:
        ok = False
        diag += ["cleanup: " + e for e in errs]
    return ok, diag


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    build = os.environ.get("BUILD", "build")
    ap.add_argument("--server", default=os.path.join(build, "posternd"),
                    help="server binary (default $BUILD/posternd)")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                    help="run only tests whose name contains SUBSTRING "
                         "(repeatable)")
    ap.add_argument("-j", type=int, default=4, metavar="N",
                    help="tests run in parallel (default 4)")
    ap.add_argument("--keep", action="store_true",
                    help="keep temp dirs (for debugging)")
    ap.add_argument("--list", action="store_true", help="list tests and exit")
    args = ap.parse_args()
    # Servers start with SIGINT at its default, as from a terminal, even
    # when this runner was started with it ignored (a background job of a
    # non-interactive shell): posternd keeps an inherited SIG_IGN, as
    # sshd. A handler here is reset to the default across exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    tests = discover()
    if args.k:
        tests = [(n, f) for n, f in tests if any(k in n for k in args.k)]
    if args.list:
        for n, _ in tests:
            print(n)
        return 0
    if not tests:
        print("not ok - select")
        print("    no test name contains any of: %s" % ", ".join(args.k))
        print("0 passed, 1 failed")
        return 1

    suite = harness.Suite(args.server, keep=args.keep)
    suite.setup()
    out_lock = threading.Lock()
    results = {}

    times = {}

    def job(name, fn):
        t0 = time.monotonic()
        ok, diag = run_one(suite, name, fn)
        with out_lock:
            results[name] = ok
            times[name] = time.monotonic() - t0
            print(("ok - " if ok else "not ok - ") + name)
            for line in diag:
                print("    " + line)
            sys.stdout.flush()

    # The long test first so it overlaps with the others.
    order = sorted(tests, key=lambda t: -getattr(t[1], "timeout",
                                                 DEFAULT_TIMEOUT))
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.j)) as ex:
            futs = [ex.submit(job, n, f) for n, f in order]
            for f in futs:
                f.result()
    finally:
        suite.cleanup()
    passed = sum(1 for v in results.values() if v)
    failed = len(results) - passed
    # Where the time goes, for keeping the run short: the slowest tests
    # as TAP comments (setup and cleanup included).
    slow = sorted(times.items(), key=lambda kv: -kv[1])[:15]
    for name, secs in slow:
        print("# %6.1fs %s" % (secs, name))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
