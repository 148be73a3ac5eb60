"""A fake data.police.uk API on 127.0.0.1 for tests and benchmarks: real and synthetic replies, injected faults.

Serves /api/forces, /api/crimes-street-dates, /api/stops-force and /api/stops-no-location with the JSON
shapes of the real API. Replies come from `data_dir` (default: the real saved replies in
../shared/data/police_uk/api when present: `forces.json`, `crimes-street-dates.json`,
`stops-force_<force>_<YYYY-MM>.json`), from `stops=` given in code, or are synthesised deterministically
per force-month. Faults are injected per endpoint/force/month (`FakePoliceApi.fail`), an optional leaky
bucket answers 429 like the real limit (15/s, bursts of 30), and every request is logged.

    with FakePoliceApi(rate_limit=True) as api:
        client = PoliceApiClient(api.url)
        ...
        assert api.count("stops-force", status=429) == 0

Tests can use the `police_api` fixture (`from tests.police_api_server import police_api`). A subprocess
can run it: `python -m tests.police_api_server --port 0 --data DIR` prints its URL on the first line.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STOPSEARCH_SHARED_DIR", PROJECT.parent / "shared"))
SHARED_API_DIR = SHARED / "data" / "police_uk" / "api"

FAULT_KINDS = (
    "status",        # answer `status` (429 with `retry_after` when given), a short error body
    "slow",          # wait `delay` seconds before answering (beyond the client's timeout)
    "trickle",       # send the headers, then the body a few bytes at a time over `delay` seconds
    "truncate",      # promise the full Content-Length, send half the body, close the connection
    "reset",         # send the headers and part of the body, then reset the connection (TCP RST)
    "html",          # HTTP 200 with an HTML maintenance page
    "not_list",      # HTTP 200 with a JSON object instead of a list
    "invalid_json",  # HTTP 200, complete HTTP message, JSON cut in the middle
    "redirect",      # answer `status` (302 unless given) with Location: `location` (another server, or this one)
)


@dataclass
class Fault:
    """One injected fault; it matches requests to `endpoint` (and force/month when given) `times` times
    (None: for ever). Faults are consumed in the order they were added."""

    kind: str
    endpoint: str | None = "stops-force"
    force: str | None = None
    month: str | None = None
    times: int | None = 1
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    location: str | None = None

    def matches(self, endpoint: str, force: str | None, month: str | None) -> bool:
        return ((self.endpoint is None or self.endpoint == endpoint)
                and (self.force is None or self.force == force)
                and (self.month is None or self.month == month)
                and (self.times is None or self.times > 0))


@dataclass(frozen=True)
class Request:
    """One request as the server saw it: arrival time (monotonic), endpoint, query, answer."""

    at: float
    endpoint: str
    params: dict[str, str]
    status: int
    fault: str | None = None
    port: int = 0  # the client's port: the same port for several requests = a reused connection


@dataclass
class LeakyBucket:
    """The server side of the rate limit: each accepted request adds 1, the level drains at `rate`/s,
    a request that would take it over `burst` is refused (and not counted)."""

    rate: float = 15.0
    burst: int = 30
    level: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def admit(self, now: float) -> bool:
        self.level = max(0.0, self.level - (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level + 1.0 > self.burst + 1e-9:
            return False
        self.level += 1.0
        return True


# -- synthetic data ---------------------------------------------------------------------------------------
_TYPES = ["Person search"] * 7 + ["Person and Vehicle search"] * 2 + ["Vehicle search"]
_SELF = ["White - English/Welsh/Scottish/Northern Irish/British"] * 5 + [
    "White - Any other White background", "Black/African/Caribbean/Black British - African",
    "Black/African/Caribbean/Black British - Caribbean", "Asian/Asian British - Pakistani",
    "Asian/Asian British - Indian", "Mixed/Multiple ethnic groups - White and Black Caribbean",
    "Other ethnic group - Any other ethnic group", "Other ethnic group - Not stated", None]
_OFFICER = ["White"] * 5 + ["Black", "Black", "Asian", "Other", "Mixed", None]
_LEGISLATION = ["Misuse of Drugs Act 1971 (section 23)"] * 4 + [
    "Police and Criminal Evidence Act 1984 (section 1)"] * 2 + [
    "Criminal Justice and Public Order Act 1994 (section 60)", "Firearms Act 1968 (section 47)", None]
_OBJECTS = {"Misuse of Drugs Act 1971 (section 23)": "Controlled drugs",
            "Police and Criminal Evidence Act 1984 (section 1)": "Offensive weapons",
            "Criminal Justice and Public Order Act 1994 (section 60)": "Anything to threaten or harm anyone",
            "Firearms Act 1968 (section 47)": "Firearms", None: None}
_OUTCOMES = [("bu-no-further-action", "A no further action disposal")] * 6 + [
    ("bu-arrest", "Arrest"), ("bu-community-resolution", "Community resolution"),
    ("bu-khat-or-cannabis-warning", "Khat or Cannabis warning"), ("", "")]
_AGES = ["10-17", "18-24", "18-24", "25-34", "over 34", None]


def synthetic_stops(force: str, month: str, *, n: int | None = None) -> list[dict]:
    """Deterministic stop records shaped like /api/stops-force (1..40 of them unless `n` is given)."""
    rng = random.Random(f"{force}|{month}")
    n = rng.randint(1, 40) if n is None else n
    out = []
    for _ in range(n):
        kind = rng.choice(_TYPES)
        vehicle = kind == "Vehicle search"
        legislation = rng.choice(_LEGISLATION)
        outcome_id, outcome = rng.choice(_OUTCOMES)
        date_only = rng.random() < 0.2
        stamp = f"{month}-{rng.randint(1, 28):02d}T" + (
            "00:00:00" if date_only else f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00") + "+00:00"
        location = None if rng.random() < 0.15 else {
            "latitude": f"{51 + rng.random():.6f}", "longitude": f"{-2 + rng.random():.6f}",
            "street": {"id": rng.randint(1, 2_000_000), "name": f"On or near Street {rng.randint(1, 500)}"}}
        out.append({
            "age_range": None if vehicle else rng.choice(_AGES),
            "outcome": outcome,
            "involved_person": not vehicle,
            "self_defined_ethnicity": None if vehicle else rng.choice(_SELF),
            "gender": None if vehicle else rng.choice(["Male"] * 8 + ["Female", "Other"]),
            "legislation": legislation,
            "outcome_linked_to_object_of_search": rng.choice([True, False, None]),
            "datetime": stamp,
            "removal_of_more_than_outer_clothing": rng.choice([False, False, True, None]),
            "outcome_object": {"id": outcome_id, "name": outcome},
            "location": location,
            "operation": rng.choice([None, False, True]),
            "officer_defined_ethnicity": None if vehicle else rng.choice(_OFFICER),
            "type": kind,
            "operation_name": None,
            "object_of_search": _OBJECTS[legislation],
        })
    return out


def _reference_forces() -> list[tuple[str, str, str]]:
    """(id, name, country) from the project's reference table (no pandas needed)."""
    import csv
    with open(PROJECT / "data" / "reference" / "forces.csv", newline="", encoding="utf-8") as handle:
        return [(r["force"], r["name"], r.get("country", "")) for r in csv.DictReader(handle)]


