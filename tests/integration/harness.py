# SPDX-License-Identifier: MIT
"""Runs the real plume-agent against the local Axiom receiver, for the
integration scenarios (tests/integration/test_agent_*.py).

A Workspace is a temporary directory holding the agent's data_dir and a config
file generated from a dict (pointing at the receiver, with short batch ages and
retry delays so tests run fast). An Agent is one run of the program on that
workspace: stdin is fed from bytes, an iterable of byte chunks, or piece by piece
by the test, through a writer thread; stderr is collected line by line so a test
can wait for a message; wait() enforces a deadline, kills the process past it
and fails with the tail of its stderr. The summary line the agent prints at exit
is parsed into a dict. AgentTestCase ties it together: one receiver per test,
every agent killed and every temp dir removed at the end.

The binary is $PLUME_AGENT (set by ctest), else <source>/build/plume-agent.
"""

import fcntl
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("PLUME_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))

from axiom_receiver import AxiomReceiver, parse_rfc3339  # noqa: E402,F401

AGENT = os.environ.get("PLUME_AGENT") or os.path.join(SOURCE_DIR, "build", "plume-agent")

# Exit code expected when the agent had to drop data it could not deliver
# (a corrupt outbox file, a dead-lettered batch, events a 200 reported as
# failed) even though nothing is left pending: exit 0 means every event was
# delivered, so anything lost makes it 1 (the summary says what and why).
DROPPED_DATA_EXIT = 1

SUMMARY_PREFIX = "plume-agent: summary "
RFC3339_NANO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\Z")


def toml_value(v):
    """Serialises a str/bool/int/float for the generated config."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append("\\u%04X" % ord(ch))
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    raise TypeError("cannot write %r to TOML" % (v,))


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls predicate() until it returns something true, at most `timeout`
    seconds; for conditions with no event to wait on (files in a directory).
    Raises AssertionError naming `what` (a string, or a callable returning one
    at the deadline) when time is up."""
    deadline = time.monotonic() + timeout
    while True:
        r = predicate()
        if r:
            return r
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what() if callable(what) else what))
        time.sleep(interval)


