# SPDX-License-Identifier: MIT
"""Integration: memory and disk stay bounded when the receiver cannot keep up.

With Axiom answering 503 to everything, tens of megabytes of input go through
the agent: its outbox never grows past outbox_max_size (the oldest batches are
dropped and counted), its resident memory stays near max_memory instead of
growing with the input, and the exit status says that data was lost.
"""

import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AgentTestCase, wait_until  # noqa: E402

MiB = 1 << 20


def peak_rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) * 1024


def size_if_present(path):
    """The agent keeps dropping old batches while we look: a listed file may be
    gone by the time it is measured."""
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


class BoundsTest(AgentTestCase):
    def test_outbox_and_memory_bounded_while_receiver_fails(self):
        self.rx.respond_with(503, times=None)
        ws = self.workspace()
        ws.set("agent", max_memory="8MiB", shutdown_timeout="1s")
        ws.set("sinks.axiom", batch_max_bytes="1MiB", max_in_flight=2,
               outbox_max_size="8MiB", outbox_fsync=False, compression="none")
        n = 300_000  # ~62 MB of input, nearly 8x the outbox cap
        pad = "x" * 160
        data = "".join('{"seq":%d,"pad":"%s"}\n' % (i, pad) for i in range(n)).encode()
        a = self.agent(ws, stdin=data, keep_stdin_open=True)
        a.wait_stdin_consumed(120)
        wait_until(lambda: a.stderr_text().count("outbox full") > 0 or not a.running(), 60,
                   "the outbox to fill and drop its oldest batches")
        self.assertTrue(a.running(), a.stderr_text()[-3000:])
        rss = peak_rss_bytes(a.proc.pid)
        outbox_bytes = sum(size_if_present(f) for f in ws.outbox_files())
        a.signal(signal.SIGTERM)
        res = a.wait(60)

        # Disk: the cap plus at most one batch being written.
        self.assertLessEqual(outbox_bytes, 8 * MiB + 2 * MiB)
        # Memory: max_memory plus the process's fixed costs, far below the input.
        if os.environ.get("PLUME_SANITIZER", "none") == "none":
            self.assertLess(rss, 40 * MiB, "peak RSS %.1f MiB" % (rss / MiB))
        self.assertEqual(res.returncode, 1, res.tail())
        s = res.summary
        self.assertEqual(s["received"], n)
        self.assertGreater(s["dropped_outbox_full"], 0)
        # Every line is accounted for: dropped, or still pending on disk.
        self.assertEqual(s["dropped_outbox_full"] + s["pending"] + s["delivered"], n, res.tail())
        self.assertEqual(s["delivered"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
