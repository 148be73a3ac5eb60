"""The police.uk client over real sockets against the fake API: replies, every injected fault, retries, limits."""
from __future__ import annotations

import email.utils
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from data.api import DEFAULT_API_URL, PoliceApiClient, api_url, parse_retry_after
from data.errors import BadMonthRange, BadResponse, RateLimited, SourceUnavailable
from data.ratelimit import API_BURST, BURST_HEADROOM, RateLimiter, police_api_limiter
from tests.police_api_server import FakePoliceApi

PROJECT = Path(__file__).resolve().parents[1]
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}


@pytest.fixture()
def api():
    """The fake API (real replies from ../shared when present, synthetic otherwise), no rate limit."""
    with FakePoliceApi() as server:
        yield server


def fast_client(api: FakePoliceApi, **options) -> PoliceApiClient:
    """A client that does not wait long: tiny back-off, a limiter far above anything these tests send."""
    options = {"limiter": RateLimiter(rate=1000, burst=1000), "timeout": 2.0, "max_attempts": 4, **FAST, **options}
    return PoliceApiClient(api.url, **options)


# -- configuration ----------------------------------------------------------------------------------------
def test_api_url_argument_beats_environment_beats_default(monkeypatch):
    monkeypatch.delenv("STOPSEARCH_API_URL", raising=False)
    assert api_url() == DEFAULT_API_URL == "https://data.police.uk/api/"
    monkeypatch.setenv("STOPSEARCH_API_URL", "http://127.0.0.1:9/api")
    assert api_url() == "http://127.0.0.1:9/api/"
    assert PoliceApiClient().base_url == "http://127.0.0.1:9/api/"
    assert api_url("http://example.test/x/") == "http://example.test/x/"


@pytest.mark.parametrize(("header", "expected"), [
    ("2", 2.0), ("0.5", 0.5), (" 7 ", 7.0), (None, None), ("", None), ("soon", None), ("-3", None),
])
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0  # in the past


# -- the rate limiter -------------------------------------------------------------------------------------
def test_token_bucket_allows_the_burst_then_the_rate():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(rate=15, burst=30, clock=lambda: clock[0], sleep=sleep)
    for _ in range(30):
        assert limiter.acquire() == 0.0  # the burst costs nothing
    for _ in range(15):
        limiter.acquire()
    # 15 more tokens at 15/s: one second, within float rounding
    assert clock[0] == pytest.approx(1.0)
    limiter.pause(5)
    start = clock[0]
    limiter.acquire()
    assert clock[0] - start == pytest.approx(5 + 1 / 15)  # paused, and the bucket was emptied


def test_one_limiter_holds_across_threads():
    limiter = RateLimiter(rate=100, burst=10)
    stamps: list[float] = []
    lock = threading.Lock()

    def work():
        for _ in range(15):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 90 tokens, 10 in the burst, 80 at 100/s: at least 0.8 s whatever the number of threads
    assert len(stamps) == 90
    assert max(stamps) - started >= 0.78


def test_default_limiter_stays_under_the_published_limit():
    limiter = police_api_limiter()
    assert limiter.rate == 15.0 and limiter.burst == API_BURST - BURST_HEADROOM <= 30


# -- good replies -----------------------------------------------------------------------------------------
def test_real_replies_come_back_as_served(shared_dir):
    api_dir = shared_dir / "data" / "police_uk" / "api"
    with FakePoliceApi(data_dir=api_dir) as api, fast_client(api) as client:
        forces = client.forces()
        assert forces == json.loads((api_dir / "forces.json").read_text())
        assert len(forces) == 44 and "btp" not in {f["id"] for f in forces}
        availability = client.availability()
        assert len(availability) == 36 and min(availability) == "2022-07" and max(availability) == "2025-06"
        assert "btp" in availability["2025-06"]  # published although /api/forces omits it
        assert "metropolitan" not in availability["2024-09"] and "metropolitan" in availability["2024-08"]
        stops = client.stops_force("leicestershire", "2023-07")
        assert stops == json.loads((api_dir / "stops-force_leicestershire_2023-07.json").read_text())
        assert len(stops) == 531 and sum(s["location"] is None for s in stops) == 53
        assert client.requests == 3 and client.retries == 0


