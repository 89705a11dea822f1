# SPDX-License-Identifier: MIT
"""Tests of the local Axiom receiver itself (tests/support/axiom_receiver.py).

The agent scenarios trust the receiver to refuse what the real service refuses
and to record exactly what it accepted; these tests send hand-made requests
(urllib, http.client and raw sockets where urllib cannot express the request)
and check every rejection rule, the recording, the scripting hooks and the
command-line mode used by the benchmark.
"""

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import zstandard  # noqa: E402

from http_client import post  # noqa: E402
import axiom_receiver  # noqa: E402
from axiom_receiver import AxiomReceiver, parse_rfc3339  # noqa: E402

T0 = "2026-11-21T10:00:00.123456789Z"


def ndjson(events):
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def zstd(data):
    return zstandard.ZstdCompressor().compress(data)


def good_headers(token="t", encoding="zstd"):
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"}
    if encoding:
        h["Content-Encoding"] = encoding
    return h


class ReceiverTest(unittest.TestCase):
    def setUp(self):
        self.r = AxiomReceiver().start()
        self.addCleanup(self.r.stop)
        self.url = self.r.url + "/v1/datasets/ds/ingest"

    def send(self, events=None, body=None, headers=None, encoding="zstd", path=None, **kw):
        if body is None:
            raw = ndjson(events if events is not None else [{"_time": T0, "message": "hi"}])
            body = {"zstd": zstd, "gzip": gzip.compress, None: lambda b: b}[encoding](raw)
        h = good_headers(encoding=encoding) if headers is None else headers
        return post(self.r.url + path if path else self.url, body, h, **kw)

    def assertRefused(self, status, *args, violation=True, **kw):
        got, _, body = self.send(*args, **kw)
        self.assertEqual(got, status, body)
        self.assertIsInstance(body, dict)
        self.assertEqual(body.get("code"), status)
        self.assertTrue(body.get("message"))
        self.assertEqual(self.r.events, [])
        if violation:
            self.assertEqual(len(self.r.violations), 1, self.r.violations)
            self.assertIn("-> %d" % status, self.r.violations[0])
        else:
            self.assertEqual(self.r.violations, [])
        return body

    # -- accepted requests ------------------------------------------------------
    def test_zstd_request_accepted_and_recorded(self):
        evs = [{"_time": T0, "message": "a", "n": 1}, {"_time": T0, "level": "warn", "x": [1, {"y": None}]}]
        status, hdrs, body = self.send(evs)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["Content-Type"], "application/json")
        self.assertEqual(body, {"ingested": 2, "failed": 0, "failures": [],
                                "processedBytes": len(ndjson(evs))})
        self.assertEqual(self.r.events, evs)
        (req,) = self.r.requests
        self.assertEqual((req.method, req.path, req.status, req.event_count), ("POST", "/v1/datasets/ds/ingest", 200, 2))
        self.assertEqual(req.headers["content-encoding"], "zstd")
        self.assertEqual(req.headers["authorization"], "Bearer t")
        self.assertEqual(self.r.violations, [])

    def test_gzip_and_plain_bodies_accepted(self):
        self.assertEqual(self.send([{"_time": T0, "k": "gz"}], encoding="gzip")[0], 200)
        self.assertEqual(self.send([{"_time": T0, "k": "plain"}], encoding=None)[0], 200)
        self.assertEqual([e["k"] for e in self.r.events], ["gz", "plain"])
        self.assertEqual(self.r.violations, [])

    def test_concatenated_frames_and_members_accepted(self):
        a, b = ndjson([{"_time": T0, "i": 1}]), ndjson([{"_time": T0, "i": 2}])
        self.assertEqual(self.send(body=zstd(a) + zstd(b))[0], 200)
        self.assertEqual(self.send(body=gzip.compress(a) + gzip.compress(b), encoding="gzip")[0], 200)
        self.assertEqual([e["i"] for e in self.r.events], [1, 2, 1, 2])

    def test_streaming_zstd_frame_without_content_size(self):
        raw = ndjson([{"_time": T0, "i": i, "pad": "x" * 100} for i in range(2000)])
        cobj = zstandard.ZstdCompressor().compressobj()
        body = cobj.compress(raw) + cobj.flush()
        self.assertEqual(self.send(body=body)[0], 200)
        self.assertEqual(len(self.r.events), 2000)

    def test_time_formats_accepted(self):
        times = ["2026-01-31T23:59:59Z", "2026-02-28T00:00:00.5+01:00", "2024-02-29t12:00:00.000000001z",
                 "2026-06-30T23:59:60Z", "1970-01-01T00:00:00-23:59"]
        self.assertEqual(self.send([{"_time": t} for t in times])[0], 200)
        self.assertEqual(len(self.r.events), 5)

    def test_parse_rfc3339_values(self):
        self.assertEqual(parse_rfc3339("1970-01-01T00:00:01.5Z"), 1_500_000_000)
        self.assertEqual(parse_rfc3339("1970-01-01T01:00:00+01:00"), 0)
        self.assertEqual(parse_rfc3339("2026-11-21T10:00:00.1234567891Z") % 10**9, 123456789)
        for bad in ("2026-11-21 10:00:00Z", "2026-11-21T10:00:00", "2026-13-01T00:00:00Z",
                    "2026-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+24:00",
                    "2026-01-01T00:00:00.Z", 1700000000, "x"):
            with self.assertRaises(ValueError, msg=bad):
                parse_rfc3339(bad)

    def test_exactly_10000_events_accepted(self):
        self.assertEqual(self.send([{"_time": T0, "i": i} for i in range(10000)])[0], 200)
        self.assertEqual(len(self.r.events), 10000)

    def test_no_trailing_newline_accepted(self):
        self.assertEqual(self.send(body=zstd(b'{"_time":"%s"}' % T0.encode()))[0], 200)
        self.assertEqual(len(self.r.events), 1)

    def test_edge_and_any_path_styles(self):
        for style, ok, bad in (("edge", ["/v1/ingest/ds"], ["/v1/datasets/ds/ingest"]),
                               ("any", ["/v1/ingest/ds", "/v1/datasets/ds/ingest"], ["/v1/ingest/other"])):
            with AxiomReceiver(path_style=style) as r:
                for p in ok:
                    st, _, _ = post(r.url + p, zstd(ndjson([{"_time": T0}])), good_headers())
                    self.assertEqual(st, 200, (style, p))
                for p in bad:
                    st, _, _ = post(r.url + p, zstd(ndjson([{"_time": T0}])), good_headers())
                    self.assertEqual(st, 404, (style, p))
                self.assertEqual(len(r.events), len(ok))
                self.assertEqual(len(r.violations), len(bad))

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
        for i in range(3):
            conn.request("POST", "/v1/datasets/ds/ingest", zstd(ndjson([{"_time": T0, "i": i}])), good_headers())
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()
        peers = {req.peer for req in self.r.requests}
        self.assertEqual(len(peers), 1, "all three requests on one TCP connection")
        self.assertEqual([e["i"] for e in self.r.events], [0, 1, 2])

    def test_expect_100_continue_and_chunked_body(self):
        raw = zstd(ndjson([{"_time": T0, "via": "chunked"}]))
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /v1/datasets/ds/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                  b"Content-Type: application/x-ndjson\r\nContent-Encoding: zstd\r\n"
                  b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 100"))
        self.assertEqual(f.readline(), b"\r\n")
        half = len(raw) // 2
        for part in (raw[:half], raw[half:]):
            s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 200"))
        self.assertEqual(self.r.events, [{"_time": T0, "via": "chunked"}])

    # -- refused requests ---------------------------------------------------------
    def test_wrong_method_405(self):
        self.assertRefused(405, method="PUT")

    def test_get_405(self):
        status, _, _ = post(self.url, None, method="GET")
        self.assertEqual(status, 405)
        self.assertEqual(len(self.r.violations), 1)

    def test_wrong_dataset_or_path_404(self):
        self.assertRefused(404, path="/v1/datasets/other/ingest")

    def test_query_string_is_not_the_ingest_path(self):
        self.assertRefused(404, path="/v1/datasets/ds/ingest?timestamp-field=ts")

    def test_missing_authorization_401(self):
        h = good_headers()
        del h["Authorization"]
        self.assertRefused(401, headers=h)

    def test_wrong_scheme_401(self):
        h = good_headers()
        h["Authorization"] = "Basic dDp0"
        self.assertRefused(401, headers=h)

    def test_wrong_token_401_is_not_a_violation(self):
        self.assertRefused(401, headers=good_headers(token="xaat-other"), violation=False)
        (req,) = self.r.requests
        self.assertEqual(req.status, 401)

    def test_personal_token_needs_org_id(self):
        with AxiomReceiver(token="xapt-p", path_style="any") as r:
            body = zstd(ndjson([{"_time": T0}]))
            self.assertEqual(post(r.url + "/v1/datasets/ds/ingest", body, good_headers("xapt-p"))[0], 403)
            h = dict(good_headers("xapt-p"), **{"X-Axiom-Org-Id": "org"})
            self.assertEqual(post(r.url + "/v1/datasets/ds/ingest", body, h)[0], 200)
            self.assertEqual(post(r.url + "/v1/ingest/ds", body, h)[0], 403)
            self.assertEqual(len(r.events), 1)
            self.assertEqual(len(r.violations), 2)

    def test_wrong_content_type_415(self):
        h = good_headers()
        h["Content-Type"] = "application/json"
        self.assertRefused(415, headers=h)

    def test_missing_content_type_415(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
        conn.putrequest("POST", "/v1/datasets/ds/ingest", skip_accept_encoding=True)
        body = zstd(ndjson([{"_time": T0}]))
        for k, v in (("Authorization", "Bearer t"), ("Content-Encoding", "zstd"),
                     ("Content-Length", str(len(body)))):
            conn.putheader(k, v)
        conn.endheaders(body)
        self.assertEqual(conn.getresponse().status, 415)
        conn.close()
        self.assertEqual(len(self.r.violations), 1)

    def test_content_type_parameters_allowed(self):
        h = good_headers()
        h["Content-Type"] = "application/x-ndjson; charset=utf-8"
        self.assertEqual(self.send(headers=h)[0], 200)

    def test_unsupported_content_encoding_415(self):
        self.assertRefused(415, headers=good_headers(encoding="br"))

    def test_corrupt_zstd_400(self):
        good = zstd(ndjson([{"_time": T0, "m": "x" * 50}]))
        self.assertRefused(400, body=b"not zstd at all")
        self.r = AxiomReceiver().start()
        self.addCleanup(self.r.stop)
        self.url = self.r.url + "/v1/datasets/ds/ingest"
        self.assertRefused(400, body=good[:-4])  # truncated frame

    def test_trailing_garbage_after_zstd_400(self):
        self.assertRefused(400, body=zstd(ndjson([{"_time": T0}])) + b"junk")

    def test_corrupt_gzip_400(self):
        good = gzip.compress(ndjson([{"_time": T0}]))
        self.assertRefused(400, body=good[:-6], encoding="gzip")

    def test_zstd_declared_but_plain_body_400(self):
        self.assertRefused(400, body=ndjson([{"_time": T0}]))

    def test_line_not_json_400(self):
        self.assertRefused(400, body=zstd(b'{"_time":"%s"}\nhello\n' % T0.encode()))

    def test_line_not_an_object_400(self):
        self.assertRefused(400, body=zstd(b'["_time"]\n'))

    def test_nan_is_not_json_400(self):
        self.assertRefused(400, body=zstd(b'{"_time":"%s","v":NaN}\n' % T0.encode()))

    def test_empty_line_in_the_middle_400(self):
        line = b'{"_time":"%s"}\n' % T0.encode()
        self.assertRefused(400, body=zstd(line + b"\n" + line))

    def test_invalid_utf8_400(self):
        self.assertRefused(400, body=zstd(b'{"_time":"%s","m":"\xff"}\n' % T0.encode()))

    def test_missing_time_400(self):
        self.assertRefused(400, [{"message": "no time"}])

    def test_invalid_time_400(self):
        for bad in ("yesterday", 1700000000, "2026-02-30T00:00:00Z", "2026-11-21T10:00:00"):
            with self.subTest(bad=bad):
                self.r.stop()
                self.r = AxiomReceiver().start()
                self.url = self.r.url + "/v1/datasets/ds/ingest"
                self.assertRefused(400, [{"_time": bad}])

    def test_more_than_10000_events_400(self):
        body = self.assertRefused(400, [{"_time": T0}] * 10001)
        self.assertIn("10001", body["message"])

    def test_missing_content_length_411(self):
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /v1/datasets/ds/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                  b"Content-Type: application/x-ndjson\r\n\r\n")
        self.assertTrue(s.makefile("rb").readline().startswith(b"HTTP/1.1 411"))
        self.assertEqual(len(self.r.violations), 1)

    def test_oversized_body_413_without_reading_it(self):
        s = socket.create_connection(("127.0.0.1", self.r.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /v1/datasets/ds/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                  b"Content-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n"
                  % (axiom_receiver.MAX_BODY_BYTES + 1))
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 413"))
        rest = f.read()  # the server must close the connection: reads to EOF
        self.assertIn(b"Connection: close", rest)

    def test_decompression_bomb_413(self):
        old = axiom_receiver.MAX_DECOMPRESSED_BYTES
        axiom_receiver.MAX_DECOMPRESSED_BYTES = 1 << 20
        self.addCleanup(setattr, axiom_receiver, "MAX_DECOMPRESSED_BYTES", old)
        self.assertRefused(413, body=zstd(b'{"_time":"%s","p":"%s"}\n' % (T0.encode(), b"a" * (2 << 20))))

    # -- contract lint: answered 200 but recorded -----------------------------------
    def test_reserved_keys_and_duplicates_are_violations(self):
        body = zstd(b'{"_time":"%s","_secret":1}\n{"_time":"%s","a":1,"a":2}\n'
                    b'{"_time":"%s","s":"\\ud800"}\n' % ((T0.encode(),) * 3))
        self.assertEqual(self.send(body=body)[0], 200)
        v = self.r.violations
        self.assertEqual(len(v), 3, v)
        self.assertIn("_secret", v[0])
        self.assertIn("duplicate", v[1])
        self.assertIn("surrogate", v[2])
        self.assertEqual(len(self.r.events), 3)

    def test_paired_surrogate_escape_is_fine(self):
        body = zstd(b'{"_time":"%s","s":"\\ud83c\\udf89"}\n' % T0.encode())
        self.assertEqual(self.send(body=body)[0], 200)
        self.assertEqual(self.r.violations, [])
        self.assertEqual(self.r.events[0]["s"], "\U0001F389")

    # -- scripting ---------------------------------------------------------------------
    def test_respond_with_queue_then_default(self):
        self.r.respond_with(500, times=2)
        self.r.respond_with(429, {"X-RateLimit-Reset": "1234"})
        got = []
        for i in range(4):
            status, hdrs, _ = self.send([{"_time": T0, "i": i}])
            got.append((status, hdrs.get("X-RateLimit-Reset")))
        self.assertEqual(got, [(500, None), (500, None), (429, "1234"), (200, None)])
        self.assertEqual([e["i"] for e in self.r.events], [3], "events of non-2xx requests are not accepted")
        self.assertEqual([q.event_count for q in self.r.requests], [1, 1, 1, 1])
        self.assertEqual([q.events[0]["i"] for q in self.r.requests], [0, 1, 2, 3])
        self.assertEqual(self.r.violations, [])

    def test_respond_with_custom_body_and_forever(self):
        self.r.respond_with(503, body=b"down", times=None)
        for _ in range(3):
            status, _, body = self.send()
            self.assertEqual((status, body), (503, b"down"))
        self.r.clear_responses()
        self.assertEqual(self.send()[0], 200)

    def test_invalid_request_does_not_consume_canned_answer(self):
        self.r.respond_with(500)
        self.assertEqual(self.send(headers=good_headers(encoding="br"))[0], 415)
        self.assertEqual(self.send()[0], 500)

    def test_rate_limit_helper(self):
        self.r.rate_limit(2000000000)
        status, hdrs, _ = self.send()
        self.assertEqual((status, hdrs["X-RateLimit-Reset"]), (429, "2000000000"))

    def test_partial_failure(self):
        self.r.partial_failure(2)
        evs = [{"_time": T0, "i": i} for i in range(5)]
        status, _, body = self.send(evs)
        self.assertEqual(status, 200)
        self.assertEqual((body["ingested"], body["failed"], len(body["failures"])), (3, 2, 2))
        self.assertEqual(body["failures"][0]["timestamp"], T0)
        self.assertTrue(body["failures"][0]["error"])
        self.assertEqual([e["i"] for e in self.r.events], [0, 1, 2])
        status, _, body = self.send(evs)
        self.assertEqual(body["failed"], 0, "only the next 200 is partial")

    def test_set_delay(self):
        self.r.set_delay(0.3)
        t = time.monotonic()
        self.assertEqual(self.send()[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)

    def test_wait_for_events_and_requests(self):
        t = time.monotonic()
        self.assertFalse(self.r.wait_for_events(1, 0.2))
        self.assertGreaterEqual(time.monotonic() - t, 0.2)
        th = threading.Thread(target=lambda: [self.send([{"_time": T0}] * 3) for _ in range(2)])
        th.start()
        self.assertTrue(self.r.wait_for_events(6, 10))
        self.assertTrue(self.r.wait_for_requests(2, 10))
        th.join()
        self.assertFalse(self.r.wait_for_requests(3, 0.05))

    def test_request_timestamps(self):
        w0, m0 = time.time(), time.monotonic()
        self.send()
        (req,) = self.r.requests
        self.assertTrue(w0 <= req.wall <= time.time())
        self.assertTrue(m0 <= req.mono <= time.monotonic())

    def test_stop_closes_keep_alive_connections(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.r.port, timeout=10)
        conn.request("POST", "/v1/datasets/ds/ingest", zstd(ndjson([{"_time": T0}])), good_headers())
        conn.getresponse().read()
        self.r.stop()
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            conn.request("POST", "/v1/datasets/ds/ingest", zstd(ndjson([{"_time": T0}])), good_headers())
            conn.getresponse()
        conn.close()


class ReceiverCliTest(unittest.TestCase):
    def test_count_only_cli(self):
        script = axiom_receiver.__file__
        p = subprocess.Popen([sys.executable, script, "--port", "0", "--print-port", "--count-only"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            port = int(p.stdout.readline())
            url = "http://127.0.0.1:%d" % port
            body = zstd(ndjson([{"_time": T0, "i": i} for i in range(1234)]))
            self.assertEqual(post(url + "/v1/datasets/ds/ingest", body, good_headers())[0], 200)
            self.assertEqual(post(url + "/v1/ingest/ds", gzip.compress(b"x\ny\n"),
                                  good_headers(encoding="gzip"))[0], 200)
            self.assertEqual(post(url + "/v1/ingest/ds", body, good_headers("bad"))[0], 401)
            status, _, stats = post(url + "/_stats", None, method="GET")
            self.assertEqual(status, 200)
            self.assertEqual(stats["events"], 1236)
            self.assertEqual(stats["requests"], 3)
            self.assertEqual(stats["violation_count"], 0)
        finally:
            p.terminate()
            out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out, b"", "nothing but the port on stdout")
        self.assertEqual(err, b"")


if __name__ == "__main__":
    unittest.main(verbosity=2)
