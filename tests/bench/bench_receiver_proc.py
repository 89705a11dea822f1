# SPDX-License-Identifier: MIT
"""Starting and stopping bench_receiver (tests/bench/bench_receiver.c) from the
benchmark scripts: it listens on an ephemeral port on 127.0.0.1, prints the
port alone on its first line, and on SIGTERM prints its totals on a last line
`bench_receiver: requests=N events=N ...`. Token "bench-token", dataset
"bench"."""
import os
import signal
import subprocess


def start_receiver(build):
    """Starts the receiver of build dir `build`; returns (process, port).
    Raises RuntimeError when it cannot start or prints no port."""
    receiver = os.path.join(build, "tests", "bench", "bench_receiver")
    try:
        recv = subprocess.Popen([receiver, "--port", "0", "--token", "bench-token",
                                 "--dataset", "bench"], stdout=subprocess.PIPE, text=True)
    except OSError as e:
        raise RuntimeError("cannot start %s: %s" % (receiver, e))
    line = recv.stdout.readline()
    if not line.strip().isdigit():
        recv.kill()
        recv.wait()
        raise RuntimeError("bench_receiver did not print its port (got %r)" % line)
    return recv, int(line)


def stop_receiver(recv):
    """Sends SIGTERM and returns the totals from its final line as a dict
    (requests, events, bytes_in, bytes_decoded, rejected), or None if it
    printed none."""
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