def parse_summary(stderr_text):
    """Parses the last `plume-agent: summary k=v ...` line into a dict (ints
    where the value is an integer), or returns None if there is none."""
    for line in reversed(stderr_text.splitlines()):
        i = line.find(SUMMARY_PREFIX)
        if i >= 0:
            out = {}
            for tok in line[i + len(SUMMARY_PREFIX):].split():
                k, sep, v = tok.partition("=")
                if sep:
                    out[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
            return out
    return None


class Workspace:
    """A temp dir with data/ (the agent's data_dir) and agent.toml generated from
    `self.config` (section name -> {key: value}); call write_config() after
    changing it. Removed by cleanup()."""

    def __init__(self, receiver=None):
        self.dir = tempfile.mkdtemp(prefix="plume-it-")
        self.data_dir = os.path.join(self.dir, "data")
        self.config_path = os.path.join(self.dir, "agent.toml")
        self.config = {
            "agent": {"data_dir": self.data_dir, "log_level": "info",
                      "shutdown_timeout": "20s"},
            "sources.stdin": {"enabled": True, "format": "auto"},
            "sinks.axiom": {"enabled": True, "url": "http://127.0.0.1:9",
                            "path_style": "legacy", "dataset": "ds", "token": "t",
                            "compression": "zstd", "batch_max_age": "200ms",
                            "retry_initial": "100ms", "retry_max": "1s",
                            "outbox_fsync": False},
            "sinks.console": {"enabled": False},
        }
        if receiver is not None:
            self.point_at(receiver)
        self.write_config()

    def point_at(self, receiver):
        ax = self.config["sinks.axiom"]
        ax.update(url=receiver.url, dataset=receiver.dataset, token=receiver.token)
        if receiver.path_style in ("legacy", "edge"):
            ax["path_style"] = receiver.path_style

    def set(self, section, **values):
        self.config.setdefault(section, {}).update(values)
        self.write_config()

    def write_config(self, text=None):
        if text is None:
            parts = []
            for section, kv in self.config.items():
                parts.append("[%s]" % section)
                parts.extend("%s = %s" % (k, toml_value(v)) for k, v in kv.items())
                parts.append("")
            text = "\n".join(parts)
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def path(self, *parts):
        return os.path.join(self.data_dir, *parts)

    @property
    def outbox_dir(self):
        return self.path("outbox", "axiom")

    @property
    def failed_dir(self):
        return self.path("failed", "axiom")

    @property
    def corrupt_dir(self):
        return self.path("corrupt", "axiom")

    @staticmethod
    def list_dir(d, suffix=""):
        try:
            return sorted(os.path.join(d, n) for n in os.listdir(d)
                          if n.endswith(suffix) and not n.startswith("."))
        except FileNotFoundError:
            return []

    def outbox_files(self):
        return self.list_dir(self.outbox_dir, ".batch")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Result:
    """What one agent run left behind."""

    def __init__(self, returncode, stdout, stderr, elapsed):
        self.returncode, self.stdout, self.stderr, self.elapsed = returncode, stdout, stderr, elapsed
        self.summary = parse_summary(stderr)

    def tail(self, n=40):
        return "\n".join(self.stderr.splitlines()[-n:])

    def __str__(self):
        return "agent exit %s after %.2fs; stderr tail:\n%s" % (self.returncode, self.elapsed, self.tail())


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AXIOM_") and k != "PLUME_DATA_DIR"}
    env.update(extra or {})
    return env


class Agent:
    """One plume-agent process. `stdin`: bytes or an iterable of bytes chunks,
    written by a writer thread; more can be queued with feed(). Unless
    keep_stdin_open, stdin is closed after the initial data. `config=False`
    runs without --config."""

    def __init__(self, ws, args=(), stdin=b"", keep_stdin_open=False, env=None, config=True):
        if not os.access(AGENT, os.X_OK):
            raise AssertionError("plume-agent binary not found at %s (set PLUME_AGENT)" % AGENT)
        cmd = [AGENT] + (["--config", ws.config_path] if config else []) + list(args)
        self.ws = ws
        self._lines = []
        self._cond = threading.Condition()
        self._stdout = bytearray()
        self._queue = queue.Queue()
        self._written = self._queued = 0
        self.stdin_error = None
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=_clean_env(env),
                                     cwd=ws.dir, start_new_session=True)
        self._threads = [threading.Thread(target=self._read_stderr, daemon=True),
                         threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._write_stdin, daemon=True)]
        for t in self._threads:
            t.start()
        if stdin:
            self.feed(stdin)
        if not keep_stdin_open:
            self.close_stdin()

    # -- I/O threads -----------------------------------------------------------
    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _read_stdout(self):
        while True:
            b = self.proc.stdout.read(65536)
            if not b:
                return
            self._stdout += b

    def _write_stdin(self):
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    self.proc.stdin.close()
                    return
                chunks = [item] if isinstance(item, (bytes, bytearray)) else item
                for c in chunks:
                    if self.stdin_error is None:
                        self.proc.stdin.write(c)
                        self.proc.stdin.flush()
                        with self._cond:
                            self._written += len(c)
            except (BrokenPipeError, ValueError, OSError) as e:
                self.stdin_error = e  # the agent closed stdin or exited; keep draining
            finally:
                with self._cond:
                    self._queued -= 1
                    self._cond.notify_all()

    # -- control -----------------------------------------------------------------
    def feed(self, data):
        """Queues bytes (or an iterable of byte chunks) for the agent's stdin."""
        with self._cond:
            self._queued += 1
        self._queue.put(data)

    def close_stdin(self):
        with self._cond:
            self._queued += 1
        self._queue.put(None)

    def written(self):
        with self._cond:
            return self._written

    def wait_stdin_consumed(self, timeout):
        """Waits until everything queued was written to the pipe and the agent
        has read it all (nothing left in the pipe buffer)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queued > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("stdin writer still busy after %.1fs; stderr tail:\n%s"
                                         % (timeout, "\n".join(self._lines[-40:])))
                self._cond.wait(min(left, 0.5))
        if self.stdin_error is not None:
            raise AssertionError("writing the agent's stdin failed (%r); stderr tail:\n%s"
                                 % (self.stdin_error, self.stderr_text()[-3000:]))

        def pipe_empty():
            if self.proc.stdin.closed:
                return True
            if self.proc.poll() is not None:
                raise AssertionError("agent exited (code %s) with stdin unread; stderr tail:\n%s"
                                     % (self.proc.returncode, self.stderr_text()[-3000:]))
            buf = bytearray(4)
            fcntl.ioctl(self.proc.stdin.fileno(), termios.FIONREAD, buf)
            return int.from_bytes(buf, sys.byteorder) == 0
        wait_until(pipe_empty, max(0.0, deadline - time.monotonic()), "the agent to read its stdin")

    def stderr_text(self):
        with self._cond:
            return "\n".join(self._lines)

    def wait_stderr(self, pattern, timeout):
        """Waits for a stderr line matching the regex; returns the match or
        raises AssertionError with the stderr so far."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                for line in self._lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(self._lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._threads[0].is_alive()):
                    raise AssertionError("no stderr line matching %r within %.1fs; stderr:\n%s"
                                         % (pattern, timeout, "\n".join(self._lines[-40:])))
                self._cond.wait(min(left, 0.5))

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL and reap."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """Waits for exit at most `timeout` s; past it, kills the agent and
        raises AssertionError with its stderr tail. Returns a Result."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self._join_io()
            raise AssertionError("plume-agent did not exit within %.0fs (killed); stderr tail:\n%s"
                                 % (timeout, "\n".join(self.stderr_text().splitlines()[-40:])))
        elapsed = time.monotonic() - self.t0
        self._join_io()
        return Result(self.proc.returncode, bytes(self._stdout), self.stderr_text(), elapsed)

    def _join_io(self):
        for t in self._threads[:2]:
            t.join(timeout=10)
        if self._threads[2].is_alive():
            self.close_stdin()
            self._threads[2].join(timeout=10)

    def close(self):
        """Kills the process if still running and releases its pipes."""
        if self.proc.poll() is None:
            self.kill()
        self._join_io()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass


