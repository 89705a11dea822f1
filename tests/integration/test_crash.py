# SPDX-License-Identifier: MIT
"""Integration: the crash handler in real processes (examples/crash.c).

Each case runs `plume-example-crash <mode>` with a fresh data dir and checks
that the process died of the expected signal (returncode == -signum), that
exactly one report file is in data_dir/crash/ (no temp file left), that the
report decodes (a small msgpack reader below: the test does not trust the
SDK's reader), and that its crashing frame resolves with
`addr2line -f -e <binary>` to the function that crashed: frame 0 for a
hardware fault; for abrt and trap, whose signal is raised inside libc or at
the trap instruction, the first frame in the main executable. Return
addresses (frames after the first) are looked up at address - 1, the call
instruction, as every symbolicator does. Addresses are made relative to the
executable's load address (it is a PIE). The prev case also checks that the
program's own SIGSEGV handler ran (its marker file exists).

Then `plume-example-crash --deliver` against the local Axiom receiver: one
event per report, level fatal, origin-independent checks of the exception
(signal, mechanism, frames with function names from local symbolication),
and the report files gone afterwards.

After each crash, `--deliver` with SENTRY_DSN (the restart) against the
strict local Sentry receiver: one event whose event_id is the report id,
level fatal, the signalhandler mechanism, the checked frame at its place from
the end (Sentry's frames are caller first) with its instruction_addr, and a
debug_meta image for the executable whose code_id is its GNU build id (from
readelf) and through which addr2line resolves that frame to the function that
crashed, as Sentry would symbolicate it; the envelope also parses with
@sentry/core and the event validates against Relay's schema.

Under ASan (PLUME_SANITIZER=asan) the runs set ASAN_OPTIONS so that ASan
does not install its own handlers for these signals (handle_segv=0, ...):
otherwise ASan's handler, which libplume chains to as the previous handler,
prints its report and exits with status 1 instead of dying of the signal.
Nothing of libplume's handler is weakened by that.

The binary is $PLUME_EXAMPLE_CRASH, else $PLUME_BINARY_DIR/plume-example-crash,
else <source>/build/plume-example-crash.
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SOURCE_DIR, AxiomReceiver  # noqa: E402
from sentry_receiver import SentryReceiver  # noqa: E402

EXAMPLE = (os.environ.get("PLUME_EXAMPLE_CRASH")
           or os.path.join(os.environ.get("PLUME_BINARY_DIR") or os.path.join(SOURCE_DIR, "build"),
                           "plume-example-crash"))
SANITIZER = os.environ.get("PLUME_SANITIZER", "none")
RUN_TIMEOUT = 60

# mode -> (signal, the function that crashes, frame to check: "fault" = frame
# 0, "app" = the first frame in the main executable)
CASES = {
    "segv": (signal.SIGSEGV, "crash_segv", "fault"),
    "bus": (signal.SIGBUS, "crash_bus", "fault"),
    "ill": (signal.SIGILL, "crash_ill", "fault"),
    "fpe": (signal.SIGFPE, "crash_fpe", "fault"),
    "abrt": (signal.SIGABRT, "crash_abrt", "app"),
    "trap": (signal.SIGTRAP, "crash_trap", "app"),
    "thread": (signal.SIGSEGV, "crash_segv", "fault"),
    "overflow": (signal.SIGSEGV, "crash_overflow", "fault"),
    "two": (signal.SIGSEGV, "crash_segv", "fault"),
    "malloc": (signal.SIGSEGV, "crash_segv", "fault"),
    "prev": (signal.SIGSEGV, "crash_segv", "fault"),
}


class MsgpackError(Exception):
    pass


def mp_decode(data):
    """Decodes one msgpack value that must span all of `data` (str as str,
    bin as bytes). Raises MsgpackError on anything malformed."""
    value, pos = _mp(data, 0, 0)
    if pos != len(data):
        raise MsgpackError("%d bytes after the value" % (len(data) - pos))
    return value


def _take(data, pos, n):
    if pos + n > len(data):
        raise MsgpackError("truncated at %d" % pos)
    return data[pos:pos + n], pos + n


def _mp(data, pos, depth):
    if depth > 64:
        raise MsgpackError("too deep")
    b, pos = _take(data, pos, 1)
    t = b[0]
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h",
             0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if t <= 0x7f:
        return t, pos
    if t >= 0xe0:
        return t - 0x100, pos
    if 0x80 <= t <= 0x8f:
        return _map(data, pos, t & 0x0f, depth)
    if 0x90 <= t <= 0x9f:
        return _array(data, pos, t & 0x0f, depth)
    if 0xa0 <= t <= 0xbf:
        raw, pos = _take(data, pos, t & 0x1f)
        return raw.decode("utf-8"), pos
    if t == 0xc0:
        return None, pos
    if t in (0xc2, 0xc3):
        return t == 0xc3, pos
    if t in fixed:
        fmt = fixed[t]
        raw, pos = _take(data, pos, struct.calcsize(fmt))
        return struct.unpack(fmt, raw)[0], pos
    lens = {0xc4: ">B", 0xc5: ">H", 0xc6: ">I", 0xd9: ">B", 0xda: ">H", 0xdb: ">I"}
    if t in lens:
        raw, pos = _take(data, pos, struct.calcsize(lens[t]))
        n = struct.unpack(lens[t], raw)[0]
        raw, pos = _take(data, pos, n)
        return (bytes(raw) if t <= 0xc6 else raw.decode("utf-8")), pos
    counts = {0xdc: (">H", _array), 0xdd: (">I", _array), 0xde: (">H", _map), 0xdf: (">I", _map)}
    if t in counts:
        fmt, fn = counts[t]
        raw, pos = _take(data, pos, struct.calcsize(fmt))
        return fn(data, pos, struct.unpack(fmt, raw)[0], depth)
    raise MsgpackError("unsupported type byte 0x%02x at %d" % (t, pos - 1))


def _array(data, pos, n, depth):
    out = []
    for _ in range(n):
        v, pos = _mp(data, pos, depth + 1)
        out.append(v)
    return out, pos


def _map(data, pos, n, depth):
    out = {}
    for _ in range(n):
        k, pos = _mp(data, pos, depth + 1)
        v, pos = _mp(data, pos, depth + 1)
        out[k] = v
    return out, pos


def run_env(data_dir, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AXIOM_") and not k.startswith("PLUME_DATA") and k != "SENTRY_DSN"}
    env["PLUME_DATA_DIR"] = data_dir
    if SANITIZER == "asan":
        env["ASAN_OPTIONS"] = ("handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:"
                               "handle_abort=0:handle_sigtrap=0:detect_leaks=0:"
                               "allow_user_segv_handler=1")
    env.update(extra or {})
    return env


def build_id(binary):
    """The GNU build id of `binary` as readelf prints it (hex), or None."""
    out = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True,
                         timeout=30).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


BUILD_ID = build_id(EXAMPLE) if os.access(EXAMPLE, os.X_OK) else None


def addr2line(binary, addr):
    out = subprocess.run(["addr2line", "-f", "-e", binary, "0x%x" % addr], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return out.splitlines()[0].strip()


class CrashTest(unittest.TestCase):
    def setUp(self):
        if not os.access(EXAMPLE, os.X_OK):
            self.fail("plume-example-crash not found at %s (build it, or set PLUME_EXAMPLE_CRASH)"
                      % EXAMPLE)
        if not shutil.which("addr2line") or not shutil.which("readelf"):
            self.skipTest("addr2line/readelf (binutils) are not installed")
        self.assertIsNotNone(BUILD_ID, "the example has no GNU build id")
        self.tmp = tempfile.mkdtemp(prefix="plume-crash-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def crash(self, mode, data_dir=None):
        """Runs one crash mode; returns (process, data_dir)."""
        data_dir = data_dir or tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        marker = os.path.join(self.tmp, "marker-" + mode)
        try:
            proc = subprocess.run([EXAMPLE, mode], env=run_env(data_dir, {"PLUME_CRASH_MARKER": marker}),
                                  capture_output=True, timeout=RUN_TIMEOUT, cwd=self.tmp)
        except subprocess.TimeoutExpired as e:
            self.fail("mode %s did not end within %ds: %r" % (mode, RUN_TIMEOUT, e))
        return proc, data_dir

    def reports(self, data_dir):
        d = os.path.join(data_dir, "crash")
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        return [os.path.join(d, n) for n in names if n.endswith(".plume-crash")], names

    def check_mode(self, mode):
        signum, function, which = CASES[mode]
        proc, data_dir = self.crash(mode)
        detail = "mode %s: exit %s\nstderr: %s" % (mode, proc.returncode,
                                                  proc.stderr.decode(errors="replace")[-3000:])
        self.assertEqual(proc.returncode, -signum, detail)
        files, names = self.reports(data_dir)
        self.assertEqual(len(files), 1, "mode %s: crash dir holds %r" % (mode, names))
        self.assertEqual(len(names), 1, "mode %s: a temp file was left: %r" % (mode, names))
        with open(files[0], "rb") as f:
            rep = mp_decode(f.read())
        self.assertEqual(rep["v"], 1)
        self.assertRegex(rep["id"], r"\A[0-9a-f]{32}\Z")
        self.assertEqual(os.path.basename(files[0]), rep["id"] + ".plume-crash")
        self.assertEqual(rep["signo"], signum, detail)
        self.assertGreater(rep["tid"], 0)
        if os.uname().machine == "x86_64":
            self.assertIn("rip", rep["regs"])
            self.assertIn("rsp", rep["regs"])
        frames = rep["frames"]
        self.assertGreater(len(frames), 0, "no frames: %r" % rep)
        mains = [m for m in rep["modules"] if m["main"]]
        self.assertEqual(len(mains), 1, "main executable not in the module table")
        main = mains[0]
        self.assertEqual(os.path.realpath(main["path"]), os.path.realpath(EXAMPLE))
        if which == "fault":
            index = 0
        else:
            index = next((i for i, a in enumerate(frames)
                          if main["addr"] <= a < main["addr"] + main["size"]), None)
            self.assertIsNotNone(index, "mode %s: no frame in the executable: %s"
                                 % (mode, [hex(a) for a in frames]))
        addr = frames[index] - (1 if index > 0 else 0)
        self.assertTrue(main["addr"] <= addr < main["addr"] + main["size"],
                        "mode %s: frame %d (0x%x) is not in the executable" % (mode, index, addr))
        got = addr2line(EXAMPLE, addr - main["addr"])
        self.assertEqual(got, function, "mode %s: frame %d 0x%x resolves to %s; frames %s"
                         % (mode, index, frames[index], got, [hex(a) for a in frames[:12]]))
        # the context the example set before crashing
        self.assertEqual(rep.get("release", "").split("@")[0], "example-crash")
        crumbs = rep.get("crumbs", [])
        self.assertTrue(crumbs, "mode %s: no breadcrumbs in the report" % mode)
        self.assertIn("scope", rep)
        if mode == "thread":
            self.assertEqual(rep["tname"], "crasher")
        # after a restart, Sentry gets the crash with a frame it can resolve
        self.deliver_to_sentry(data_dir, rep, index, function)
        return rep, data_dir

    def test_segv(self):
        self.check_mode("segv")

    def test_bus(self):
        self.check_mode("bus")

    def test_ill(self):
        self.check_mode("ill")

    def test_fpe(self):
        self.check_mode("fpe")

    def test_abrt(self):
        self.check_mode("abrt")

    def test_trap(self):
        self.check_mode("trap")

    def test_thread(self):
        self.check_mode("thread")

    def test_overflow(self):
        rep, _ = self.check_mode("overflow")
        self.assertGreater(len(rep["frames"]), 16, "a stack overflow unwinds deep")

    def test_two(self):
        for _ in range(3):  # the race differs from run to run
            self.check_mode("two")

    def test_malloc(self):
        for _ in range(3):
            self.check_mode("malloc")

    def test_prev(self):
        self.check_mode("prev")
        marker = os.path.join(self.tmp, "marker-prev")
        self.assertTrue(os.path.exists(marker), "the program's own SIGSEGV handler did not run")

    def test_deliver_sends_one_event_per_report_and_removes_them(self):
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        modes = ["segv", "abrt", "thread"]
        ids = {}
        for mode in modes:
            proc, _ = self.crash(mode, data_dir)
            self.assertEqual(proc.returncode, -CASES[mode][0])
        files, _ = self.reports(data_dir)
        self.assertEqual(len(files), len(modes))
        for path in files:
            with open(path, "rb") as f:
                rep = mp_decode(f.read())
            ids[rep["id"]] = rep
        # a corrupt report beside them: set aside, reported, not sent as a crash
        with open(os.path.join(data_dir, "crash", "0" * 32 + ".plume-crash"), "wb") as f:
            f.write(b"\x8f\xa1v\x01garbage")

        rx = AxiomReceiver(path_style="legacy").start()
        self.addCleanup(rx.stop)
        env = run_env(data_dir, {"AXIOM_URL": rx.url, "AXIOM_TOKEN": rx.token,
                                 "AXIOM_DATASET": rx.dataset})
        proc = subprocess.run([EXAMPLE, "--deliver"], env=env, capture_output=True,
                              timeout=RUN_TIMEOUT, cwd=self.tmp)
        out = proc.stdout.decode(errors="replace")
        self.assertEqual(proc.returncode, 0, "deliver: %s\n%s" % (out, proc.stderr[-3000:]))
        self.assertEqual(rx.violations, [])
        events = rx.events
        crashes = [e for e in events if e.get("level") == "fatal"]
        refused = [e for e in events if e.get("level") == "warn"]
        self.assertEqual(len(crashes), len(modes), "events: %r" % events)
        self.assertEqual(len(refused), 1, "events: %r" % events)
        self.assertIn("0" * 32, refused[0].get("reason", ""))
        seen = set()
        for ev in crashes:
            exc = ev.get("exception")
            self.assertIsInstance(exc, dict, "no exception: %r" % ev)
            rep = ids.get(exc.get("id"))
            self.assertIsNotNone(rep, "event id %r is no report's" % exc.get("id"))
            seen.add(exc["id"])
            self.assertEqual(exc["mechanism"], "signalhandler")
            self.assertIs(exc["handled"], False)
            self.assertEqual(exc["signal"]["number"], rep["signo"])
            self.assertEqual(exc["type"], exc["signal"]["name"])
            self.assertTrue(ev["message"].startswith(exc["type"]), ev["message"])
            self.assertEqual(ev.get("thread.id"), rep["tid"])
            self.assertEqual(ev.get("environment"), "example")
            self.assertEqual(ev.get("tags", {}).get("mode") in ("segv", "abrt", "thread"), True)
            self.assertTrue(ev.get("breadcrumbs"), "no breadcrumbs: %r" % ev)
            frames = exc["frames"]
            self.assertEqual([f["addr"] for f in frames], rep["frames"][:len(frames)])
            named = [f.get("function") for f in frames if f.get("in_app")]
            want = {"SIGSEGV": "crash_segv", "SIGABRT": "crash_abrt"}[exc["type"]]
            self.assertIn(want, named, "frames: %r" % frames)
            self.assertTrue(all(isinstance(f.get("module"), int) for f in frames[:3]))
        self.assertEqual(seen, set(ids))
        files, names = self.reports(data_dir)
        self.assertEqual(files, [], "reports left after delivery: %r" % names)
        corrupt = os.path.join(data_dir, "crash", "corrupt")
        self.assertEqual(os.listdir(corrupt), ["0" * 32 + ".plume-crash"])

    def deliver_to_sentry(self, data_dir, rep, index, function):
        """Runs `--deliver` with SENTRY_DSN against a fresh strict receiver and
        checks the one event it must get: event_id = the report id, fatal,
        the signalhandler mechanism, frame `index` of the report (innermost
        first) as the Sentry frame counted from the end (Sentry's frames are
        caller first), and a debug_meta image for the executable whose code_id
        is its GNU build id and through which addr2line resolves that frame to
        `function`, as Sentry's symbolicator would. The report is gone after."""
        sx = SentryReceiver().start()
        self.addCleanup(sx.stop)
        sx.validate_events = True
        proc = subprocess.run([EXAMPLE, "--deliver"], env=run_env(data_dir, {"SENTRY_DSN": sx.dsn}),
                              capture_output=True, timeout=RUN_TIMEOUT, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertEqual(sx.violations, [])
        for r in sx.node_check_all():
            self.assertTrue(r.get("ok") or r.get("skipped"), r)
        events = sx.events()
        self.assertEqual(len(events), 1, events)
        ev = events[0]
        self.assertEqual(ev["event_id"], rep["id"])
        self.assertEqual(ev["level"], "fatal")
        exc = ev["exception"]["values"][0]
        self.assertEqual(exc["mechanism"]["type"], "signalhandler")
        self.assertIs(exc["mechanism"]["handled"], False)
        self.assertEqual(exc["mechanism"]["meta"]["signal"]["number"], rep["signo"])
        frames = exc["stacktrace"]["frames"]
        frame = frames[len(frames) - 1 - index]
        addr = int(frame["instruction_addr"], 16)
        self.assertEqual(addr, rep["frames"][index])
        images = [im for im in ev["debug_meta"]["images"]
                  if os.path.realpath(im["code_file"]) == os.path.realpath(EXAMPLE)]
        self.assertEqual(len(images), 1, ev["debug_meta"])
        image = images[0]
        self.assertEqual(image["code_id"], BUILD_ID)
        base = int(image["image_addr"], 16)
        looked_up = addr - (1 if index > 0 else 0)  # a return address: the call before it
        self.assertTrue(base <= looked_up < base + image["image_size"])
        self.assertEqual(addr2line(EXAMPLE, looked_up - base), function)
        files, _ = self.reports(data_dir)
        self.assertEqual(files, [], "the report is removed once delivered")

if __name__ == "__main__":
    unittest.main(verbosity=2)
