#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""stdin -> Axiom sink -> local receiver benchmark.

Generates N realistic JSON log lines (~200 bytes), pipes them through
`plume-agent --stdin` to the local Axiom receiver (loopback), and prints
lines/s, MB/s, the agent's CPU seconds and peak RSS. In the same run it times
raw zstd level 1 over the same bytes (bench_zstd_raw) and prints the ratio.
Usage: bench_stdin.py BUILD_DIR [LINES]
"""
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))


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


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    agent = os.path.join(build, "plume-agent")
    zstd_raw = os.path.join(build, "tests", "bench", "bench_zstd_raw")
    with tempfile.TemporaryDirectory(prefix="plume-bench-") as tmp:
        data = os.path.join(tmp, "lines.ndjson")
        generate(data, n)
        size = os.path.getsize(data)

        recv = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "..", "support", "axiom_receiver.py"),
                                 "--port", "0", "--print-port", "--count-only",
                                 "--token", "bench-token", "--dataset", "bench"],
                                stdout=subprocess.PIPE, text=True)
        port = int(recv.stdout.readline())
        cfg = os.path.join(tmp, "agent.toml")
        with open(cfg, "w") as f:
            f.write('[agent]\ndata_dir = "%s"\nlog_level = "warn"\n'
                    '[sources.stdin]\nenabled = true\nformat = "json"\n'
                    '[sinks.axiom]\nurl = "http://127.0.0.1:%d"\ntoken = "bench-token"\n'
                    'dataset = "bench"\n' % (os.path.join(tmp, "data"), port))
        env = dict(os.environ)
        for k in ("AXIOM_TOKEN", "AXIOM_DATASET", "AXIOM_URL"):
            env.pop(k, None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        with open(data, "rb") as stdin:
            proc = subprocess.run([agent, "--config", cfg], stdin=stdin, env=env,
                                  stderr=subprocess.PIPE, timeout=600)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        recv.terminate()
        recv.wait()
        summary = [l for l in proc.stderr.decode().splitlines() if "summary" in l]
        if proc.returncode != 0:
            print(proc.stderr.decode()[-3000:], file=sys.stderr)
            sys.exit("agent failed with exit code %d" % proc.returncode)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rss_mib = after.ru_maxrss / 1024.0  # peak RSS of the largest waited child (the agent)
        zs = subprocess.run([zstd_raw, data], capture_output=True, text=True, check=True).stdout
        zmb = float(zs.split()[0].split("=")[1])
        mbps = size / 1e6 / wall
        print("input: %d lines, %.1f MB (%.0f bytes/line)" % (n, size / 1e6, size / n))
        print("end to end: %.2f s wall, %.0f lines/s, %.1f MB/s" % (wall, n / wall, mbps))
        print("agent CPU: %.2f s (user+sys), peak RSS: %.1f MiB" % (cpu, rss_mib))
        print("raw zstd-1 on the same bytes: %.1f MB/s" % zmb)
        print("ratio end-to-end / raw zstd-1: %.2f (target >= 0.60)" % (mbps / zmb))
        print("peak RSS target <= 64 MiB: %s" % ("met" if rss_mib <= 64 else "NOT met"))
        if summary:
            print(summary[-1])


if __name__ == "__main__":
    main()
