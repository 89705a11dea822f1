# SPDX-License-Identifier: MIT
"""Integration: plume-agent --stdin delivering to the local Axiom receiver.

Scenarios: 100k mixed lines (JSON, logfmt, text, invalid JSON, explicit times,
unicode, invalid UTF-8, CRLF, NUL bytes) each arriving exactly once with its
fields intact; a 3 MiB line cut at max_line_bytes between two intact
neighbours; SIGTERM with stdin still open flushing what was read; gzip on the
edge path and uncompressed requests with an org id. Every request must pass the
receiver's strict checks.
"""

import os
import random
import re
import signal
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RFC3339_NANO_Z, AgentTestCase, AxiomReceiver,  # noqa: E402
                     parse_rfc3339, seq_lines)

SEQ_RX = re.compile(r"""seq["']?\s*[=:]\s*(\d+)""")
TIME_A = "2025-03-04T05:06:07.123456789Z"
TIME_B = "2025-03-04T07:06:07.5+02:00"  # = 05:06:07.5Z


def event_seq(ev):
    """The sequence id an event carries: its "seq" field, or seq=N / "seq": N
    inside its message. None if it has none."""
    v = ev.get("seq")
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.isdigit():
        return int(v)
    for k in ("message", "msg"):
        s = ev.get(k)
        if isinstance(s, str):
            m = SEQ_RX.search(s)
            if m:
                return int(m.group(1))
    return None


