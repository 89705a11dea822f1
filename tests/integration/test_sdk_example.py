# SPDX-License-Identifier: MIT
"""Integration: the example service linked with libplume, delivering to the
local Axiom receiver (the SDK issue's acceptance test).

examples/service.c runs T worker threads of N requests each and logs one event
per request with the fields worker/request; request ids of worker w are
w*N .. w*N+N-1. Its last stdout line gives the SDK's counters. The receiver
checks every request strictly and hands each accepted request's events to a
Tally, which keeps per worker one byte per request id (how often it arrived),
so a million events cost a few MB. The test then checks that every event
arrived at most once, that what did not arrive is exactly what the SDK counted
as dropped because a ring was full, that the in-band "events dropped" warnings
do not claim more than that, that the receiver's count, the example's `events`
and `delivered` agree, and that every event carries the scope fields. A second
case answers 503 to the first requests and checks the retries duplicate
nothing and lose nothing.

The binary is $PLUME_EXAMPLE_SERVICE, else $PLUME_BINARY_DIR (set by ctest)/
plume-example-service, else <source>/build/plume-example-service.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from array import array
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_DIR, AxiomReceiver, parse_rfc3339  # noqa: E402

EXAMPLE = (os.environ.get("PLUME_EXAMPLE_SERVICE")
           or os.path.join(os.environ.get("PLUME_BINARY_DIR") or os.path.join(SOURCE_DIR, "build"),
                           "plume-example-service"))

# Measured on a 2-CPU VM: the 1M-event run takes 2-6 s and the 503 case 2-4 s,
# in the plain and the ASan+UBSan build alike (most events are dropped at the
# rings, so the receiver parses only 70k-210k); the deadline guards a hang.
RUN_TIMEOUT = 300

FINAL_LINE = re.compile(r"plume-example-service: events=(\d+) delivered=(\d+) "
                        r"dropped_ring_full=(\d+) dropped_other=(\d+) "
                        r"breadcrumbs_dropped=(\d+) shutdown=(\S+)\Z")
REQUEST_MESSAGES = {"request completed": "info", "slow request": "warn", "request failed": "error"}
DROPPED_PREFIX = "plume: events dropped"
PATHS = ("/api/orders", "/api/users", "/healthz", "/api/payments")
MAX_PROBLEMS = 20   # problems kept verbatim; the rest are only counted
MAX_BREADCRUMBS = 100  # the SDK's default max_breadcrumbs (the example keeps it)


def expected_request(rid):
    """(message, status or None, duration_ms or None, path) the example logs for
    request id `rid`; mirrors handle_request() in examples/service.c."""
    path = PATHS[rid % 4]
    status = 500 if rid % 97 == 0 else 404 if rid % 13 == 0 else 200
    ms = float(rid % 250) + 0.5
    if status == 500:
        return "request failed", 500, None, path
    if ms > 240:
        return "slow request", None, ms, path
    return "request completed", status, ms, path


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Tally:
    """What the receiver accepted, reduced as it arrives (called under the
    receiver's lock, so no lock of its own). Per worker: a bytearray counting
    arrivals of each request id (saturating at 255), an array of each id's
    _time in ns, and the thread ids its events carried. Also the drop warnings
    as (thread.id, dropped), the thread ids of the service started/stopping
    events, every event's _time range, and the problems found."""

    def __init__(self, requests, threads):
        self.n, self.threads = requests, threads
        self.seen = [bytearray(requests) for _ in range(threads)]
        self.times = [array("q", bytes(8 * requests)) for _ in range(threads)]
        self.worker_tids = [Counter() for _ in range(threads)]
        self.request_events = 0
        self.total = 0
        self.warnings = []
        self.started, self.stopping = [], []
        self.min_ns = self.max_ns = None
        self.problems = []
        self.problem_count = 0
        self.missing_crumb = []  # failed requests whose db breadcrumb is not attached
        self.crowded_out = 0     # ... because MAX_BREADCRUMBS newer ones of other threads came first

    def problem(self, text):
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def __call__(self, events):
        for ev in events:
            self.total += 1
            self.add(ev)

    def add(self, ev):
        tid = ev.get("thread.id")
        if not is_int(tid) or tid <= 0:
            self.problem("no integer thread.id: %r" % (ev,))
        rel = ev.get("release")
        if not isinstance(rel, str) or not rel.startswith("example-service@") or \
                len(rel) == len("example-service@"):
            self.problem("release %r: %r" % (rel, ev))
        if ev.get("environment") != "example":
            self.problem("environment %r: %r" % (ev.get("environment"), ev))
        t = parse_rfc3339(ev["_time"])  # the receiver checked it parses
        self.min_ns = t if self.min_ns is None else min(self.min_ns, t)
        self.max_ns = t if self.max_ns is None else max(self.max_ns, t)
        msg = ev.get("message")
        if msg in REQUEST_MESSAGES:
            self.add_request(ev, msg, tid, t)
        elif isinstance(msg, str) and msg.startswith(DROPPED_PREFIX):
            n = ev.get("dropped")
            if not is_int(n) or n <= 0:
                self.problem("drop warning without a positive dropped count: %r" % (ev,))
                n = 0
            if ev.get("level") != "warn":
                self.problem("drop warning at level %r" % (ev.get("level"),))
            self.warnings.append((tid, n))
        elif msg == "service started":
            self.started.append(tid)
            if ev.get("threads") != self.threads or ev.get("requests_per_thread") != self.n:
                self.problem("service started with fields %r" % (ev,))
        elif msg == "service stopping":
            self.stopping.append(tid)
        else:
            self.problem("unexpected event: %r" % (ev,))

    def other_worker_crumb(self, crumb, w):
        """True for a query breadcrumb of a worker other than w."""
        r = (crumb.get("data") or {}).get("request")
        return crumb.get("category") == "db" and is_int(r) and r // self.n != w

    def add_request(self, ev, msg, tid, t):
        w, rid = ev.get("worker"), ev.get("request")
        if not is_int(w) or not is_int(rid):
            self.problem("request event without integer worker/request: %r" % (ev,))
            return
        if not 0 <= w < self.threads:
            self.problem("worker %d out of range [0, %d): %r" % (w, self.threads, ev))
            return
        i = rid - w * self.n
        if not 0 <= i < self.n:
            self.problem("request %d is not in worker %d's range [%d, %d)"
                         % (rid, w, w * self.n, (w + 1) * self.n))
            return
        self.request_events += 1
        if self.seen[w][i] < 255:
            self.seen[w][i] += 1
        self.times[w][i] = t
        self.worker_tids[w][tid] += 1
        # The content must be the request's own: a record torn or mixed up in
        # a ring would show here.
        if ev.get("request_id") != rid:
            self.problem("request %d: request_id (the thread's scope) is %r" % (rid, ev.get("request_id")))
        if ev.get("tags") != {"service": "example-service"} or \
                (ev.get("contexts") or {}).get("app", {}).get("name") != "plume-example-service":
            self.problem("request %d: global scope missing: %r" % (rid, ev))
        if msg == "request failed":
            # Its own query's breadcrumb (same thread, just before) is there
            # unless a full ring refused it (noted here, judged in check_run
            # against the run's breadcrumb drops), or unless the other threads
            # left MAX_BREADCRUMBS breadcrumbs between the two calls: an error
            # carries the process's most recent ones stamped before it, so it
            # then carries exactly that many, none of them its own thread's.
            # That takes a thread held up between its two calls on a loaded
            # machine; seen once, for a thread's first request, whose
            # breadcrumb call attaches the thread (ring, signal stack, name)
            # after taking its stamp.
            crumbs = ev.get("breadcrumbs") or []
            if not any(c.get("category") == "db" and (c.get("data") or {}).get("request") == rid
                       for c in crumbs):
                if len(crumbs) == MAX_BREADCRUMBS and all(self.other_worker_crumb(c, w)
                                                          for c in crumbs):
                    self.crowded_out += 1
                else:
                    self.missing_crumb.append(rid)
            stamps = [c.get("timestamp") for c in crumbs]
            if stamps != sorted(stamps) or any(c.get("timestamp", "") > ev["_time"] for c in crumbs):
                self.problem("request %d: breadcrumbs out of order or after the error" % rid)
        elif "breadcrumbs" in ev:
            self.problem("request %d: breadcrumbs on a %s event" % (rid, ev.get("level")))
        want_msg, status, ms, path = expected_request(rid)
        if (msg, ev.get("level"), ev.get("path")) != (want_msg, REQUEST_MESSAGES[want_msg], path) or \
                (status is not None and ev.get("status") != status) or \
                (ms is not None and ev.get("duration_ms") != ms):
            self.problem("request %d: %r, expected %r" % (rid, ev, (want_msg, status, ms, path)))


class Run:
    """One finished run of the example: exit code, output, wall-clock window,
    parsed final line (None if missing), data dir left behind."""

    def __init__(self, returncode, stdout, stderr, wall0, wall1, elapsed, data_dir):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.wall0, self.wall1, self.elapsed, self.data_dir = wall0, wall1, elapsed, data_dir
        lines = stdout.strip().splitlines()
        m = FINAL_LINE.match(lines[-1]) if lines else None
        self.counts = None
        if m:
            self.counts = dict(zip(("events", "delivered", "dropped_ring_full", "dropped_other",
                                    "breadcrumbs_dropped"), map(int, m.groups()[:5])))
            self.counts["shutdown"] = m.group(6)

    def __str__(self):
        return "example exit %s after %.2fs\nstdout: %s\nstderr tail:\n%s" % (
            self.returncode, self.elapsed, self.stdout[-2000:], self.stderr[-3000:])


class SdkExampleTest(unittest.TestCase):
    def setUp(self):
        if not os.access(EXAMPLE, os.X_OK):
            self.fail("plume-example-service not found at %s (build it, or set "
                      "PLUME_EXAMPLE_SERVICE)" % EXAMPLE)
        self.tmp = tempfile.mkdtemp(prefix="plume-sdk-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start_receiver(self, **kw):
        rx = AxiomReceiver(path_style="legacy", **kw).start()
        self.addCleanup(rx.stop)
        return rx

    def run_example(self, rx, requests, threads, timeout=RUN_TIMEOUT):
        """Runs the example against `rx` with a fresh data dir; kills its
        process group and fails with its output past the deadline."""
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AXIOM_") and not k.startswith("PLUME_DATA")}
        env.update(AXIOM_URL=rx.url, AXIOM_TOKEN=rx.token, AXIOM_DATASET=rx.dataset,
                   PLUME_DATA_DIR=data_dir)
        wall0, t0 = time.time(), time.monotonic()
        proc = subprocess.Popen([EXAMPLE, str(requests), str(threads)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.tmp, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
            self.fail("plume-example-service did not exit within %ds (killed)\nstdout: %s\n"
                      "stderr tail:\n%s" % (timeout, out.decode(errors="replace")[-2000:],
                                            err.decode(errors="replace")[-3000:]))
        run = Run(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                  wall0, time.time(), time.monotonic() - t0, data_dir)
        sys.stderr.write("\n  %d x %d: %.2fs, %s\n" % (requests, threads, run.elapsed,
                                                     run.stdout.strip().splitlines()[-1:]))
        return run

    def check_reported_drops(self, w, seen, reported):
        """The drops worker `w`'s warnings report (`reported`) against the gaps
        in its request ids (`seen`, one count per id). At most every missing
        id is reported. At least every gap before the worker's last arrived
        request is: a record is written only after the pending "dropped N"
        warning, except when the warning does not fit and a smaller record
        does; then the count waits for the next warning, which a thread that
        ends soon after never writes. So the gap just before the last arrived
        request may go unreported; drops after it (the ring still full when
        the thread ended) need not be."""
        n = len(seen)
        missing = seen.count(0)
        self.assertLessEqual(reported, missing, "worker %d: warnings report %d drops but only %d "
                             "of its requests are missing" % (w, reported, missing))
        last = n - 1
        while last >= 0 and not seen[last]:
            last -= 1
        last_gap = 0
        while last - 1 - last_gap >= 0 and not seen[last - 1 - last_gap]:
            last_gap += 1
        interior = seen.count(0, 0, max(last, 0))
        self.assertGreaterEqual(reported, interior - last_gap,
                                "worker %d: %d requests are missing before its last arrived one "
                                "(%d), but its warnings report only %d drops"
                                % (w, interior, last, reported))

    def check_run(self, rx, tally, run):
        """Every assertion of the acceptance test on one finished run."""
        self.assertIsNotNone(run.counts, "no final counters line\n%s" % run)
        c = run.counts
        self.assertEqual(run.returncode, 0, str(run))
        self.assertEqual(c["shutdown"], "success", str(run))
        self.assertEqual(c["dropped_other"], 0, str(run))
        v = rx.violations
        self.assertEqual(v[:8], [], "%d requests/events the real service would refuse" % len(v))
        self.assertEqual(tally.problems, [], "%d events are wrong" % tally.problem_count)
        if c["breadcrumbs_dropped"] == 0 and c["dropped_ring_full"] == 0:
            self.assertEqual(tally.missing_crumb[:10], [],
                             "failed requests without their db breadcrumb, with nothing dropped")

        n, threads = tally.n, tally.threads
        dups = [(w, w * n + i, k) for w in range(threads)
                for i, k in enumerate(tally.seen[w]) if k > 1]
        self.assertEqual(dups[:20], [], "%d (worker, request) pairs arrived more than once "
                         "(worker, request, times)" % len(dups))
        arrived = [n - tally.seen[w].count(0) for w in range(threads)]
        self.assertEqual(sum(arrived), tally.request_events)
        self.assertEqual(tally.request_events + c["dropped_ring_full"], n * threads,
                         "request events that arrived + dropped_ring_full must be all requests; "
                         "per worker arrived %r\n%s" % (arrived, run))

        self.assertEqual(len(tally.started), 1, "service started arrived %d times" % len(tally.started))
        self.assertEqual(len(tally.stopping), 1, "service stopping arrived %d times" % len(tally.stopping))
        main_tid = tally.started[0]
        self.assertEqual(tally.stopping[0], main_tid, "started/stopping come from the main thread")

        # One thread per worker: all of a worker's events carry its thread.id,
        # and no two workers (nor the main thread) share one.
        worker_tid = {}
        for w in range(threads):
            tids = tally.worker_tids[w]
            self.assertLessEqual(len(tids), 1, "worker %d's events carry several thread ids %r" % (w, tids))
            if tids:
                worker_tid[next(iter(tids))] = w
        self.assertEqual(len(worker_tid), len([w for w in range(threads) if tally.worker_tids[w]]),
                         "two workers share a thread.id")
        self.assertNotIn(main_tid, worker_tid, "a worker's events carry the main thread's id")

        # Drop warnings: never more than was dropped, overall and per thread.
        reported = sum(d for _, d in tally.warnings)
        self.assertLessEqual(reported, c["dropped_ring_full"], "warnings %r" % tally.warnings[:20])
        per_tid = Counter()
        for tid, d in tally.warnings:
            self.assertNotEqual(tid, main_tid, "the main thread's ring never fills")
            per_tid[tid] += d
        unattributed = sum(d for tid, d in per_tid.items() if tid not in worker_tid)
        self.assertLessEqual(unattributed, sum(n - arrived[w] for w in range(threads)
                                               if not tally.worker_tids[w]),
                             "drop warnings from threads that are no worker: %r" % per_tid)
        for tid, w in worker_tid.items():
            self.check_reported_drops(w, tally.seen[w], per_tid[tid])

        # The receiver's count, the SDK's events and delivered agree, and
        # nothing else arrived.
        self.assertEqual(tally.total, c["events"], str(run))
        self.assertEqual(c["delivered"], c["events"], str(run))
        self.assertEqual(tally.total, tally.request_events + 2 + len(tally.warnings))

        # Times: inside the run's wall-clock window, and per worker in the
        # order the requests were logged (one thread, one ring, drained in
        # order; the calibration never steps back by more than 1 us).
        slack = 2_000_000_000
        self.assertGreaterEqual(tally.min_ns, int(run.wall0 * 1e9) - slack)
        self.assertLessEqual(tally.max_ns, int(run.wall1 * 1e9) + slack)
        for w in range(threads):
            seen, times = tally.seen[w], tally.times[w]
            prev = None
            for i in range(n):
                if seen[i]:
                    t = times[i]
                    if prev is not None and t < prev - 1000:
                        self.fail("worker %d: request %d has _time %d ns before request logged earlier"
                                  % (w, w * n + i, prev - t))
                    prev = t

        # Everything was delivered: nothing left in the outbox.
        outbox = os.path.join(run.data_dir, "outbox", "axiom")
        left = [f for f in (os.listdir(outbox) if os.path.isdir(outbox) else []) if f.endswith(".batch")]
        self.assertEqual(left, [], "batches left in the outbox")

    def test_1m_events_from_4_threads_arrive_exactly_once_or_counted_dropped(self):
        requests, threads = 250_000, 4
        tally = Tally(requests, threads)
        rx = self.start_receiver(store=False, on_events=tally)
        run = self.run_example(rx, requests, threads)
        self.check_run(rx, tally, run)

    def test_errors_carry_their_breadcrumbs_when_nothing_is_dropped(self):
        # 2 x 2000 requests: 4000 records per thread, well inside a 1 MiB ring,
        # so nothing can be dropped and every failed request must carry the
        # breadcrumb its own query left just before.
        requests, threads = 2_000, 2
        tally = Tally(requests, threads)
        rx = self.start_receiver(store=False, on_events=tally)
        run = self.run_example(rx, requests, threads)
        self.check_run(rx, tally, run)
        self.assertEqual((run.counts["dropped_ring_full"], run.counts["breadcrumbs_dropped"]), (0, 0),
                         str(run))
        failed = sum(1 for w in range(threads) for i in range(requests)
                     if (w * requests + i) % 97 == 0)
        self.assertGreater(failed, 0)
        self.assertEqual(tally.missing_crumb, [])
        # crowded out only now and then, by preemption: most carry their own
        self.assertLess(tally.crowded_out, failed / 2, "failed requests whose breadcrumb other "
                        "threads crowded out")

    def test_retries_after_503_do_not_duplicate(self):
        requests, threads = 20_000, 2
        tally = Tally(requests, threads)
        rx = self.start_receiver(store=True, on_events=tally)
        refused = 3
        rx.respond_with(503, times=refused)
        run = self.run_example(rx, requests, threads)
        self.check_run(rx, tally, run)
        reqs = rx.requests
        statuses = Counter(r.status for r in reqs)
        self.assertEqual(statuses[503], refused, "requests answered %r" % statuses)
        self.assertEqual(set(statuses), {200, 503}, "requests answered %r" % statuses)
        # What was refused came again and was accepted once: the retries
        # delivered it (not dropped, not duplicated).
        resent = 0
        for r in reqs:
            if r.status != 503:
                continue
            self.assertGreater(r.event_count, 0)
            for ev in r.events:
                w, rid = ev.get("worker"), ev.get("request")
                if ev.get("message") in REQUEST_MESSAGES:
                    self.assertEqual(tally.seen[w][rid - w * requests], 1,
                                     "request %d refused with 503 did not arrive exactly once" % rid)
                    resent += 1
        self.assertGreater(resent, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
