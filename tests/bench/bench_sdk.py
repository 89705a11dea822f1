#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SDK log-call latency vs spdlog async, and drops at a sustained rate.

Runs SDK_ROUNDS rounds (the machine is shared and noisy, so the peers are
compared within the same round, and every figure is judged on its median over
the rounds, with the rounds' spread printed beside it). A round is: plume log
1 thread, spdlog 1 thread, plume log 2 threads, spdlog 2 threads, plume
breadcrumb 1 thread, each CALLS calls per thread paced at RATE per thread
(the peers alternate, so that a slow spell of the machine hits both). The
spdlog/plume ratio is taken per round (the same machine state) and its median
reported. Then, once, the sustained mode: plume log, 1 thread, SUSTAINED_RATE
calls/s for SUSTAINED_SECONDS s with the default ring size.
Each plume run gets a fresh bench_receiver (port 0; its port is read from its
first line) and a fresh data_dir, and its counters are checked against the
receiver's totals (printed on SIGTERM): the receiver refused nothing, it got
exactly what the SDK counts as delivered, delivered == events, nothing lost
after the ring, and events == logged calls - ring drops + the SDK's own events
(the "dropped N" reports), the last never negative. spdlog runs check that the
file holds every line. Missing a target is reported, not a failure: the exit
status is non-zero only when a run fails (crash, timeout, refused requests,
inconsistent counts).

Environment: SDK_ROUNDS (default 5), SDK_CALLS (per thread, default 1000000),
SDK_RATE (calls/s per thread for the latency runs, default 1000000; 0 =
unpaced), SDK_BREADCRUMB_RATE (default SDK_RATE), SUSTAINED_RATE (default
1000000), SUSTAINED_SECONDS (default 5).
Usage: bench_sdk.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
from statistics import median

from bench_receiver_proc import start_receiver, stop_receiver

# Targets from issue 3 (this machine).
TARGET_P50_NS = 25
TARGET_P999_NS = 300
TARGET_RATIO = 10.0
TARGET_CRUMB_P50_NS = 30


def env_int(name, default):
    v = os.environ.get(name, "")
    if not v:
        return default
    try:
        n = int(v.replace("_", ""))
    except ValueError:
        sys.exit("%s=%r is not an integer" % (name, v))
    if n < 0:
        sys.exit("%s=%r must not be negative" % (name, v))
    return n


def parse_result(out, prefix):
    """The key=value pairs of the line of `out` starting with `prefix`, the
    values as int/float with units (ns, M/s, /s/thread) stripped; None if
    there is no such line."""
    for line in out.splitlines():
        if not line.startswith(prefix + " "):
            continue
        res = {"line": line}
        for tok in line[len(prefix):].split():
            if "=" not in tok:
                continue
            k, v = tok.split("=", 1)
            num = v
            for unit in ("/s/thread", "M/s", "ns"):
                if num.endswith(unit):
                    num = num[: -len(unit)]
                    break
            try:
                res[k] = int(num)
            except ValueError:
                try:
                    res[k] = float(num)
                except ValueError:
                    res[k] = v
        return res
    return None


def discard(path):
    """Removes a run's directory as soon as the run is checked. A run leaves
    up to ~150 MB (spdlog's file; the SDK's outbox), written but not yet on
    disk: kept, it would be written back ~30 s later (the kernel's
    dirty_expire), in the middle of a later round, where the disk I/O slows
    the SDK's outbox writes and the timed calls. Removed, it never is."""
    shutil.rmtree(path, ignore_errors=True)


class Bench:
    def __init__(self, build, tmp):
        self.build = build
        self.tmp = tmp
        self.failures = []
        self.timing_printed = set()

    def fail(self, what, why):
        msg = "%s: %s" % (what, why)
        print("FAILED " + msg, flush=True)
        self.failures.append(msg)

    def run(self, what, argv, timeout):
        """Runs a harness; returns its stdout, or None (failure recorded)."""
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(what, "did not finish within %d s" % timeout)
            return None
        except OSError as e:
            self.fail(what, "cannot run %s: %s" % (argv[0], e))
            return None
        for line in p.stdout.splitlines():
            # the timing line once per harness, the result lines always
            if " timing: " in line:
                who = line.split()[0]
                if who in self.timing_printed:
                    continue
                self.timing_printed.add(who)
            print(line, flush=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-3000:])
            self.fail(what, "exited with status %d%s" % (
                p.returncode, " (signal %d)" % -p.returncode if p.returncode < 0 else ""))
            return None
        return p.stdout

    def plume(self, mode, threads, calls, rate, label=""):
        """One bench_sdk_latency run against a fresh receiver; returns the
        parsed result with the receiver's totals and the SDK's own events
        added, or None."""
        what = "%splume %s threads=%d" % (label, mode, threads)
        exe = os.path.join(self.build, "tests", "bench", "bench_sdk_latency")
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        try:
            recv, port = start_receiver(self.build)
        except RuntimeError as e:
            self.fail(what, str(e))
            return None
        try:
            timeout = 120 + (calls // rate * 3 if rate else calls // 1000000)
            out = self.run(what, [exe, "http://127.0.0.1:%d" % port, data_dir, mode,
                                  str(threads), str(calls), str(rate)], timeout)
        finally:
            totals = stop_receiver(recv)
            discard(data_dir)
        if out is None:
            return None
        r = parse_result(out, "plume " + mode)
        if r is None:
            self.fail(what, "printed no result line")
            return None
        if totals is None:
            self.fail(what, "bench_receiver printed no totals line (status %s)"
                      % recv.returncode)
            return None
        r["receiver"] = totals
        # What the worker should have turned into events: the log calls the
        # rings took (breadcrumbs are not events of their own).
        taken = r["calls"] + r["warmup"] - r["dropped"] if mode == "log" else 0
        r["own"] = r["events"] - taken
        problems = []
        if r["flush"] != "ok":
            problems.append("plume_flush: %s" % r["flush"])
        if totals["rejected"]:
            problems.append("the receiver rejected %d requests" % totals["rejected"])
        if totals["events"] != r["delivered"]:
            problems.append("the receiver got %d events, the SDK says it delivered %d"
                            % (totals["events"], r["delivered"]))
        if r["delivered"] != r["events"]:
            problems.append("delivered %d != events %d" % (r["delivered"], r["events"]))
        if r["dropped_other"]:
            problems.append("%d events lost after the ring" % r["dropped_other"])
        if r["not_running"]:
            problems.append("%d calls while not running" % r["not_running"])
        if r["own"] < 0:
            problems.append("events %d < calls taken by the rings %d" % (r["events"], taken))
        for p in problems:
            self.fail(what, p)
        return None if problems else r

    def spdlog(self, threads, calls, rate, label=""):
        what = "%sspdlog threads=%d" % (label, threads)
        exe = os.path.join(self.build, "tests", "bench", "bench_spdlog")
        if not os.path.exists(exe):
            print("(spdlog: %s not built: libspdlog-dev missing? skipped)" % exe)
            return None
        d = tempfile.mkdtemp(prefix="spdlog-", dir=self.tmp)
        timeout = 120 + (calls // rate * 3 if rate else calls // 100000)
        try:
            out = self.run(what, [exe, d, str(threads), str(calls), str(rate)], timeout)
        finally:
            discard(d)  # the harness has counted the file's lines
        if out is None:
            return None
        r = parse_result(out, "spdlog log")
        if r is None:
            self.fail(what, "printed no result line")
            return None
        want = r["calls"] + r["warmup"]
        if r["delivered"] != want or r["dropped"]:
            self.fail(what, "the file holds %d lines, expected %d (dropped=%d)"
                      % (r["delivered"], want, r["dropped"]))
            return None
        return r


def verdict(ok):
    return "met" if ok else "MISSED"


def ratio(a, b):
    return a / b if b else float("inf")


def spread(values, fmt):
    """' (rounds LO-HI)' for more than one value, else ''."""
    if len(values) < 2:
        return ""
    return " (rounds %s-%s)" % (fmt % min(values), fmt % max(values))


class Figure:
    """One figure of one kind of run over the rounds that produced it."""

    def __init__(self, runs, key):
        self.values = [r[key] for r in runs]
        self.med = median(self.values) if self.values else None

    def text(self, fmt="%d", unit=" ns"):
        # an even count's median of whole numbers may fall between two
        med_fmt = "%.1f" if fmt == "%d" and self.med != int(self.med) else fmt
        return (med_fmt % self.med) + unit + spread(self.values, fmt)


def summary(res, sustained, rate, s_rate, s_secs):
    rounds = res["rounds"]
    print("\n== summary (targets from issue 3), the median of %d round%s with the rounds'"
          " spread; percentiles are quantised to the TSC step printed in the timing line,"
          " mean99 is not" % (rounds, "s" if rounds != 1 else ""))

    def runs(key):
        return [r for r in res[key] if r]

    p1, p2, bc = runs("plume1"), runs("plume2"), runs("crumb")
    if p1:
        p50, p999 = Figure(p1, "p50"), Figure(p1, "p99.9")
        print("plume log, 1 thread, %d/s: p50 %s (target <= %d) %s; p99.9 %s (target <= %d)"
              " %s; p99 %s, mean99 %s, max %s"
              % (rate, p50.text(), TARGET_P50_NS, verdict(p50.med <= TARGET_P50_NS),
                 p999.text(), TARGET_P999_NS, verdict(p999.med <= TARGET_P999_NS),
                 Figure(p1, "p99").text(), Figure(p1, "mean99").text("%.1f"),
                 Figure(p1, "max").text()))
    if p2:
        print("plume log, 2 threads, %d/s each: p50 %s, p99 %s, p99.9 %s, mean99 %s,"
              " throughput %s"
              % (rate, Figure(p2, "p50").text(), Figure(p2, "p99").text(),
                 Figure(p2, "p99.9").text(), Figure(p2, "mean99").text("%.1f"),
                 Figure(p2, "throughput").text("%.3f", " M/s")))
    for n, pkey, skey in ((1, "plume1", "spdlog1"), (2, "plume2", "spdlog2")):
        # per round, the two peers side by side
        pairs = [(p, s) for p, s in zip(res[pkey], res[skey]) if p and s]
        if not pairs:
            continue
        r50 = [ratio(s["p50"], p["p50"]) for p, s in pairs]
        r99 = [ratio(s["mean99"], p["mean99"]) for p, s in pairs]
        line = "spdlog/plume p50, %d thread%s: %.1fx%s" % (
            n, "s" if n > 1 else "", median(r50), spread(r50, "%.1fx"))
        if n == 1:
            line += " (target >= %.0fx) %s" % (TARGET_RATIO, verdict(median(r50) >= TARGET_RATIO))
        spd = [s for _, s in pairs]
        line += "; spdlog p50 %s, p99.9 %s; mean99 ratio %.1fx%s" % (
            Figure(spd, "p50").text(), Figure(spd, "p99.9").text(), median(r99),
            spread(r99, "%.1fx"))
        print(line)
    if bc:
        p50 = Figure(bc, "p50")
        print("plume breadcrumb, 1 thread, %d/s: p50 %s (target <= %d) %s; p99 %s,"
              " p99.9 %s, mean99 %s"
              % (res["crumb_rate"], p50.text(), TARGET_CRUMB_P50_NS,
                 verdict(p50.med <= TARGET_CRUMB_P50_NS), Figure(bc, "p99").text(),
                 Figure(bc, "p99.9").text(), Figure(bc, "mean99").text("%.1f")))
    for key, label in (("plume1", "plume log 1 thread"), ("plume2", "plume log 2 threads"),
                       ("crumb", "plume breadcrumb")):
        for k, r in enumerate(res[key]):
            if r and r["dropped"]:
                print("  note: %s dropped %d calls (ring full) at its pace in round %d"
                      % (label, r["dropped"], k + 1))
    if sustained:
        r = sustained
        print("sustained %d calls/s for %d s, default ring: dropped %d (target 0) %s; "
              "delivered %d = calls %d + warm-up %d - dropped %d + SDK's own %d; "
              "receiver events %d; achieved %.3f M/s; p50 %d ns, p99.9 %d ns, max %d ns"
              % (s_rate, s_secs, r["dropped"], verdict(r["dropped"] == 0), r["delivered"],
                 r["calls"], r["warmup"], r["dropped"], r["own"], r["receiver"]["events"],
                 r["throughput"], r["p50"], r["p99.9"], r["max"]))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_sdk.py BUILD_DIR")
    build = os.path.abspath(sys.argv[1])
    rounds = env_int("SDK_ROUNDS", 5)
    calls = env_int("SDK_CALLS", 1000000)
    rate = env_int("SDK_RATE", 1000000)
    crumb_rate = env_int("SDK_BREADCRUMB_RATE", rate)
    s_rate = env_int("SUSTAINED_RATE", 1000000)
    s_secs = env_int("SUSTAINED_SECONDS", 5)
    if calls == 0:
        sys.exit("SDK_CALLS must be at least 1")
    if rounds == 0:
        sys.exit("SDK_ROUNDS must be at least 1")
    print("latency runs: %d round%s of %d calls per thread at %s calls/s per thread;"
          " sustained: %d/s for %d s"
          % (rounds, "s" if rounds != 1 else "", calls, rate if rate else "unpaced", s_rate,
             s_secs), flush=True)
    keys = ("plume1", "spdlog1", "plume2", "spdlog2", "crumb")
    res = {"crumb_rate": crumb_rate, "rounds": rounds}
    for key in keys:
        res[key] = []
    with tempfile.TemporaryDirectory(prefix="plume-bench-sdk-") as tmp:
        b = Bench(build, tmp)
        for k in range(rounds):
            print("-- round %d/%d" % (k + 1, rounds), flush=True)
            label = "round %d: " % (k + 1)
            res["plume1"].append(b.plume("log", 1, calls, rate, label))
            res["spdlog1"].append(b.spdlog(1, calls, rate, label))
            res["plume2"].append(b.plume("log", 2, calls, rate, label))
            res["spdlog2"].append(b.spdlog(2, calls, rate, label))
            res["crumb"].append(b.plume("breadcrumb", 1, calls, crumb_rate, label))
        sustained = None
        if s_rate and s_secs:
            print("-- sustained", flush=True)
            sustained = b.plume("log", 1, s_rate * s_secs, s_rate, label="sustained ")
        summary(res, sustained, rate, s_rate, s_secs)
        if b.failures:
            print("\n%d run(s) failed:" % len(b.failures))
            for f in b.failures:
                print("  " + f)
            sys.exit(1)


if __name__ == "__main__":
    main()
