"""Verify calls forwarded by a Crochet gateway, with the Python standard library only.

Copy this file into your service. Python 3.8+.

    python3 verify_crochet.py serve            # demo seller on :8080, secret from CROCHET_SIGNING_SECRET
    python3 verify_crochet.py check '<json>'   # verify one request given as JSON (used by Crochet's tests):
        {"headers": {...}, "body": "<exact UTF-8 body>", "secrets": ["..."], "now": "<ISO-8601>"}
"""

import hashlib
import hmac
import json
import os
import re
import sys
import time
from datetime import datetime, timedelta, timezone

DEFAULT_TOLERANCE_SECONDS = 300  # SPEC: +/- 5 minutes

REQUIRED_HEADERS = (
    "X-Crochet-Request-Id",
    "X-Crochet-Listing-Id",
    "X-Crochet-Buyer-Id",
    "X-Crochet-Timestamp",
    "X-Crochet-Body-SHA256",
    "X-Crochet-Signature",
)

# An explicit offset is required so both sides agree on the instant.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


def _parse_timestamp(value):
    """ISO-8601 with an offset -> aware datetime, or None."""
    m = _TIMESTAMP.fullmatch(value)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micros = int((m.group(7) or "").ljust(6, "0")[:6])
    zone = m.group(8)
    if zone == "Z":
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    except ValueError:
        return None


def _header_getter(headers):
    """Case-insensitive lookup over a dict or an http.server/email Message; '' counts as absent."""
    if isinstance(headers, dict):
        lowered = {}
        for name, value in headers.items():
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            if value and name.lower() not in lowered:
                lowered[name.lower()] = value
        return lambda name: lowered.get(name.lower())
    return lambda name: headers.get(name) or None


def verify_crochet_request(headers, raw_body, secrets, tolerance_seconds=DEFAULT_TOLERANCE_SECONDS, now=None):
    """Check one forwarded call. `raw_body` is the exact bytes received, never re-serialized JSON.

    Returns {"ok": True, "request_id", "listing_id", "buyer_id", "timestamp", "relay_request_id",
    "matched_secret_index", "used_previous_signature"} or {"ok": False, "reason", "header"}.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    if not secrets or any(not s for s in secrets):
        raise ValueError("secrets must be one or more non-empty strings")
    get = _header_getter(headers)

    # 1. Every required header is present.
    values = {}
    for name in REQUIRED_HEADERS:
        value = get(name)
        if value is None:
            return {"ok": False, "reason": "missing_header", "header": name}
        values[name] = value

    # 2. The timestamp parses and is fresh.
    timestamp = values["X-Crochet-Timestamp"]
    sent_at = _parse_timestamp(timestamp)
    if sent_at is None:
        return {"ok": False, "reason": "malformed_timestamp", "header": "X-Crochet-Timestamp"}
    now = now or datetime.now(timezone.utc)
    if abs((now - sent_at).total_seconds()) > tolerance_seconds:
        return {"ok": False, "reason": "stale_timestamp", "header": "X-Crochet-Timestamp"}

    # 3. The body hash matches the exact bytes received.
    body_sha256 = hashlib.sha256(raw_body).hexdigest()
    if body_sha256 != values["X-Crochet-Body-SHA256"]:
        return {"ok": False, "reason": "body_hash_mismatch", "header": "X-Crochet-Body-SHA256"}

    # 4. Recompute the HMAC over timestamp.request_id.listing_id.body_sha256 with each secret and
    # compare in constant time, against the main signature and, during a rotation grace period,
    # the previous-secret signature. compare_digest wants bytes when input may be non-ASCII.
    payload = "{}.{}.{}.{}".format(
        timestamp, values["X-Crochet-Request-Id"], values["X-Crochet-Listing-Id"], body_sha256
    ).encode("utf-8")
    given = values["X-Crochet-Signature"].encode("utf-8")
    previous = get("X-Crochet-Signature-Previous")
    given_previous = previous.encode("utf-8") if previous is not None else None
    main_match = previous_match = -1
    for index, secret in enumerate(secrets):
        expected = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest().encode("ascii")
        if hmac.compare_digest(expected, given) and main_match < 0:
            main_match = index
        if given_previous is not None and hmac.compare_digest(expected, given_previous) and previous_match < 0:
            previous_match = index
    matched = main_match if main_match >= 0 else previous_match
    if matched < 0:
        return {"ok": False, "reason": "bad_signature", "header": "X-Crochet-Signature"}

    # 5. Accept. Buyer and relay ids are reported, not covered by the signature.
    return {
        "ok": True,
        "request_id": values["X-Crochet-Request-Id"],
        "listing_id": values["X-Crochet-Listing-Id"],
        "buyer_id": values["X-Crochet-Buyer-Id"],
        "timestamp": timestamp,
        "relay_request_id": get("X-Crochet-Relay-Request-Id"),
        "matched_secret_index": matched,
        "used_previous_signature": main_match < 0,
    }


class ReplayGuard:
    """Optional, for endpoints that are not idempotent: remembers request ids in memory.

    A signed call stays acceptable until timestamp + tolerance, up to twice the tolerance after it
    first arrives, hence 600 s. One process only; use a shared store with several workers.
    """

    def __init__(self, ttl_seconds=2 * DEFAULT_TOLERANCE_SECONDS):
        self.ttl_seconds = ttl_seconds
        self._expires = {}

    def is_replay(self, request_id, now=None):
        now = time.monotonic() if now is None else now
        # Insertion order is expiry order (fixed TTL): expired ids sit at the front.
        while self._expires:
            oldest = next(iter(self._expires))
            if self._expires[oldest] > now:
                break
            del self._expires[oldest]
        if request_id in self._expires:
            return True
        self._expires[request_id] = now + self.ttl_seconds
        return False


def serve(port=8080):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    secrets = [s for s in os.environ.get("CROCHET_SIGNING_SECRET", "").split(",") if s]
    guard = ReplayGuard()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            result = verify_crochet_request(self.headers, raw_body, secrets)
            if not result["ok"]:
                return self._json(401, {"error": result["reason"]})
            if guard.is_replay(result["request_id"]):
                return self._json(409, {"error": "replayed_request"})
            return self._json(200, {"echo": json.loads(raw_body), "request_id": result["request_id"]})

        def _json(self, status, obj):
            data = json.dumps(obj).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    HTTPServer(("0.0.0.0", port), Handler).serve_forever()


def _check(arg):
    spec = json.loads(arg)
    now = _parse_timestamp(spec["now"]) if spec.get("now") else None
    result = verify_crochet_request(spec["headers"], spec["body"].encode("utf-8"), spec["secrets"], now=now)
    print(json.dumps(result, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(_check(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        serve(int(os.environ.get("PORT", "8080")))
    else:
        print(__doc__)
        sys.exit(2)