class AgentTestCase(unittest.TestCase):
    """Base class: self.rx is a started AxiomReceiver; self.workspace() and
    self.agent() create resources cleaned up after the test."""

    receiver_kwargs = {}

    def setUp(self):
        self.rx = AxiomReceiver(**self.receiver_kwargs).start()
        self.addCleanup(self.rx.stop)

    def workspace(self, receiver=None):
        ws = Workspace(receiver or self.rx)
        self.addCleanup(ws.cleanup)
        return ws

    def agent(self, ws, **kw):
        a = Agent(ws, **kw)
        self.addCleanup(a.close)
        return a

    def run_agent(self, ws, stdin=b"", timeout=60, **kw):
        """Runs the agent to completion (stdin closed after `stdin`)."""
        return self.agent(ws, stdin=stdin, **kw).wait(timeout)

    def assertNoViolations(self, receiver=None):
        v = (receiver or self.rx).violations
        if v:
            self.fail("the agent sent %d requests/events the real service would refuse "
                      "or that break the contract, first ones:\n  %s"
                      % (len(v), "\n  ".join(x[:300] for x in v[:8])))

    def wait_rx(self, agent, predicate, timeout, what):
        """Waits until predicate(receiver) holds; fails at the deadline or as soon
        as the agent has exited, with its stderr tail."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if self.rx.wait_for(predicate, max(0.0, min(left, 0.5))):
                return
            if not agent.running():
                self.fail("agent exited (code %s) before %s; stderr tail:\n%s"
                          % (agent.proc.returncode, what, agent.stderr_text()[-3000:]))
            if left <= 0:
                self.fail("timed out after %.0fs waiting for %s; stderr tail:\n%s"
                          % (timeout, what, agent.stderr_text()[-3000:]))

    def assertExit(self, res, code):
        self.assertEqual(res.returncode, code, str(res))

    def assertSummary(self, res, **expected):
        """Checks the given summary keys (plain values, or callables that must
        return True for the value)."""
        self.assertIsNotNone(res.summary, "no summary line on stderr\n" + str(res))
        for k, want in expected.items():
            self.assertIn(k, res.summary, "summary lacks %s\n%s" % (k, res))
            got = res.summary[k]
            if callable(want):
                self.assertTrue(want(got), "summary %s=%r is unexpected\n%s" % (k, got, res))
            else:
                self.assertEqual(got, want, "summary %s\n%s" % (k, res))


def seq_lines(n, start=0, fmt='{"seq":%d,"message":"line %d"}\n'):
    """Simple JSON lines carrying seq ids start..start+n-1, as one bytes."""
    return "".join(fmt % (i, i) for i in range(start, start + n)).encode()


def seqs_of(events, key="seq"):
    return [e.get(key) for e in events]