def test_gzipped_replies_are_decoded():
    with FakePoliceApi(gzip=True) as api, fast_client(api) as client:
        assert client.stops_force("kent", "2024-01") == api.records_for("kent", "2024-01")
        assert client.availability()


def test_stops_force_always_sends_the_date(api):
    with fast_client(api) as client:
        client.stops_force("kent", " 2024-01 ")  # stripped
        with pytest.raises(BadMonthRange):
            client.stops_force("kent", "")
        with pytest.raises(ValueError):
            client.stops_force("", "2024-01")
    assert [r.params for r in api.requests_for("stops-force")] == [{"force": "kent", "date": "2024-01"}]


# -- faults that are retried ------------------------------------------------------------------------------
RETRIED = [
    pytest.param({"kind": "status", "status": 500}, "HTTP 500", id="500"),
    pytest.param({"kind": "status", "status": 502}, "HTTP 502", id="502"),
    pytest.param({"kind": "status", "status": 503}, "HTTP 503", id="503"),
    pytest.param({"kind": "status", "status": 504}, "HTTP 504", id="504"),
    pytest.param({"kind": "status", "status": 429}, "HTTP 429", id="429-no-retry-after"),
    pytest.param({"kind": "slow", "delay": 6.0}, "no complete reply within 0.5 s", id="slow"),
    pytest.param({"kind": "trickle", "delay": 6.0}, "no complete reply within 0.5 s", id="trickle"),
    pytest.param({"kind": "truncate"}, "connection failed", id="truncated-body"),
    pytest.param({"kind": "reset"}, "connection failed", id="connection-reset"),
    pytest.param({"kind": "invalid_json"}, "truncated or invalid JSON", id="invalid-json"),
]


@pytest.mark.parametrize(("fault", "logged"), RETRIED)
def test_fault_is_retried_and_the_reply_is_exact(api, caplog, fault, logged):
    api.fail(**fault, force="kent", month="2024-01", times=2)
    with fast_client(api, timeout=0.5) as client, caplog.at_level(logging.WARNING, logger="data.api"):
        started = time.monotonic()
        stops = client.stops_force("kent", "2024-01")
        elapsed = time.monotonic() - started
    assert stops == api.records_for("kent", "2024-01") and len(stops) > 0
    assert api.count("stops-force") == 3 and client.requests == 3 and client.retries == 2
    retries = [r for r in caplog.records if r.name == "data.api"]
    assert len(retries) == 2 and all(logged in r.getMessage() for r in retries)
    assert "retry 1 of at most 3" in retries[0].getMessage()
    # the 0.5 s timeout bounds each attempt; unbounded, the two slow faults take 12 s. Bounded loosely
    # (a busy machine must not fail it): the messages above already say which timeout fired.
    assert elapsed < 8.0


def test_429_retry_after_seconds_is_honoured(api):
    api.fail("status", status=429, retry_after="1", force="kent", month="2024-02")
    with fast_client(api) as client:
        client.stops_force("kent", "2024-02")
    first, second = api.requests_for("stops-force")
    assert (first.status, second.status) == (429, 200)
    assert 1.0 <= second.at - first.at < 3.0  # waited what the server asked, not the 0.01 s back-off


def test_429_retry_after_http_date_is_honoured(api):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1 to 2 s from now
    api.fail("status", status=429, retry_after=when, force="kent", month="2024-02")
    with fast_client(api) as client:
        client.stops_force("kent", "2024-02")
    first, second = api.requests_for("stops-force")
    assert 0.9 <= second.at - first.at < 4.0


def test_retry_after_pauses_every_worker(api):
    # One thread is told to wait; the others share its limiter and wait too (the server counts them all).
    api.fail("status", status=429, retry_after="1", force="kent", month="2024-04")
    with fast_client(api) as client:
        worker = threading.Thread(target=client.stops_force, args=("kent", "2024-04"))
        worker.start()
        time.sleep(0.2)  # the 429 is in; the pause is on
        started = time.monotonic()
        client.stops_force("essex", "2024-04")
        waited = time.monotonic() - started
        worker.join()
    assert waited >= 0.6


def test_retry_after_beyond_the_cap_gives_up_at_once(api):
    api.fail("status", status=429, retry_after="3600", force="kent", month="2024-01")
    with fast_client(api, max_retry_after=60) as client, pytest.raises(RateLimited) as caught:
        client.stops_force("kent", "2024-01")
    assert api.count() == 1
    assert "3600 s" in str(caught.value) and "later" in str(caught.value)


