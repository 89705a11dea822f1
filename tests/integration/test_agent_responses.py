# SPDX-License-Identifier: MIT
"""Integration: how plume-agent reacts to Axiom's answers.

5xx retried with backoff until delivered; 429 / 430 wait for the reset time in
X-RateLimit-Reset / X-IngestLimit-Reset before the next request; 401 and 403
stop the sink with a clear error (token never printed), keep the outbox and
exit 1; another 4xx dead-letters the batch into failed/ with a .reason file and
the agent moves on; a 200 reporting failed events is logged, not resent.
"""

import math
import os
import re
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DROPPED_DATA_EXIT, AgentTestCase, seq_lines  # noqa: E402


class ResponsesTest(AgentTestCase):
    def assertExactlyOnce(self, events, n):
        c = Counter(e["seq"] for e in events)
        self.assertEqual([s for s, k in c.items() if k > 1], [], "duplicates")
        self.assertEqual(sorted(c), list(range(n)))

    def test_5xx_retried_until_delivered(self):
        self.rx.respond_with(500, times=3)
        ws = self.workspace()
        res = self.run_agent(ws, stdin=seq_lines(50))
        self.assertExit(res, 0)
        self.assertNoViolations()
        self.assertSummary(res, received=50, delivered=50, retries=lambda v: v >= 3, pending=0)
        statuses = [r.status for r in self.rx.requests]
        self.assertEqual(statuses[:3], [500, 500, 500], str(res))
        self.assertTrue(all(s == 200 for s in statuses[3:]), statuses)
        self.assertExactlyOnce(self.rx.events, 50)
        refused = {e["seq"] for r in self.rx.requests[:3] for e in r.events}
        self.assertTrue(refused, "the refused requests carried events")
        self.assertLessEqual(refused, {e["seq"] for e in self.rx.events})
        self.assertRegex(res.stderr, r"\b500\b", "the 5xx is logged")
        self.assertEqual(ws.outbox_files(), [])

    def _rate_limited(self, status, header):
        reset = math.ceil(time.time() + 2)
        self.rx.respond_with(status, {header: str(reset)})
        ws = self.workspace()
        res = self.run_agent(ws, stdin=seq_lines(20))
        self.assertExit(res, 0)
        self.assertNoViolations()
        reqs = self.rx.requests
        self.assertGreaterEqual(len(reqs), 2, str(res))
        self.assertEqual(reqs[0].status, status)
        self.assertGreaterEqual(reqs[1].wall, reset,
                                "next request %.3fs before the reset time" % (reset - reqs[1].wall))
        self.assertLess(reqs[1].wall, reset + 5, "waited far past the reset time")
        self.assertExactlyOnce(self.rx.events, 20)
        self.assertSummary(res, delivered=20, pending=0)

    def test_429_waits_for_rate_limit_reset(self):
        self._rate_limited(429, "X-RateLimit-Reset")

    def test_430_waits_for_ingest_limit_reset(self):
        self._rate_limited(430, "X-IngestLimit-Reset")

    def test_401_stops_sink_keeps_outbox_exit_1(self):
        secret = "xaat-SeCrEt0123456789abcdef"
        ws = self.workspace()
        ws.set("sinks.axiom", token=secret)
        res = self.run_agent(ws, stdin=seq_lines(10))
        self.assertExit(res, 1)
        self.assertLess(res.elapsed, 20.0, "a stopped sink does not wait out shutdown_timeout")
        self.assertNoViolations()
        self.assertEqual([r.status for r in self.rx.requests], [401], "401 is not retried")
        self.assertRegex(res.stderr, r"\b401\b")
        self.assertRegex(res.stderr, r"(?i)token")
        self.assertRegex(res.stderr, r"(?i)refus|reject|invalid|unauthori[sz]ed|denied|not accepted")
        for text in (res.stderr, res.stdout.decode("utf-8", "replace")):
            self.assertNotIn(secret, text)
            self.assertNotIn("SeCrEt0123456789", text)
        self.assertGreaterEqual(len(ws.outbox_files()), 1, "the batch stays in the outbox")
        self.assertEqual(self.rx.events, [])

    def test_403_stops_sink_keeps_outbox_exit_1(self):
        self.rx.respond_with(403, times=None)
        ws = self.workspace()
        res = self.run_agent(ws, stdin=seq_lines(10))
        self.assertExit(res, 1)
        self.assertNoViolations()
        self.assertEqual([r.status for r in self.rx.requests], [403])
        self.assertRegex(res.stderr, r"\b403\b")
        self.assertGreaterEqual(len(ws.outbox_files()), 1)

    def test_other_4xx_dead_letters_batch_and_continues(self):
        self.rx.respond_with(400, body=b'{"code":400,"message":"simulated bad request"}', times=1)
        ws = self.workspace()
        ws.set("sinks.axiom", batch_max_events=100)
        res = self.run_agent(ws, stdin=seq_lines(300))
        self.assertExit(res, DROPPED_DATA_EXIT)
        self.assertNoViolations()
        reqs = self.rx.requests
        self.assertGreaterEqual(len(reqs), 3, str(res))
        self.assertEqual(reqs[0].status, 400)
        self.assertTrue(all(r.status == 200 for r in reqs[1:]), [r.status for r in reqs])
        refused = {e["seq"] for e in reqs[0].events}
        accepted = Counter(e["seq"] for e in self.rx.events)
        self.assertTrue(refused)
        self.assertEqual([s for s, c in accepted.items() if c > 1], [])
        self.assertEqual(set(accepted), set(range(300)) - refused,
                         "every other batch is delivered, the refused one is not resent")
        reasons = ws.list_dir(ws.failed_dir, ".reason")
        others = [f for f in ws.list_dir(ws.failed_dir) if not f.endswith(".reason")]
        self.assertEqual(len(reasons), 1, ws.list_dir(ws.failed_dir))
        self.assertEqual(len(others), 1, ws.list_dir(ws.failed_dir))
        with open(reasons[0], encoding="utf-8", errors="replace") as f:
            self.assertIn("400", f.read())
        self.assertEqual(ws.outbox_files(), [])
        self.assertSummary(res, delivered=len(accepted), pending=0,
                           dropped_failed=lambda v: v in (1, len(refused)))

    def test_partial_failure_is_logged_not_resent(self):
        self.rx.partial_failure(3)
        ws = self.workspace()
        res = self.run_agent(ws, stdin=seq_lines(20))
        self.assertExit(res, DROPPED_DATA_EXIT)
        self.assertNoViolations()
        self.assertEqual(sum(r.event_count for r in self.rx.requests), 20, "nothing resent")
        self.assertEqual(len(self.rx.events), 17)
        self.assertTrue(any(re.search(r"(?i)fail", line) and re.search(r"\b3\b", line)
                            for line in res.stderr.splitlines()),
                        "the 3 failed events are logged\n" + res.tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
