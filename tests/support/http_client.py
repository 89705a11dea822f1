# SPDX-License-Identifier: MIT
"""The test client side of the local receivers' tests: one HTTP request."""

import json
import urllib.error
import urllib.request


def post(url, body, headers=None, method="POST", timeout=10):
    """Sends one request with urllib; returns (status, headers, parsed JSON or
    raw body) for every status, errors included."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    try:
        data = json.loads(data)
    except ValueError:
        pass
    return status, hdrs, data
