#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""stdin -> Axiom sink -> local receiver benchmark.

Generates N realistic JSON log lines (~200 bytes), pipes them through
`plume-agent --stdin` to the local Axiom receiver (bench_receiver, loopback),
and prints lines/s, MB/s, the agent's CPU seconds and peak RSS (the agent's own
rusage, from os.wait4) and the receiver's totals. It fails if the receiver did
not count exactly N events or refused any request. In the same run it times
raw zstd level 1 over the same bytes (bench_zstd_raw) and prints the ratio.
Usage: bench_stdin.py BUILD_DIR [LINES]
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time


def generate(path, n):
    rnd = random.Random(42)
    paths = ["/api/orders", "/api/users/{id}", "/healthz", "/api/payments", "/static/app.js"]
    msgs = ["request completed", "cache miss", "slow query", "payment authorised",
            "user login", "retrying upstream call"]
    levels = ["info"] * 6 + ["debug", "warn", "error"]
    base = 1795255200.0
    with open(path, "w") as f:
        for i in range(n):
            t = base + i * 0.0005
            sec = int(t)
            frac = int((t - sec) * 1e6)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06dZ" % frac
            line = ('{"time":"%s","level":"%s","msg":"%s","service":"checkout","host":"node-%02d",'
                    '"path":"%s","status":%d,"duration_ms":%.3f,"user_id":%d,"trace_id":"%032x"}\n'
                    % (ts, rnd.choice(levels), rnd.choice(msgs), rnd.randrange(16),
                       rnd.choice(paths), rnd.choice([200, 200, 200, 201, 404, 500]),
                       rnd.random() * 250, rnd.randrange(1000000), rnd.getrandbits(128)))
            f.write(line)


def run_agent(argv, stdin_path, env, tmp, timeout):
    """Runs the agent with stdin from stdin_path and waits for it with
    os.wait4, so the rusage (CPU, ru_maxrss) is the agent's own and not the
    maximum over all children. Kills it after `timeout` seconds. Returns
    (exit code, rusage, stderr text)."""
    err_path = os.path.join(tmp, "agent.stderr")
    with open(stdin_path, "rb") as stdin, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=stdin, stderr=err, env=env)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
    with open(err_path, "rb") as f:
        stderr = f.read().decode(errors="replace")
    return proc.returncode, usage, stderr


def stop_receiver(recv):
    """Sends SIGTERM to bench_receiver and returns the totals from its final
    line as a dict (requests, events, bytes_in, bytes_decoded, rejected), or
    None if it printed none."""
    recv.send_signal(signal.SIGTERM)
    try:
        out, _ = recv.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        recv.kill()
        out, _ = recv.communicate()
    for line in reversed(out.splitlines()):
        if line.startswith("bench_receiver:"):
            return {k: int(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    return None


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    agent = os.path.join(build, "plume-agent")
    zstd_raw = os.path.join(build, "tests", "bench", "bench_zstd_raw")
    receiver = os.path.join(build, "tests", "bench", "bench_receiver")
    with tempfile.TemporaryDirectory(prefix="plume-bench-") as tmp:
        data = os.path.join(tmp, "lines.ndjson")
        generate(data, n)
        size = os.path.getsize(data)

        recv = subprocess.Popen([receiver, "--port", "0", "--token", "bench-token",
                                 "--dataset", "bench"], stdout=subprocess.PIPE, text=True)
        try:
            line = recv.stdout.readline()
            if not line.strip().isdigit():
                sys.exit("bench_receiver did not print its port (got %r)" % line)
            port = int(line)
            cfg = os.path.join(tmp, "agent.toml")
            with open(cfg, "w") as f:
                f.write('[agent]\ndata_dir = "%s"\nlog_level = "warn"\n'
                        '[sources.stdin]\nenabled = true\nformat = "json"\n'
                        '[sinks.axiom]\nurl = "http://127.0.0.1:%d"\ntoken = "bench-token"\n'
                        'dataset = "bench"\n' % (os.path.join(tmp, "data"), port))
            env = dict(os.environ)
            for k in ("AXIOM_TOKEN", "AXIOM_DATASET", "AXIOM_URL"):
                env.pop(k, None)
            t0 = time.monotonic()
            code, usage, stderr = run_agent([agent, "--config", cfg], data, env, tmp, 600)
            wall = time.monotonic() - t0
        finally:
            counts = stop_receiver(recv)
        summary = [l for l in stderr.splitlines() if "summary" in l]
        if code != 0:
            print(stderr[-3000:], file=sys.stderr)
            sys.exit("agent failed with exit code %d" % code)
        if counts is None:
            sys.exit("bench_receiver exited with status %s without printing its totals"
                     % recv.returncode)
        if recv.returncode != 0:
            sys.exit("bench_receiver exited with status %s" % recv.returncode)
        if counts["events"] != n or counts["rejected"] != 0:
            sys.exit("receiver counts are wrong (expected events=%d rejected=0): %s"
                     % (n, " ".join("%s=%d" % kv for kv in counts.items())))
        cpu = usage.ru_utime + usage.ru_stime
        rss_mib = usage.ru_maxrss / 1024.0  # the agent's own peak RSS (wait4 on its pid)
        zs = subprocess.run([zstd_raw, data], capture_output=True, text=True, check=True).stdout
        zmb = float(zs.split()[0].split("=")[1])
        mbps = size / 1e6 / wall
        print("input: %d lines, %.1f MB (%.0f bytes/line)" % (n, size / 1e6, size / n))
        print("end to end: %.2f s wall, %.0f lines/s, %.1f MB/s" % (wall, n / wall, mbps))
        print("agent CPU: %.2f s (user+sys), peak RSS: %.1f MiB" % (cpu, rss_mib))
        print("raw zstd-1 on the same bytes: %.1f MB/s" % zmb)
        print("ratio end-to-end / raw zstd-1: %.2f (target >= 0.60)" % (mbps / zmb))
        print("receiver: %d requests, %d events, %.1f MB received, %.1f MB decoded, %d rejected"
              % (counts["requests"], counts["events"], counts["bytes_in"] / 1e6,
                 counts["bytes_decoded"] / 1e6, counts["rejected"]))
        print("peak RSS target <= 64 MiB: %s" % ("met" if rss_mib <= 64 else "NOT met"))
        if summary:
            print(summary[-1])


if __name__ == "__main__":
    main()