def mixed_lines(n):
    """Returns (chunks, expect, counts): the input as ~64 KiB byte chunks, per seq
    a (kind, check) pair where check(event) returns an error string or None,
    and counts of lines by property."""
    expect = {}
    counts = Counter()
    out, buf = [], []
    size = 0
    for seq in range(n):
        k = seq % 20
        if k == 0:
            line = ('{"seq":%d,"level":"info","msg":"request done","status":200,'
                    '"dur_ms":12.5,"ok":true,"tags":["a","b"],"nested":{"k":null,"n":-3}}' % seq).encode()

            def check(ev):
                want = {"level": "info", "msg": "request done", "status": 200, "dur_ms": 12.5,
                        "ok": True, "tags": ["a", "b"], "nested": {"k": None, "n": -3}}
                bad = {key: ev.get(key) for key in want if ev.get(key) != want[key]}
                return "fields changed: %r" % bad if bad else None
            kind = "json"
        elif k == 1:
            line = ('{"_time":"%s","seq":%d,"message":"explicit time"}' % (TIME_A, seq)).encode()

            def check(ev):
                if ev.get("_time") != TIME_A:
                    return "_time %r, want %r" % (ev.get("_time"), TIME_A)
                if any("time" in key and key != "_time" for key in ev):
                    return "input _time was not consumed: %r" % sorted(ev)
                return None
            kind = "json"
        elif k == 2:
            line = ('{"seq":%d,"_time":"%s","level":"WARNING","message":"offset time"}' % (seq, TIME_B)).encode()

            def check(ev):
                try:
                    got = parse_rfc3339(ev["_time"])
                except ValueError as e:
                    return str(e)
                want = parse_rfc3339(TIME_B)
                return None if got == want else "_time %s is not %s" % (ev["_time"], TIME_B)
            kind = "json"
        elif k == 3:
            line = ('{"ts":"2025-01-02T03:04:05Z","seq":%d,"message":"has ts"}' % seq).encode()
            check = None
            kind = "json"
        elif k == 4:
            line = ('{"ts":1700000000.25,"seq":%d,"severity":"error","message":"epoch ts"}' % seq).encode()
            check = None
            kind = "json"
        elif k == 5:
            line = ('{"seq":%d,"message":"héllo wörld ✓ 日本語 🎉","esc":"\\u00e9\\ud83c\\udf89\\n\\t\\"q\\""}'
                    % seq).encode("utf-8")

            def check(ev):
                if ev.get("message") != "héllo wörld ✓ 日本語 🎉":
                    return "message %r" % ev.get("message")
                if ev.get("esc") != "é\U0001F389\n\t\"q\"":
                    return "esc %r" % ev.get("esc")
                return None
            kind = "json"
        elif k == 6:
            line = ('{"seq":%d,"_private":"hidden","message":"reserved key"}' % seq).encode()

            def check(ev):
                renamed = [key for key in ev if key.startswith("user_") and key.endswith("private")]
                if len(renamed) != 1 or ev[renamed[0]] != "hidden":
                    return "_private not renamed to user_...: %r" % sorted(ev)
                return None
            kind = "json"
        elif k == 7:
            line = ('{"seq":%d,"message":"crlf json","n":%d}\r' % (seq, seq)).encode()

            def check(ev, seq=seq):
                return None if ev.get("n") == seq and ev.get("message") == "crlf json" else "fields %r" % ev
            kind = "json"
        elif k in (8, 9):
            line = ('level=info msg="user logged in" seq=%d user=bob dur=1.5ms' % seq).encode()
            if k == 9:
                line = ('time=2025-03-04T05:06:07Z level=debug msg="say \\"hi\\"" seq=%d user=bob' % seq).encode() + b"\r"

            def check(ev):
                if not isinstance(ev.get("seq"), (int, str)):
                    return "logfmt seq not parsed into a field: %r" % ev
                return None if ev.get("user") == "bob" else "logfmt user field %r" % ev.get("user")
            kind = "logfmt"
        elif k == 10:
            line = ('lvl=warn component="db pool" seq=%d waited=250ms retry=true' % seq).encode()

            def check(ev):
                return None if ev.get("component") == "db pool" else "logfmt fields %r" % ev
            kind = "logfmt"
        elif k in (11, 12, 13):
            text = "[worker-%d] GET /api/v1/items returned 200 in %d ms, seq=%d" % (seq % 7, seq % 97, seq)
            if k == 12:
                text = "[ünïcødé] Ошибка соединения — retrying (seq=%d) ✓" % seq
            line = text.encode("utf-8")
            if k == 13:
                line += b"\r"

            def check(ev, text=text):
                msg = ev.get("message")
                if not isinstance(msg, str) or msg.rstrip("\r") != text:
                    return "message %r, want %r" % (msg, text)
                return None
            kind = "text"
        elif k == 14:
            line = b"[bin] payload \xff\xfe\x80 bad \xc3( utf8, seq=%d" % seq
            counts["invalid_utf8"] += 1

            def check(ev, seq=seq):
                msg = ev.get("message") or ""
                ok = msg.startswith("[bin] payload ") and msg.endswith(" utf8, seq=%d" % seq)
                return None if ok else "message %r" % msg
            kind = "text"
        elif k == 15:
            line = b"[nul] before\x00after seq=%d" % seq
            check = None
            kind = "text"
        elif k == 16:
            line = ("[long] " + "lorem ipsum dolor sit amet " * 80 + "seq=%d" % seq).encode()

            def check(ev, line=line):
                return None if ev.get("message") == line.decode() else "long message changed"
            kind = "text"
        elif k in (17, 18):
            line = ('{"seq": %d, "broken": tru' % seq).encode() if k == 17 else \
                   ('{"seq": %d, "trailing": 1,}' % seq).encode()
            counts["parse_errors"] += 1

            def check(ev, line=line):
                if not isinstance(ev.get("parse_error"), str) or not ev["parse_error"]:
                    return "no parse_error: %r" % ev
                return None if ev.get("message") == line.decode() else "message %r" % ev.get("message")
            kind = "bad-json"
        else:
            line = ('{"seq":%d,"level":"error","message":"disk full","error":{"code":28,"path":"/var/x"}}'
                    % seq).encode()

            def check(ev):
                return None if ev.get("error") == {"code": 28, "path": "/var/x"} else "error %r" % ev.get("error")
            kind = "json"
        expect[seq] = (kind, check)
        buf.append(line + b"\n")
        size += len(line) + 1
        if size >= 65536:
            out.append(b"".join(buf))
            buf, size = [], 0
    if buf:
        out.append(b"".join(buf))
    return out, expect, counts


