"""Verify calls forwarded by a Crochet gateway, with the Python standard library only.

Copy this file into your service. Python 3.8+.

    python3 verify_crochet.py serve            # demo seller on :8080, secret from CROCHET_SIGNING_SECRET
    python3 verify_crochet.py check '<json>'   # verify one request given as JSON (used by Crochet's tests):
        {"headers": {...}, "body": "<exact UTF-8 body>", "secrets": ["..."], "now": "<ISO-8601>", "require_v2": false}

Signature v2 (X-Crochet-Signature-V2) also covers the buyer id and the relay request id: the result
carries "buyer_id" and "relay_request_id" only when it verified ("signature_version": 2). A paid
call's relay_request_id is the same on every retry of one payment: use it as your idempotency key.
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


def _match(secrets_expected, given, previous):
    """First secret index matching the main signature, and the first matching the previous one."""
    main_match = previous_match = -1
    for index, expected in enumerate(secrets_expected):
        # No early exit, and compare_digest on bytes: timing shows neither secret nor prefix.
        if given is not None and hmac.compare_digest(expected, given) and main_match < 0:
            main_match = index
        if previous is not None and hmac.compare_digest(expected, previous) and previous_match < 0:
            previous_match = index
    return main_match, previous_match


def _signatures(secrets, payload):
    return [hmac.new(s.encode("utf-8"), payload, hashlib.sha256).hexdigest().encode("ascii") for s in secrets]


def verify_crochet_request(headers, raw_body, secrets, tolerance_seconds=DEFAULT_TOLERANCE_SECONDS, now=None,
                           require_v2=False):
    """Check one forwarded call. `raw_body` is the exact bytes received, never re-serialized JSON.

    Returns {"ok": True, "request_id", "listing_id", "timestamp", "matched_secret_index",
    "used_previous_signature", "signature_version": 2, "buyer_id", "relay_request_id" (None: a free
    call)} when signature v2 verified; {"ok": True, ..., "signature_version": 1} without buyer_id or
    relay_request_id when only v1 was sent (v1 does not cover them); or {"ok": False, "reason", "header"}.
    require_v2=True refuses calls without X-Crochet-Signature-V2.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    if not secrets or any(not s for s in secrets):
        raise ValueError("secrets must be one or more non-empty strings")
    get = _header_getter(headers)

    # 1. Every required header is present.
    values = {}
    for name in REQUIRED_HEADERS + (("X-Crochet-Signature-V2",) if require_v2 else ()):
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

    # 4. Recompute the v1 HMAC over timestamp.request_id.listing_id.body_sha256 with each secret and
    # compare in constant time, against the main signature and, during a rotation grace period,
    # the previous-secret signature. compare_digest wants bytes when input may be non-ASCII.
    def given(name):
        value = get(name)
        return value.encode("utf-8") if value is not None else None

    request_id, listing_id, buyer_id = (values[h] for h in REQUIRED_HEADERS[:3])
    payload = "{}.{}.{}.{}".format(timestamp, request_id, listing_id, body_sha256).encode("utf-8")
    main_match, previous_match = _match(_signatures(secrets, payload), given("X-Crochet-Signature"),
                                        given("X-Crochet-Signature-Previous"))
    matched = main_match if main_match >= 0 else previous_match
    if matched < 0:
        return {"ok": False, "reason": "bad_signature", "header": "X-Crochet-Signature"}
    result = {"ok": True, "request_id": request_id, "listing_id": listing_id, "timestamp": timestamp}

    # 5. Signature v2, when sent: the same HMAC over the JSON array below, serialized without
    # spaces and with non-ASCII as is (exactly what JavaScript's JSON.stringify writes).
    signature_v2 = given("X-Crochet-Signature-V2")
    if signature_v2 is None:
        # v1 only: buyer and relay ids are not covered, so they are not reported at all.
        result.update(matched_secret_index=matched, used_previous_signature=main_match < 0, signature_version=1)
        return result
    relay_request_id = get("X-Crochet-Relay-Request-Id")
    payload_v2 = json.dumps(
        ["crochet-v2", timestamp, request_id, listing_id, buyer_id, relay_request_id, body_sha256],
        separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")
    main_v2, previous_v2 = _match(_signatures(secrets, payload_v2), signature_v2,
                                  given("X-Crochet-Signature-Previous-V2"))
    matched_v2 = main_v2 if main_v2 >= 0 else previous_v2
    if matched_v2 < 0:
        # A v2 that does not verify means a changed buyer or relay id: never fall back to v1.
        return {"ok": False, "reason": "bad_signature", "header": "X-Crochet-Signature-V2"}
    result.update(matched_secret_index=matched_v2, used_previous_signature=main_v2 < 0, signature_version=2,
                  buyer_id=buyer_id, relay_request_id=relay_request_id)
    return result


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
    # Paid calls: one reply per relay_request_id, so a retried payment is never served twice.
    # In memory for the demo; keep it in your database in production.
    paid_replies = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            result = verify_crochet_request(self.headers, raw_body, secrets, require_v2=True)
            if not result["ok"]:
                return self._json(401, {"error": result["reason"]})
            if guard.is_replay(result["request_id"]):
                return self._json(409, {"error": "replayed_request"})
            relay = result["relay_request_id"]
            if relay is not None and relay in paid_replies:
                return self._json(200, paid_replies[relay])
            reply = {"echo": json.loads(raw_body), "buyer_id": result["buyer_id"], "request_id": result["request_id"]}
            if relay is not None:
                paid_replies[relay] = reply
            return self._json(200, reply)

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
    result = verify_crochet_request(spec["headers"], spec["body"].encode("utf-8"), spec["secrets"], now=now,
                                    require_v2=bool(spec.get("require_v2")))
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
