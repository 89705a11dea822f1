# SPDX-License-Identifier: MIT
"""Integration: plume-agent's Sentry sink and routing, against the strict local
Sentry receiver (tests/support/sentry_receiver.py) and the Axiom receiver.

Covered: error events to Sentry one per envelope (gzip, X-Sentry-Auth, sent_at,
schema-valid payloads, also parsed by @sentry/core), logs to Axiom and errors to
both by default; the routing options (errors_to_axiom off, logs_to_sentry on:
log items of at most 100 entries); 413 and other 4xx/5xx dropped without a
retry and reported in a client_report; 429 with X-Sentry-Rate-Limits per
category (a limited category dropped before sending and counted, another one
still sent); Retry-After and the 60 s default; network errors retried from the
outbox, which keeps the envelope uncompressed and without sent_at, stamped at
the real send.
"""

import glob
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DROPPED_DATA_EXIT, AgentTestCase, parse_rfc3339, wait_until  # noqa: E402
from sentry_receiver import SentryReceiver  # noqa: E402


def lines(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def error(i, **extra):
    r = {"level": "error", "message": "boom %d" % i, "seq": i}
    r.update(extra)
    return r


def info(i):
    return {"level": "info", "message": "line %d" % i, "seq": i}


class SentrySinkTest(AgentTestCase):
    def setUp(self):
        super().setUp()
        self.sx = SentryReceiver().start()
        self.sx.validate_events = True
        self.addCleanup(self.sx.stop)

    def workspace(self, receiver=None, **sentry):
        ws = super().workspace(receiver)
        cfg = {"dsn": self.sx.dsn, "retry_initial": "100ms", "retry_max": "500ms",
               "log_batch_max_age": "200ms", "outbox_fsync": False}
        cfg.update(sentry)
        ws.set("sinks.sentry", **cfg)
        return ws

    def assertSentryClean(self):
        self.assertNoViolations(self.sx)
        for r in self.sx.node_check_all():
            if r.get("skipped"):
                continue
            self.assertTrue(r.get("ok"), r)
        self.assertNoViolations(self.sx)

    def test_errors_to_sentry_logs_and_errors_to_axiom(self):
        records = []
        for i in range(30):
            records.append(error(i, tags={"region": "eu"}, user={"id": "u%d" % i})
                           if i % 3 == 0 else info(i))
        ws = self.workspace()
        res = self.run_agent(ws, stdin=lines(records))
        self.assertExit(res, 0)
        self.assertNoViolations()
        self.assertSentryClean()
        # Axiom: every line (errors too, by default)
        self.assertEqual(sorted(e["seq"] for e in self.rx.events), list(range(30)))
        # Sentry: each error, one event per envelope, nothing else
        envs = self.sx.envelopes
        self.assertEqual(len(envs), 10)
        for env in envs:
            self.assertEqual(env.item_types(), ["event"])
            self.assertEqual(env.header["event_id"], env.events()[0]["event_id"])
            sent_at = parse_rfc3339(env.header["sent_at"]) / 1e9
            self.assertLess(abs(sent_at - env.request.wall), 5)
            h = env.request.headers
            self.assertEqual(h.get("content-encoding"), "gzip")
            self.assertIn("sentry_key=k", h.get("x-sentry-auth", ""))
            self.assertRegex(h.get("user-agent", ""), r"^plume/\d")
        events = sorted(self.sx.events(), key=lambda e: e["extra"]["seq"])
        self.assertEqual([e["extra"]["seq"] for e in events], list(range(0, 30, 3)))
        for e in events:
            i = e["extra"]["seq"]
            self.assertEqual(e["level"], "error")
            self.assertEqual(e["logentry"]["formatted"], "boom %d" % i)
            self.assertEqual(e["tags"], {"region": "eu"})
            self.assertEqual(e["user"], {"id": "u%d" % i})
            self.assertEqual(e["platform"], "native")
        self.assertEqual(len({e["event_id"] for e in events}), 10)
        self.assertSummary(res, received=30, delivered=40, dropped_rate_limited=0, pending=0)

    def test_routing_options(self):
        records = [error(i) if i % 50 == 0 else info(i) for i in range(250)]
        ws = self.workspace()
        ws.set("routing", errors_to_axiom=False, logs_to_sentry=True)
        res = self.run_agent(ws, stdin=lines(records))
        self.assertExit(res, 0)
        self.assertNoViolations()
        self.assertSentryClean()
        errors = set(range(0, 250, 50))
        self.assertEqual(sorted(e["seq"] for e in self.rx.events),
                         sorted(set(range(250)) - errors), "Axiom gets the logs only")
        self.assertEqual(sorted(e["extra"]["seq"] for e in self.sx.events()), sorted(errors))
        logs = self.sx.logs()
        self.assertEqual(sorted(e["attributes"]["seq"]["value"] for e in logs),
                         sorted(set(range(250)) - errors))
        for env in self.sx.envelopes:
            self.assertIn(env.item_types(), (["event"], ["log"]))
            self.assertLessEqual(len(env.logs()), 100)
        log_envs = [env for env in self.sx.envelopes if env.item_types() == ["log"]]
        self.assertGreaterEqual(len(log_envs), 3)
        entry = next(e for e in logs if e["attributes"]["seq"]["value"] == 7)
        self.assertEqual(entry["body"], "line 7")
        self.assertEqual(entry["level"], "info")
        self.assertEqual(entry["attributes"]["seq"], {"value": 7, "type": "integer"})
        self.assertEqual(entry["attributes"]["sentry.environment"],
                         {"value": "production", "type": "string"})

    def test_413_and_5xx_dropped_not_retried(self):
        self.sx.respond_with(413)
        self.sx.respond_with(500)
        self.sx.respond_with(400)
        ws = self.workspace(max_in_flight=1)
        ws.set("routing", errors_to_axiom=False)
        res = self.run_agent(ws, stdin=lines([error(i) for i in range(5)]))
        self.assertExit(res, DROPPED_DATA_EXIT)
        self.assertNoViolations(self.sx)
        event_requests = [r for r in self.sx.requests
                          if r.envelope is None or "client_report" not in r.envelope.item_types()]
        self.assertEqual([r.status for r in event_requests], [413, 500, 400, 200, 200],
                         "each envelope sent once, none retried")
        self.assertEqual(len(self.sx.events()), 2)
        self.assertRegex(res.stderr, r"413")
        self.assertSummary(res, dropped_failed=3, delivered=2, retries=0, pending=0)
        self.assertEqual(self.sx.discarded(), {("send_error", "error"): 3})

    def test_rate_limited_category_dropped_before_sending(self):
        self.sx.rate_limit("60:error:organization")
        ws = self.workspace(max_in_flight=1)
        ws.set("routing", logs_to_sentry=True, errors_to_axiom=False)
        a = self.agent(ws, keep_stdin_open=True)
        a.feed(lines([error(0)]))
        self.wait_rx(a, lambda _: len(self.sx.requests) >= 1, 20, "the first envelope")
        a.feed(lines([error(i) for i in range(1, 6)] + [info(i) for i in range(6, 9)]))
        a.close_stdin()
        res = a.wait(60)
        self.assertExit(res, DROPPED_DATA_EXIT)
        self.assertSentryClean()
        self.assertEqual(self.sx.requests[0].status, 429)
        self.assertEqual(self.sx.events(), [], "no error event after the 429")
        self.assertEqual(sorted(e["attributes"]["seq"]["value"] for e in self.sx.logs()),
                         [6, 7, 8], "log items are not limited")
        self.assertSummary(res, dropped_rate_limited=5, pending=0)
        self.assertEqual(self.sx.discarded(), {("ratelimit_backoff", "error"): 6})

    def test_retry_after_then_sent_again(self):
        self.sx.rate_limit(retry_after=1)
        ws = self.workspace(max_in_flight=1)
        a = self.agent(ws, keep_stdin_open=True)
        a.feed(lines([error(0)]))
        self.wait_rx(a, lambda _: len(self.sx.requests) >= 1, 20, "the first envelope")
        limited_at = time.monotonic()
        a.feed(lines([error(1)]))
        # after Retry-After (1 s) every category is open again
        wait_until(lambda: time.monotonic() >= limited_at + 1.5, 5, "the Retry-After to pass")
        a.feed(lines([error(2)]))
        self.wait_rx(a, lambda _: len(self.sx.envelopes) >= 1, 20, "the third event")
        a.close_stdin()
        res = a.wait(60)
        self.assertSentryClean()
        self.assertEqual([e["extra"]["seq"] for e in self.sx.events()], [2])
        self.assertSummary(res, dropped_rate_limited=1)

    def test_429_without_headers_waits_60s(self):
        self.sx.respond_with(429)
        ws = self.workspace(max_in_flight=1)
        a = self.agent(ws, keep_stdin_open=True)
        a.feed(lines([error(0)]))
        self.wait_rx(a, lambda _: len(self.sx.requests) >= 1, 20, "the first envelope")
        a.feed(lines([error(1), error(2)]))
        a.close_stdin()
        res = a.wait(60)
        self.assertRegex(res.stderr, r"HTTP 429 \(rate limited for (59|60)s\)")
        self.assertEqual(self.sx.events(), [])
        self.assertSummary(res, dropped_rate_limited=2)

    def test_network_error_retried_from_uncompressed_outbox(self):
        port = self.sx.port
        ws = self.workspace(max_in_flight=1)
        ws.set("routing", errors_to_axiom=False)
        self.sx.stop()
        a = self.agent(ws, keep_stdin_open=True)
        a.feed(lines([error(i) for i in range(3)]))
        a.wait_stderr(r"sentry: network error", 20)
        stored = wait_until(
            lambda: [p for p in [glob.glob(os.path.join(ws.data_dir, "outbox", "sentry", "*.batch"))]
                     if len(p) == 3], 20, "three envelopes in the outbox")[0]
        for path in stored:
            with open(path, "rb") as f:
                data = f.read()
            self.assertIn(b'{"event_id":"', data, "stored uncompressed")
            self.assertNotIn(b"sent_at", data, "sent_at is stamped at send time")
        back = time.time()
        self.sx = SentryReceiver(port=port).start()
        self.sx.validate_events = True
        self.addCleanup(self.sx.stop)
        self.wait_rx(a, lambda _: len(self.sx.envelopes) >= 3, 30, "the retried envelopes")
        a.close_stdin()
        res = a.wait(60)
        self.assertExit(res, 0)
        self.assertSentryClean()
        self.assertEqual(sorted(e["extra"]["seq"] for e in self.sx.events()), [0, 1, 2])
        for env in self.sx.envelopes:
            self.assertGreaterEqual(parse_rfc3339(env.header["sent_at"]) / 1e9, back - 0.5)
        self.assertSummary(res, delivered=3, retries=lambda v: v >= 1, pending=0)

    def test_bad_dsn_is_a_clear_config_error(self):
        ws = self.workspace()
        ws.set("sinks.sentry", dsn="https://key@sentry.example.com/not-a-number")
        res = self.run_agent(ws, args=("--check-config",))
        self.assertNotEqual(res.returncode, 0)
        self.assertRegex(res.stderr, r"sinks\.sentry\.dsn: .*project id")
        self.assertNotIn("key@", res.stderr)


if __name__ == "__main__":
    unittest.main()