class DeliveryTest(AgentTestCase):
    def test_100k_mixed_lines_each_arrive_exactly_once(self):
        n = 100_000
        chunks, expect, counts = mixed_lines(n)
        ws = self.workspace()
        w0 = time.time()
        res = self.run_agent(ws, stdin=chunks, timeout=120)
        w1 = time.time()
        self.assertExit(res, 0)
        self.assertNoViolations()
        events = self.rx.events
        seen = Counter()
        problems = []
        for ev in events:
            s = event_seq(ev)
            if s is None or s not in expect:
                problems.append("event without a known seq: %r" % (ev,))
                continue
            seen[s] += 1
            if not RFC3339_NANO_Z.match(ev["_time"]):
                problems.append("seq %d: _time %r is not RFC 3339 with 9 digits and Z" % (s, ev["_time"]))
            kind, check = expect[s]
            if s % 20 not in (1, 2, 3, 4, 9):  # no time of its own: stamped when read
                t = parse_rfc3339(ev["_time"]) / 1e9
                if not w0 - 1 <= t <= w1 + 1:
                    problems.append("seq %d: _time %s is not the time it was read" % (s, ev["_time"]))
            if check is not None:
                err = check(ev)
                if err:
                    problems.append("seq %d (%s): %s" % (s, kind, err))
        dups = [s for s, c in seen.items() if c > 1]
        missing = [s for s in range(n) if s not in seen]
        self.assertEqual(dups, [], "sequence ids delivered more than once")
        self.assertEqual(missing[:20], [], "%d sequence ids never arrived" % len(missing))
        self.assertEqual(problems[:10], [], "%d events differ from their input" % len(problems))
        self.assertEqual(len(events), n)
        self.assertSummary(res, received=n, delivered=n, truncated=0,
                           parse_errors=counts["parse_errors"],
                           invalid_utf8=counts["invalid_utf8"], pending=0)

        for req in self.rx.requests:
            self.assertEqual(req.status, 200)
            self.assertLessEqual(req.event_count, 10_000)
            self.assertEqual(req.headers.get("content-encoding"), "zstd")
            self.assertRegex(req.headers.get("user-agent", ""), r"^plume-agent/\d")
            self.assertNotIn("x-axiom-org-id", req.headers)

    def test_3mib_line_is_truncated_at_max_line_bytes(self):
        max_line = 1 << 20
        table = bytes((b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")[i % 64]
                      for i in range(256))
        big = b"big-line:" + random.Random(7).randbytes(3 << 20).translate(table)
        stdin = b'{"seq":1,"message":"before"}\n' + big + b'\n{"seq":3,"message":"after"}\n'
        ws = self.workspace()
        res = self.run_agent(ws, stdin=stdin, timeout=60)
        self.assertExit(res, 0)
        self.assertNoViolations()
        self.assertSummary(res, received=3, truncated=1, delivered=3)
        events = self.rx.events
        self.assertEqual(len(events), 3, [sorted(e) for e in events])
        by_msg = {e.get("message", "")[:9]: e for e in events}
        self.assertEqual({k: v.get("seq") for k, v in by_msg.items() if k != "big-line:"},
                         {"before": 1, "after": 3})
        for e in (by_msg["before"], by_msg["after"]):
            self.assertNotIn("truncated", e)
        cut = by_msg["big-line:"]
        self.assertIs(cut.get("truncated"), True)
        self.assertEqual(len(cut["message"]), max_line)
        self.assertEqual(cut["message"], big[:max_line].decode("ascii"),
                         "the kept part is exactly the first max_line_bytes of the line")

    def test_sigterm_with_stdin_open_delivers_what_was_read(self):
        ws = self.workspace()
        ws.set("agent", shutdown_timeout="10s")
        ws.set("sinks.axiom", batch_max_age="1h", batch_max_events=1000)
        a = self.agent(ws, stdin=seq_lines(1500), keep_stdin_open=True)
        # The first 1000 fill a batch and are sent; the other 500 sit in an open
        # batch that only the shutdown can flush (batch_max_age is 1h).
        self.wait_rx(a, lambda rx: len(rx.events) >= 1000, 30, "the first full batch")
        a.wait_stdin_consumed(30)
        t_sig = time.monotonic()
        a.signal(signal.SIGTERM)
        res = a.wait(30)
        took = time.monotonic() - t_sig
        self.assertExit(res, 0)
        self.assertLess(took, 10.0, "exit within shutdown_timeout")
        self.assertNoViolations()
        self.assertSummary(res, received=1500, delivered=1500, pending=0)
        self.assertEqual(sorted(e["seq"] for e in self.rx.events), list(range(1500)))
        self.assertEqual(ws.outbox_files(), [])

    def test_gzip_on_edge_path(self):
        rx = AxiomReceiver(path_style="edge", dataset="edge-ds").start()
        self.addCleanup(rx.stop)
        ws = self.workspace(rx)
        ws.set("sinks.axiom", compression="gzip", path_style="edge")
        res = self.run_agent(ws, stdin=seq_lines(300))
        self.assertExit(res, 0)
        self.assertNoViolations(rx)
        self.assertEqual(sorted(e["seq"] for e in rx.events), list(range(300)))
        for req in rx.requests:
            self.assertEqual(req.path, "/v1/ingest/edge-ds")
            self.assertEqual(req.headers.get("content-encoding"), "gzip")

    def test_uncompressed_with_personal_token_and_org_id(self):
        rx = AxiomReceiver(token="xapt-personal", path_style="legacy").start()
        self.addCleanup(rx.stop)
        ws = self.workspace(rx)
        ws.set("sinks.axiom", compression="none", org_id="org-42")
        res = self.run_agent(ws, stdin=seq_lines(50))
        self.assertExit(res, 0)
        self.assertNoViolations(rx)
        self.assertEqual(sorted(e["seq"] for e in rx.events), list(range(50)))
        for req in rx.requests:
            self.assertNotIn("content-encoding", req.headers)
            self.assertEqual(req.headers.get("x-axiom-org-id"), "org-42")
        self.assertNotIn("xapt-personal", res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
