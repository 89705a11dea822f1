# SPDX-License-Identifier: MIT
"""What the local test receivers (axiom_receiver.py, sentry_receiver.py) share:
an HTTP/1.1 keep-alive server on 127.0.0.1 that keeps track of its open
connections (so stop() can close them), bounded reading of a request body
(Content-Length or chunked), writing an answer, scripted ("canned") answers,
and the receiver's lifecycle and deadline waits on a condition variable.

A receiver subclasses ReceiverBase, names its handler class (a subclass of
Handler) and implements `_handle(h)`, which runs on the server's threads for
every request; it records under `self._cond` and calls `notify_all()`.
"""

import collections
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BadRequest(Exception):
    """A request that breaks a rule: answered with `status` and `message`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Canned:
    """A scripted answer for the next `times` valid requests (None: until
    cleared); body None lets the receiver generate its usual one."""

    __slots__ = ("status", "headers", "body", "times")

    def __init__(self, status, headers, body, times):
        self.status, self.headers, self.body, self.times = status, headers, body, times


class Server(ThreadingHTTPServer):
    """Keeps the set of client connections accepted and not yet closed.

    A connection joins the set in the same step (under conn_lock) as it is
    accepted, and leaves it once its handler is done and it is closed, so
    that, with the lock held, a client's connection is either still waiting
    to be accepted (the listening socket is readable) or in the set, never
    between the two (see no_connections)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, receiver):
        self.receiver = receiver
        self.open_connections = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, handler)

    def get_request(self):
        # only called once the listening socket is readable: accept() does not wait
        with self.conn_lock:
            conn, addr = self.socket.accept()
            self.open_connections.add(conn)
        return conn, addr

    def shutdown_request(self, request):
        # every accepted connection ends here, whatever its handler did
        with self.conn_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def no_connections(self):
        """True when no client connection is open or waiting to be accepted."""
        with self.conn_lock:
            if self.open_connections:
                return False
            readable, _, _ = select.select([self.socket], [], [], 0)
            return not readable


class Handler(BaseHTTPRequestHandler):
    """Reads bodies up to `max_body` bytes and answers; every method goes to
    the receiver's `_handle`. (The server tracks the connection.)"""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is dropped after this
    sys_version = ""
    max_body = 64 * 1024 * 1024
    bodiless_methods = ("GET", "HEAD")  # may come without Content-Length

    def log_message(self, fmt, *args):  # silent: stdout/stderr belong to the test
        pass

    def _fail_reading(self, status, message):
        self.close_connection = True
        raise BadRequest(status, message)

    def read_body(self):
        """Reads the body (Content-Length or chunked), bounded. Raises BadRequest
        and closes the connection when it cannot be read safely."""
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                self._fail_reading(501, "unsupported Transfer-Encoding %r" % te)
            return self._read_chunked()
        cl = self.headers.get("Content-Length")
        if cl is None:
            if self.command in self.bodiless_methods:
                return b""
            self._fail_reading(411, "no Content-Length and not chunked")
        if not cl.strip().isdigit():
            self._fail_reading(400, "bad Content-Length %r" % cl)
        n = int(cl)
        if n > self.max_body:
            self._fail_reading(413, "body of %d bytes exceeds %d" % (n, self.max_body))
        data = self.rfile.read(n)
        if len(data) != n:
            self._fail_reading(400, "body ended after %d of %d bytes" % (len(data), n))
        return data

    def _read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                self._fail_reading(400, "bad chunk size line")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._fail_reading(400, "bad chunk size %r" % line[:40])
            if size < 0 or len(out) + size > self.max_body:
                self._fail_reading(413, "chunked body exceeds %d bytes" % self.max_body)
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailers until the empty line
                return bytes(out)
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                self._fail_reading(400, "truncated chunk")
            out += chunk

    def answer(self, status, headers, body):
        try:
            self.send_response(status)
            if body and not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _handle(self):
        self.server.receiver._handle(self)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class ReceiverBase:
    """Lifecycle (start/stop, context manager), address, canned answers and
    the recorded requests/violations with deadline waits. Subclasses set
    `handler_class` and `thread_name` and implement `_handle(h)`."""

    handler_class = Handler
    thread_name = "receiver"

    def __init__(self, port=0):
        self._port = port
        self._cond = threading.Condition()
        self._requests, self._violations = [], []
        self._canned = collections.deque()
        self._stopping = threading.Event()
        self._server = self._thread = None

    # -- lifecycle -------------------------------------------------------------
    def start(self):
        self._server = Server(("127.0.0.1", self._port), self.handler_class, self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops serving and closes open keep-alive connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._server.conn_lock:
            conns = list(self._server.open_connections)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # -- scripting -------------------------------------------------------------
    def respond_with(self, status, headers=None, body=None, times=1):
        """Queues a canned answer for the next `times` valid requests (None =
        until clear_responses()). body=None: the receiver generates its usual
        body for that status. Requests that break a rule are answered with
        their error and do not consume the queue."""
        if times is not None and times < 1:
            raise ValueError("times must be None or at least 1")
        with self._cond:
            self._canned.append(Canned(status, dict(headers or {}), body, times))

    def clear_responses(self):
        with self._cond:
            self._canned.clear()

    def _take_canned(self):
        """The canned answer for this request, or None (call under _cond)."""
        if not self._canned:
            return None
        canned = self._canned[0]
        if canned.times is not None:
            canned.times -= 1
            if canned.times <= 0:
                self._canned.popleft()
        return canned

    # -- recorded state --------------------------------------------------------
    @property
    def requests(self):
        with self._cond:
            return list(self._requests)

    @property
    def violations(self):
        with self._cond:
            return list(self._violations)

    def wait_for(self, predicate, timeout):
        """Waits until predicate(self) is true (evaluated under the lock after
        every request) or the deadline passes; returns the last result."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                r = predicate(self)
                left = deadline - time.monotonic()
                if r or left <= 0:
                    return r
                self._cond.wait(left)