# -- bounded attempts, then an error naming the reason ---------------------------------------------------
@pytest.mark.parametrize(("status", "error"), [(503, SourceUnavailable), (429, RateLimited), (500, SourceUnavailable)])
def test_attempts_are_bounded(api, status, error):
    api.fail("status", status=status, force="kent", month="2024-01", times=None)
    with fast_client(api, max_attempts=3) as client, pytest.raises(error) as caught:
        client.stops_force("kent", "2024-01")
    assert api.count("stops-force") == 3
    message = str(caught.value)
    assert f"HTTP {status}" in message and "after 3 attempts" in message and "again later" in message
    assert caught.value.context["force"] == "kent" and caught.value.context["month"] == "2024-01"


def test_timeouts_are_bounded_too(api):
    api.fail("slow", delay=5.0, force="kent", month="2024-01", times=None)
    with fast_client(api, timeout=0.3, max_attempts=2) as client, pytest.raises(SourceUnavailable) as caught:
        started = time.monotonic()
        client.stops_force("kent", "2024-01")
    assert time.monotonic() - started < 4.0  # unbounded: 2 x 5 s
    assert "no complete reply within 0.3 s" in str(caught.value)


# -- answers that are not what the API promises: BadResponse, not retried ---------------------------------
def test_html_page_with_status_200_is_a_bad_response(api):
    api.fail("html", force="kent", month="2024-01")
    with fast_client(api) as client, pytest.raises(BadResponse) as caught:
        client.stops_force("kent", "2024-01")
    assert "HTML page" in str(caught.value) and "maintenance" in str(caught.value)
    assert api.count() == 1


def test_json_that_is_not_a_list_is_a_bad_response(api):
    api.fail("not_list", force="kent", month="2024-01")
    api.fail("not_list", endpoint="crimes-street-dates")
    with fast_client(api) as client:
        with pytest.raises(BadResponse, match="JSON dict, not a list of searches"):
            client.stops_force("kent", "2024-01")
        with pytest.raises(BadResponse, match="availability reply is a JSON dict"):
            client.availability()
    assert api.count() == 2


def test_client_error_is_not_retried(api):
    with fast_client(api) as client, pytest.raises(SourceUnavailable, match="HTTP 404"):
        client.stops_force("no-such-force", "2024-01")
    assert api.count() == 1


def test_malformed_api_address_is_reported_not_retried():
    client = PoliceApiClient("htp://127.0.0.1:9/api/", limiter=RateLimiter(rate=100, burst=10), **FAST)
    with pytest.raises(SourceUnavailable, match="--api-url"):
        client.forces()
    assert client.requests == 1 and client.retries == 0


def test_threads_share_one_client(api):
    api.fail("status", status=503, times=4)
    with fast_client(api, max_attempts=6) as client:
        months = [f"2024-{m:02d}" for m in range(1, 13)]
        results: dict[str, list] = {}
        threads = [threading.Thread(target=lambda m=m: results.__setitem__(m, client.stops_force("kent", m)))
                   for m in months]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert all(results[m] == api.records_for("kent", m) for m in months)
    assert client.requests == api.count() == 16 and client.retries == 4


# -- the fake server as a separate process ----------------------------------------------------------------
def test_fake_server_runs_as_a_module(tmp_path):
    (tmp_path / "forces.json").write_text(json.dumps([{"id": "kent", "name": "Kent Police"}]))
    (tmp_path / "crimes-street-dates.json").write_text(json.dumps([{"date": "2024-01", "stop-and-search": ["kent"]}]))
    (tmp_path / "stops-force_kent_2024-01.json").write_text(json.dumps([{"type": "Vehicle search"}]))
    process = subprocess.Popen([sys.executable, "-m", "tests.police_api_server", "--port", "0", "--data",
                                str(tmp_path), "--fail", "status,status=503,times=1"],
                               cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/")
        client = PoliceApiClient(url, limiter=RateLimiter(rate=100, burst=10), **FAST)
        assert client.forces() == [{"id": "kent", "name": "Kent Police"}]
        assert client.availability() == {"2024-01": {"kent"}}
        assert client.stops_force("kent", "2024-01") == [{"type": "Vehicle search"}]
        assert client.retries == 1
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "served 4 requests" in err
