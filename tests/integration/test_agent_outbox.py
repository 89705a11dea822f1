# SPDX-License-Identifier: MIT
"""Integration: the on-disk outbox across agent runs.

kill -9 while batches wait for a receiver that keeps failing, then a restart
on the same data_dir delivers every line of the first run; a corrupt batch
file found at start is moved to corrupt/axiom/ and counted while the others are
delivered; a second SIGTERM during a hopeless shutdown exits at once, leaving
the outbox for the next start.
"""

import os
import signal
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DROPPED_DATA_EXIT, AgentTestCase, seq_lines, wait_until  # noqa: E402


class OutboxTest(AgentTestCase):
    def fill_outbox(self, ws, n, per_batch):
        """Runs an agent whose requests all fail with 503, feeding n lines that
        make exactly n / per_batch batches (sealed by count only: the age limit
        is 1h), and waits until all of them are files in the outbox and sending
        has been tried. Returns the still running agent (stdin open)."""
        self.assertEqual(n % per_batch, 0)
        self.rx.respond_with(503, times=None)
        ws.set("sinks.axiom", batch_max_events=per_batch, batch_max_age="1h")
        a = self.agent(ws, stdin=seq_lines(n), keep_stdin_open=True)
        a.wait_stdin_consumed(30)
        wait_until(lambda: len(ws.outbox_files()) == n // per_batch or not a.running(), 30,
                   lambda: "%d batch files in the outbox (have %s)" % (n // per_batch, ws.outbox_files()))
        self.wait_rx(a, lambda rx: rx.requests, 30, "a first (failing) request")
        self.assertEqual(len(ws.outbox_files()), n // per_batch, a.stderr_text()[-3000:])
        return a

    def end_first_run(self):
        """Once the first agent is gone (killed or exited): waits until every
        request it sent has been answered, still with its 503s, then stops
        answering 503. A request answered after the clear would get a 200,
        and the restart would send its batch again (after a kill -9 the kernel
        closes the agent's sockets; a connection made just before is still
        accepted and its request read)."""
        self.assertTrue(self.rx.wait_connections_closed(30))
        self.rx.clear_responses()

    def test_kill_9_then_restart_delivers_everything(self):
        n = 2000
        ws = self.workspace()
        a = self.fill_outbox(ws, n, 500)
        a.kill()
        self.assertEqual(a.proc.returncode, -signal.SIGKILL)
        self.end_first_run()
        self.assertEqual(self.rx.events, [])

        res = self.run_agent(ws, stdin=b"", timeout=60)
        self.assertExit(res, 0)
        self.assertNoViolations()
        c = Counter(e["seq"] for e in self.rx.events)
        self.assertEqual(sorted(c), list(range(n)), "every line of the first run arrives")
        self.assertEqual([s for s, k in c.items() if k > 1], [], "exactly once expected")
        self.assertEqual(ws.outbox_files(), [])
        self.assertSummary(res, received=0, delivered=n, pending=0)

    def test_corrupt_outbox_file_moved_aside_others_delivered(self):
        n = 500
        ws = self.workspace()
        ws.set("agent", shutdown_timeout="1s")
        a = self.fill_outbox(ws, n, 100)
        # Lines are batched in order, sealed every 100: batch k holds 100k..100k+99.
        batches = {frozenset(range(k, k + 100)) for k in range(0, n, 100)}
        # Graceful stop that cannot deliver: exit 1 with the batches pending.
        a.signal(signal.SIGTERM)
        res1 = a.wait(60)
        self.assertExit(res1, 1)
        self.assertSummary(res1, pending=lambda v: v > 0)
        self.end_first_run()
        files = ws.outbox_files()
        self.assertEqual(len(files), 5, files)

        victim = files[len(files) // 2]
        size = os.path.getsize(victim)
        off = size - 16 if size > 64 else size // 2
        with open(victim, "r+b") as f:
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0x5A]))
        n_before = len(self.rx.requests)

        res = self.run_agent(ws, stdin=b"", timeout=60)
        self.assertExit(res, DROPPED_DATA_EXIT)
        self.assertNoViolations()
        self.assertSummary(res, dropped_corrupt=1, pending=0)
        moved = ws.list_dir(ws.corrupt_dir)
        self.assertEqual([os.path.basename(p) for p in moved if not p.endswith(".reason")],
                         [os.path.basename(victim)], "the corrupt file is moved aside, name kept")
        self.assertEqual(ws.outbox_files(), [])
        self.assertIn(os.path.basename(victim), res.stderr, "the log names the corrupt file")

        accepted = Counter(e["seq"] for e in self.rx.events)
        self.assertEqual([s for s, k in accepted.items() if k > 1], [])
        missing = frozenset(range(n)) - set(accepted)
        self.assertIn(missing, batches, "exactly the corrupt file's batch is missing")
        for r in self.rx.requests[n_before:]:
            self.assertEqual(r.status, 200)

    def test_second_sigterm_exits_at_once_leaving_outbox(self):
        ws = self.workspace()
        ws.set("agent", shutdown_timeout="60s")
        a = self.fill_outbox(ws, 100, 50)
        t_sig = time.monotonic()
        a.signal(signal.SIGTERM)
        # Two more attempts after the signal: the agent is in its shutdown loop
        # and has taken the first signal (two pending signals would merge).
        self.wait_rx(a, lambda rx: sum(1 for r in rx.requests if r.mono > t_sig) >= 2, 30,
                     "two delivery attempts after SIGTERM")
        self.assertTrue(a.running(), "still trying to deliver within shutdown_timeout")
        t2 = time.monotonic()
        a.signal(signal.SIGTERM)
        res = a.wait(30)
        self.assertLess(time.monotonic() - t2, 5.0, "the second signal exits at once")
        self.assertExit(res, 1)
        self.assertNoViolations()
        self.assertGreaterEqual(len(ws.outbox_files()), 1, "outbox left for the next start")
        self.assertSummary(res, pending=lambda v: v > 0)

        self.end_first_run()
        res2 = self.run_agent(ws, stdin=b"")
        self.assertExit(res2, 0)
        self.assertEqual(sorted(e["seq"] for e in self.rx.events), list(range(100)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