def synthetic_forces() -> list[dict]:
    """Like /api/forces: every force in the reference table except BTP (which the real list omits)."""
    return [{"id": f, "name": name} for f, name, _ in _reference_forces() if f != "btp"]


def synthetic_availability(*, last: str = "2025-06", months: int = 36) -> list[dict]:
    """Like /api/crimes-street-dates: newest first; the gaps DATA.md describes (the Met missing 2024-09..2025-04
    and 2025-06; Greater Manchester, Gwent, North Yorkshire and Northern Ireland never listed)."""
    never = {"greater-manchester", "gwent", "north-yorkshire", "northern-ireland"}
    ids = [f for f, _, _ in _reference_forces() if f not in never]
    year, mon = int(last[:4]), int(last[5:])
    out = []
    for i in range(months):
        index = year * 12 + mon - 1 - i
        month = f"{index // 12:04d}-{index % 12 + 1:02d}"
        met_missing = "2024-09" <= month <= "2025-04" or month == "2025-06"
        out.append({"date": month, "stop-and-search": [f for f in ids if not (f == "metropolitan" and met_missing)]})
    return out


class FakePoliceApi:
    """The fake API server (a context manager). See the module docstring."""

    def __init__(self, *, data_dir: Path | str | None = None, forces: list[dict] | None = None,
                 availability: list[dict] | None = None, stops: Mapping[tuple[str, str], object] | None = None,
                 synthetic: bool = True, rate_limit: bool | tuple[float, int] = False,
                 rate_limit_retry_after: str | None = None, latency: float = 0.0, gzip: bool = False,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        if data_dir is None and SHARED_API_DIR.is_dir():
            data_dir = SHARED_API_DIR
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.forces_list = forces if forces is not None else self._load("forces.json", synthetic_forces)
        self.availability_list = (availability if availability is not None
                                  else self._load("crimes-street-dates.json", synthetic_availability))
        self.synthetic = synthetic
        self.latency = latency
        self.gzip = gzip  # gzip good replies when the client accepts it (the real API sits behind a CDN)
        self.host, self.port = host, port
        if rate_limit is True:
            rate_limit = (15.0, 30)
        self.bucket = LeakyBucket(*rate_limit) if rate_limit else None
        self.rate_limit_retry_after = rate_limit_retry_after
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self._replies: dict[tuple[str, str], bytes] = {}
        for key, value in (stops or {}).items():
            self.set_stops(*key, value)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _load(self, name: str, fallback):
        path = self.data_dir / name if self.data_dir is not None else None
        if path is not None and path.is_file():
            return json.loads(path.read_bytes())
        return fallback()

    # -- what is served ---------------------------------------------------------------------------------
    def set_stops(self, force: str, month: str, reply: object) -> None:
        """Serve `reply` (a list, or raw bytes served as they are) for stops-force of force-month."""
        self._replies[(force, month)] = reply if isinstance(reply, bytes) else json.dumps(reply).encode()

    def published(self, force: str, month: str) -> bool:
        return any(e["date"] == month and force in e["stop-and-search"] for e in self.availability_list)

    @property
    def months(self) -> list[str]:
        """The months the availability list covers, oldest first."""
        return sorted(e["date"] for e in self.availability_list)

    def stops_bytes(self, force: str, month: str) -> bytes | None:
        """The body served for stops-force of force-month (None: answered with an error instead)."""
        if (force, month) in self._replies:
            return self._replies[(force, month)]
        if self.data_dir is not None:
            path = self.data_dir / f"stops-force_{force}_{month}.json"
            if path.is_file():
                return path.read_bytes()
        if self.published(force, month) and self.synthetic:
            body = json.dumps(synthetic_stops(force, month)).encode()
        else:
            body = b"[]"
        self._replies[(force, month)] = body
        return body

    def records_for(self, force: str, month: str) -> list:
        """The JSON list served for stops-force of force-month (for comparing with what a client stored)."""
        return json.loads(self.stops_bytes(force, month))

    # -- faults and counts ------------------------------------------------------------------------------
    def fail(self, kind: str, *, endpoint: str | None = "stops-force", force: str | None = None,
             month: str | None = None, times: int | None = 1, status: int = 500,
             retry_after: str | None = None, delay: float = 0.0, location: str | None = None) -> Fault:
        """Inject a fault (see FAULT_KINDS) for the next `times` matching requests (None: all of them)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        if kind == "redirect" and status == 500:
            status = 302
        fault = Fault(kind, endpoint, force, month, times, status, retry_after, delay, location)
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, endpoint: str, force: str | None, month: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(endpoint, force, month):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def count(self, endpoint: str | None = None, *, status: int | None = None, force: str | None = None,
              month: str | None = None) -> int:
        """How many requests matched (all of them by default)."""
        with self._lock:
            log = list(self.log)
        return sum(1 for r in log
                   if (endpoint is None or r.endpoint == endpoint) and (status is None or r.status == status)
                   and (force is None or r.params.get("force") == force)
                   and (month is None or r.params.get("date") == month))

    def requests_for(self, endpoint: str | None = None, **params: str) -> list[Request]:
        with self._lock:
            return [r for r in self.log if (endpoint is None or r.endpoint == endpoint)
                    and all(r.params.get(k) == v for k, v in params.items())]

    def _record(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)

    # -- life cycle -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API root to give a client, e.g. http://127.0.0.1:40123/api/."""
        if self._server is None:
            raise RuntimeError("the fake API is not running; use it as a context manager or call start()")
        return f"http://{self.host}:{self._server.server_address[1]}/api/"

    def start(self) -> FakePoliceApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._stop.clear()
        self._server = _Server((self.host, self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-police-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes handlers sleeping in a slow fault
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakePoliceApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the server is stopping."""
        return self._stop.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        """Clients that drop or reset a connection are normal here (faults, timeouts); say nothing."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the client's delayed
    # ACK (40 ms on Linux), which would make every reply look slow.
    disable_nagle_algorithm = True
    api: FakePoliceApi
    server_version = "FakePoliceApi/1.0"

    def log_message(self, format: str, *args: object) -> None:  # quiet: the api keeps its own log
        pass

    def do_GET(self) -> None:  # noqa: N802 (the name http.server wants)
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _get(self) -> None:
        api = self.api
        arrived = time.monotonic()
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        endpoint = parts.path.removeprefix("/api/").strip("/")
        force, month = params.get("force"), params.get("date")

        if api.bucket is not None:
            with api._lock:
                admitted = api.bucket.admit(arrived)
            if not admitted:
                api._record(Request(arrived, endpoint, params, 429, "rate-limit", self.client_address[1]))
                headers = {"Retry-After": api.rate_limit_retry_after} if api.rate_limit_retry_after else {}
                return self._send(429, b"Too Many Requests", "text/plain", headers)
        if api.latency:
            api.wait(api.latency)

        fault = api._take_fault(endpoint, force, month)
        status, body, content_type = self._reply(endpoint, force, month)
        if fault is None or status != 200 and fault.kind != "status":
            api._record(Request(arrived, endpoint, params, status, None, self.client_address[1]))
            return self._send(status, body, content_type)
        api._record(Request(arrived, endpoint, params, fault.status if fault.kind in ("status", "redirect") else 200,
                            fault.kind,
                            self.client_address[1]))
        self._fault(fault, body)

    def _reply(self, endpoint: str, force: str | None, month: str | None) -> tuple[int, bytes, str]:
        api = self.api
        if endpoint == "forces":
            return 200, json.dumps(api.forces_list).encode(), "application/json"
        if endpoint == "crimes-street-dates":
            return 200, json.dumps(api.availability_list).encode(), "application/json"
        if endpoint in ("stops-force", "stops-no-location"):
            known = {f["id"] for f in api.forces_list} | {
                f for e in api.availability_list for f in e["stop-and-search"]}
            if not force or force not in known:
                return 404, b"<html><title>404 Not Found</title></html>", "text/html"
            if not month:  # the real API then answers with its latest month, whatever the force has
                month = api.months[-1]
            if api.months and month < api.months[0]:  # reported: errors for dates before the window
                return 500, b"<html><title>500 Internal Server Error</title></html>", "text/html"
            body = api.stops_bytes(force, month)
            if endpoint == "stops-no-location":
                path = api.data_dir / f"stops-no-location_{force}_{month}.json" if api.data_dir else None
                if path is not None and path.is_file():
                    body = path.read_bytes()
                else:
                    body = json.dumps([r for r in json.loads(body) if r.get("location") is None]).encode()
            return 200, body, "application/json"
        return 404, b"<html><title>404 Not Found</title></html>", "text/html"

    def _fault(self, fault: Fault, body: bytes) -> None:
        kind = fault.kind
        if kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            error = json.dumps({"error": f"HTTP {fault.status}"}).encode()
            return self._send(fault.status, error, "application/json", headers)
        if kind == "redirect":
            return self._send(fault.status, b"", "text/plain", {"Location": fault.location or "/"})
        if kind == "slow":
            if self.api.wait(fault.delay):
                return
            return self._send(200, body, "application/json")
        if kind == "html":
            page = (b"<!DOCTYPE html><html><head><title>data.police.uk is down for maintenance</title></head>"
                    b"<body><h1>We'll be back soon</h1></body></html>")
            return self._send(200, page, "text/html; charset=utf-8")
        if kind == "not_list":
            return self._send(200, b'{"error": "force not found"}', "application/json")
        if kind == "invalid_json":
            return self._send(200, body[: max(1, len(body) // 2)], "application/json")
        # The rest send the headers of a good reply, then break the body.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "trickle":
            step = max(1, len(body) // 20)
            for start in range(0, len(body), step):
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
                if self.api.wait(fault.delay / 20):
                    break
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        if kind == "reset":
            # SO_LINGER 0 + close sends RST instead of FIN: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        if self.api.gzip and status == 200 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


try:  # a fixture for tests that `from tests.police_api_server import police_api`
    import pytest

    @pytest.fixture()
    def police_api() -> Iterable[FakePoliceApi]:
        """A running fake API (real replies from ../shared when present, synthetic otherwise), no rate limit."""
        with FakePoliceApi() as api:
            yield api
except ImportError:  # pragma: no cover - running as a script without pytest
    pass


def _parse_fault(spec: str) -> dict:
    """'status,status=503,times=2,force=kent,month=2024-01' -> fail() keywords."""
    kind, *pairs = spec.split(",")
    out: dict = {"kind": kind}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key in ("times", "status"):
            out[key] = None if value == "none" else int(value)
        elif key == "delay":
            out[key] = float(value)
        else:
            out[key] = value or None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake data.police.uk API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on the first line)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder of saved replies (forces.json, crimes-street-dates.json, "
                             "stops-force_<force>_<month>.json); default ../shared when present")
    parser.add_argument("--no-synthetic", action="store_true", help="serve [] where no saved reply exists")
    parser.add_argument("--rate-limit", action="store_true", help="refuse with 429 beyond 15/s, bursts of 30")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--fail", action="append", default=[], metavar="SPEC",
                        help="inject a fault, e.g. 'status,status=503,times=2,force=kent,month=2024-01'")
    args = parser.parse_args(argv)
    api = FakePoliceApi(data_dir=args.data, synthetic=not args.no_synthetic, rate_limit=args.rate_limit,
                        latency=args.latency, host=args.host, port=args.port)
    for spec in args.fail:
        api.fail(**_parse_fault(spec))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with api:
        print(api.url, flush=True)
        try:
            while not done.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
    print(f"served {api.count()} requests ({api.count(status=429)} answered 429)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
