#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""stdin -> Axiom sink -> local receiver benchmark.

Generates N realistic JSON log lines (~200 bytes), pipes them through
`plume-agent --stdin` to the local Axiom receiver (bench_receiver, loopback),
and prints lines/s, MB/s, the agent's CPU seconds and peak RSS (the agent's own
rusage, from os.wait4) and the receiver's totals. It fails if the receiver did
not count exactly N events or refused any request. In the same run it times
raw zstd level 1 over the same bytes (bench_zstd_raw, best of 3 passes) and
prints the ratio. The machine is shared and its speed drifts by tens of
percent over seconds, so after one untimed warm-up run (and with the input
file synced to disk first) it runs ROUNDS rounds (default 3), each the agent
then raw zstd right after it, and prints every round plus best-vs-best and
the median ratio.
Usage: bench_stdin.py BUILD_DIR [LINES [ROUNDS]]
"""
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

from bench_receiver_proc import start_receiver, stop_receiver


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
        # The generated file must not still be written back to disk while the
        # rounds run (that I/O and CPU would be charged to the first round).
        f.flush()
        os.fsync(f.fileno())


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


def run_round(build, data, n, tmp):
    """One end-to-end run: a fresh receiver and data_dir, the agent on `data`.
    Returns a dict of the figures, or exits with a message on any failure."""
    agent = os.path.join(build, "plume-agent")
    data_dir = tempfile.mkdtemp(prefix="data-", dir=tmp)
    try:
        recv, port = start_receiver(build)
    except RuntimeError as e:
        sys.exit(str(e))
    try:
        cfg = os.path.join(tmp, "agent.toml")
        with open(cfg, "w") as f:
            f.write('[agent]\ndata_dir = "%s"\nlog_level = "warn"\n'
                    '[sources.stdin]\nenabled = true\nformat = "json"\n'
                    '[sinks.axiom]\nurl = "http://127.0.0.1:%d"\ntoken = "bench-token"\n'
                    'dataset = "bench"\n' % (data_dir, port))
        env = dict(os.environ)
        for k in ("AXIOM_TOKEN", "AXIOM_DATASET", "AXIOM_URL"):
            env.pop(k, None)
        t0 = time.monotonic()
        code, usage, stderr = run_agent([agent, "--config", cfg], data, env, tmp, 600)
        wall = time.monotonic() - t0
    finally:
        counts = stop_receiver(recv)
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
    summary = [l for l in stderr.splitlines() if "summary" in l]
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mib": usage.ru_maxrss / 1024.0,  # the agent's own peak (wait4 on its pid)
            "counts": counts, "summary": summary[-1] if summary else ""}


def raw_zstd(build, data):
    """MB/s of raw zstd level 1 over the same bytes (best of the tool's 3 passes)."""
    zstd_raw = os.path.join(build, "tests", "bench", "bench_zstd_raw")
    out = subprocess.run([zstd_raw, data], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0].split("=")[1])


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory(prefix="plume-bench-") as tmp:
        data = os.path.join(tmp, "lines.ndjson")
        generate(data, n)
        size = os.path.getsize(data)
        print("input: %d lines, %.1f MB (%.0f bytes/line)" % (n, size / 1e6, size / n))
        # The machine is shared and its speed drifts: each round runs the agent
        # and then raw zstd-1 right after it, so each ratio compares the two
        # under the same conditions.
        # One untimed warm-up run first (binaries, page cache, the receiver's
        # buffers), as hyperfine --warmup does.
        run_round(build, data, n, tmp)
        results = []
        for i in range(rounds):
            r = run_round(build, data, n, tmp)
            r["mbps"] = size / 1e6 / r["wall"]
            r["zstd"] = raw_zstd(build, data)
            r["ratio"] = r["mbps"] / r["zstd"]
            results.append(r)
            c = r["counts"]
            print("round %d: %.2f s wall, %.0f lines/s, %.1f MB/s; agent CPU %.2f s, peak RSS "
                  "%.1f MiB; raw zstd-1 %.1f MB/s; ratio %.2f; receiver %d requests, %.1f MB in, "
                  "%.1f MB decoded" % (i + 1, r["wall"], n / r["wall"], r["mbps"], r["cpu"],
                                       r["rss_mib"], r["zstd"], r["ratio"], c["requests"],
                                       c["bytes_in"] / 1e6, c["bytes_decoded"] / 1e6))
        ratios = sorted(r["ratio"] for r in results)
        best = max(r["mbps"] for r in results)
        best_zstd = max(r["zstd"] for r in results)
        rss = max(r["rss_mib"] for r in results)
        print("best end to end: %.1f MB/s (%.0f lines/s); best raw zstd-1: %.1f MB/s"
              % (best, best * 1e6 * n / size, best_zstd))
        print("ratio end-to-end / raw zstd-1 (target >= 0.60): best/best %.2f, median of rounds "
              "%.2f" % (best / best_zstd, ratios[len(ratios) // 2]))
        print("peak RSS (max of rounds) %.1f MiB, target <= 64 MiB: %s"
              % (rss, "met" if rss <= 64 else "NOT met"))
        print(results[-1]["summary"])


if __name__ == "__main__":
    main()
