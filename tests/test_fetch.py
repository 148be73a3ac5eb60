"""data.fetch against the fake API over real sockets: what is stored, the four statuses, resuming, the rate limit,
and a real `python -m data fetch` killed mid-run and resumed."""
from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data import normalise
from data.api import PoliceApiClient
from data.errors import BadMonthRange, BadResponse, SourceUnavailable, UnknownForce
from data.fetch import FetchSummary, fetch, normalise_replies
from data.ratelimit import RateLimiter
from data.store import Store
from tests.police_api_server import FakePoliceApi, synthetic_forces, synthetic_stops

PROJECT = Path(__file__).resolve().parents[1]
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
# A small availability list written here, so these tests mean the same with or without ../shared:
# essex did not publish 2024-05; btp is listed although /api/forces omits it; nothing before 2024-01.
AVAILABILITY = [{"date": m, "stop-and-search": ["btp", "kent", "surrey"] + ([] if m == "2024-05" else ["essex"])}
                for m in reversed(MONTHS)]


def fast_client(api: FakePoliceApi, **options) -> PoliceApiClient:
    options = {"limiter": RateLimiter(rate=1000, burst=1000), "timeout": 1.0, "max_attempts": 3,
               "backoff_base": 0.01, "backoff_cap": 0.05, **options}
    return PoliceApiClient(api.url, **options)


@pytest.fixture()
def api():
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY) as server:
        yield server


@pytest.fixture()
def store(store_dir: Path) -> Store:
    return Store(store_dir)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as strings, so frames built at different times compare by value."""
    return frame.astype({c: "string" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


def statuses(store: Store) -> dict[tuple[str, str], str]:
    return {(e.force, e.month): e.status for e in store.entries()}


# -- what is stored ---------------------------------------------------------------------------------------
def test_stored_records_are_exactly_the_served_json(api, store):
    api.set_stops("kent", "2024-03", [])  # a published month with no searches
    with fast_client(api) as client:
        summary = fetch(store, ["kent", "btp"], MONTHS[:4], client=client)
    assert (summary.ok, summary.empty, summary.not_published, summary.failed) == (7, 1, 0, [])
    total = 0
    for force in ("kent", "btp"):
        for month in MONTHS[:4]:
            served = api.records_for(force, month)
            # oracle: the served JSON through the same normaliser, independently of the fetch
            expected = normalise.from_api_records(served, force=force, month=month)
            stored = store.read_raw([force], [month])
            pd.testing.assert_frame_equal(plain(stored), plain(expected))
            entry = store.entry(force, month)
            assert entry.records == len(served) and entry.source.endswith(f"stops-force?force={force}&date={month}")
            total += len(served)
    assert summary.records == total and summary.requests == 1 + 8 and summary.retries == 0


def test_real_leicestershire_reply_is_stored_record_for_record(shared_dir, store):
    with FakePoliceApi(data_dir=shared_dir / "data" / "police_uk" / "api") as api, fast_client(api) as client:
        summary = fetch(store, ["leicestershire"], ["2023-07"], client=client)
        served = api.records_for("leicestershire", "2023-07")
    assert summary.ok == 1 and summary.records == 531 == len(served)
    stored = store.read_raw(["leicestershire"], ["2023-07"])
    expected = normalise.from_api_records(served, force="leicestershire", month="2023-07")
    pd.testing.assert_frame_equal(plain(stored), plain(expected))
    assert stored["latitude"].isna().sum() == 53  # the searches without a location are in stops-force


def test_replies_normalised_together_store_the_same_bytes_as_one_by_one(tmp_path):
    # fetch normalises every reply that has arrived in one call, then splits: same frames, same files
    replies = [("kent", m, f"u/{m}", synthetic_stops("kent", m)) for m in MONTHS[:5]]
    replies += [("surrey", "2024-01", "u/s", []), ("btp", "2024-02", "u/b", synthetic_stops("btp", "2024-02", n=1)),
                ("essex", "2024-03", "u/e", BadResponse("failed earlier"))]
    together, alone = Store(tmp_path / "together"), Store(tmp_path / "alone")
    for (force, month, url, reply), frame in zip(replies, normalise_replies(replies), strict=True):
        if isinstance(reply, BadResponse):
            assert frame is reply
            continue
        expected = normalise.from_api_records(reply, force=force, month=month)
        pd.testing.assert_frame_equal(frame, expected)  # categories and their order included
        a = together.write_month(force, month, frame, source=url)
        b = alone.write_month(force, month, expected, source=url)
        assert a.checksum == b.checksum


def test_one_bad_reply_among_several_fails_alone():
    replies = [("kent", "2024-01", "u/1", synthetic_stops("kent", "2024-01")),
               ("kent", "2024-02", "u/2", [{"type": "Person search", "operation": "maybe"}]),
               ("kent", "2024-03", "u/3", synthetic_stops("kent", "2024-03"))]
    first, bad, third = normalise_replies(replies)
    assert len(first) == len(replies[0][3]) and len(third) == len(replies[2][3])
    assert isinstance(bad, Exception) and "u/2" in str(bad) and "maybe" in str(bad)


# -- the four statuses ------------------------------------------------------------------------------------
def test_not_published_empty_and_failed_are_distinct(api, store):
    api.set_stops("surrey", "2024-06", [])
    api.fail("status", status=503, force="kent", month="2024-07", times=None)
    with fast_client(api) as client:
        summary = fetch(store, ["essex", "kent", "surrey"], ["2023-12", "2024-05", "2024-06", "2024-07"],
                        client=client)
    got = statuses(store)
    assert got[("essex", "2024-05")] == "not_published"       # not in the availability list
    assert got[("surrey", "2024-06")] == "empty"               # listed, answered []
    assert got[("kent", "2024-07")] == "failed"                # listed, kept failing
    assert {got[(f, "2023-12")] for f in ("essex", "kent", "surrey")} == {"not_published"}  # before the window
    assert (summary.ok, summary.empty, summary.not_published, len(summary.failed)) == (6, 1, 4, 1)
    # never requested what the list does not give
    assert api.count("stops-force", force="essex", month="2024-05") == 0
    assert api.count("stops-force", month="2023-12") == 0
    assert api.count("stops-force", force="kent", month="2024-07") == 3  # max_attempts
    force, month, reason = summary.failed[0]
    assert (force, month) == ("kent", "2024-07") and "HTTP 503" in reason and "3 attempts" in reason
    assert store.entry("kent", "2024-07").reason == reason
    older = store.entry("kent", "2023-12")
    assert "older" in older.source and "bulk import" in older.source
    assert any("older than the API's oldest month (2024-01)" in note for note in summary.notes)
    assert store.entry("essex", "2024-05").source.endswith("(does not list essex for 2024-05)")
    assert store.read_raw(["surrey"], ["2024-06"]).empty


def test_every_stops_force_request_has_a_date(api, store):
    with fast_client(api) as client:
        fetch(store, "kent,essex", MONTHS, client=client)
    requests = api.requests_for("stops-force")
    assert len(requests) == 23 and all(r.params.get("date") for r in requests)


def test_btp_is_fetched_although_api_forces_omits_it(api, store):
    assert "btp" not in {f["id"] for f in api.forces_list}
    with fast_client(api) as client:
        summary = fetch(store, ["btp"], ["2024-01"], client=client)
    assert summary.ok == 1 and store.entry("btp", "2024-01").status == "ok"


# -- bad answers leave the store as it was ----------------------------------------------------------------
def test_bad_response_on_refresh_keeps_stored_data(api, store):
    with fast_client(api) as client:
        fetch(store, ["kent"], ["2024-01"], client=client)
        before = store.entry("kent", "2024-01")
        path = store.path_for("kent", "2024-01")
        payload = path.read_bytes()
        api.fail("html", force="kent", month="2024-01")
        summary = fetch(store, ["kent"], ["2024-01"], client=client, refresh=True)
    assert summary.ok == 0 and len(summary.failed) == 1 and "HTML page" in summary.failed[0][2]
    assert api.count("stops-force", force="kent", month="2024-01") == 2  # an HTML page is not retried
    after = store.entry("kent", "2024-01")
    assert (after.status, after.records, after.checksum) == (before.status, before.records, before.checksum)
    assert "refresh failed" in after.reason and path.read_bytes() == payload


@pytest.mark.parametrize(("reply", "reason"), [
    (b'{"error": "oops"}', "not a list of searches"),
    (b"[1, 2]", "not an object"),
    (b'[{"type": "Person search", "location": "somewhere"}]', "could not be read as stop records"),
])
def test_reply_of_the_wrong_shape_fails_that_month_only(api, store, reply, reason):
    api.set_stops("kent", "2024-02", reply)
    with fast_client(api) as client:
        summary = fetch(store, ["kent"], ["2024-01", "2024-02"], client=client)
    assert summary.ok == 1 and [(f, m) for f, m, _ in summary.failed] == [("kent", "2024-02")]
    assert reason in summary.failed[0][2]
    assert store.entry("kent", "2024-02").status == "failed"
    assert not store.path_for("kent", "2024-02").exists()


def test_unknown_force_and_bad_month_are_rejected_before_any_request(api, store):
    with fast_client(api) as client:
        with pytest.raises(UnknownForce, match="Did you mean 'metropolitan'"):
            fetch(store, ["kent", "met"], MONTHS, client=client)
        with pytest.raises(BadMonthRange):
            fetch(store, ["kent"], ["2024-13"], client=client)
    assert api.count() == 0 and store.entries() == []


def test_availability_failure_stops_the_fetch_and_records_nothing(api, store):
    api.fail("status", endpoint="crimes-street-dates", status=503, times=None)
    with fast_client(api) as client, pytest.raises(SourceUnavailable, match="crimes-street-dates"):
        fetch(store, ["kent"], MONTHS, client=client)
    assert store.entries() == [] and api.count("stops-force") == 0


# -- resuming ---------------------------------------------------------------------------------------------
def test_rerun_fetches_only_what_is_missing_and_refresh_fetches_all(api, store):
    api.fail("status", status=500, force="surrey", month="2024-02", times=None)
    with fast_client(api) as client:
        first = fetch(store, ["kent", "surrey"], MONTHS[:3], client=client)
        assert len(first.failed) == 1 and first.ok == 5
        api.faults.clear()
        seen = api.count("stops-force")
        second = fetch(store, ["kent", "surrey"], MONTHS[:3], client=client)
        assert (second.ok, second.skipped, second.failed) == (1, 5, [])
        assert api.count("stops-force") - seen == 1  # only the failed month
        assert second.requests == 2  # the availability list and that month
        seen = api.count()
        nothing = fetch(store, ["kent", "surrey"], MONTHS[:3], client=client)
        assert nothing.requests == 0 and nothing.skipped == 6 and api.count() == seen
        third = fetch(store, ["kent", "surrey"], MONTHS[:3], client=client, refresh=True)
        assert third.ok == 6 and third.skipped == 0
    assert set(statuses(store).values()) == {"ok"}


def test_progress_is_reported_from_the_calling_thread(api, store):
    calls = []
    caller = threading.get_ident()
    with fast_client(api) as client:
        fetch(store, ["kent"], MONTHS[:2], client=client)
        summary = fetch(store, ["kent", "essex"], MONTHS[:6], client=client,
                        progress=lambda *a: calls.append((*a, threading.get_ident())))
    assert [c[0] for c in calls] == list(range(1, 13)) and {c[1] for c in calls} == {12}
    assert {c[4] for c in calls} == {caller}
    assert {(c[2], c[3]) for c in calls} == {(f, m) for f in ("kent", "essex") for m in MONTHS[:6]}
    assert summary.total == 12 and summary.skipped == 2 and summary.not_published == 1


def test_workers_run_in_parallel(store):
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY, latency=1.0) as api:
        with fast_client(api, timeout=10.0) as client:
            summary = fetch(store, ["kent", "surrey"], MONTHS[:4], client=client, workers=4)
        arrivals = sorted(r.at for r in api.requests_for("stops-force"))
    assert summary.ok == 8
    # each reply takes 1 s: 4 requests arriving within 0.9 s were in flight together (one worker
    # would space them at least 1 s apart), a margin that holds on a loaded machine
    assert any(arrivals[i + 3] - arrivals[i] < 0.9 for i in range(len(arrivals) - 3))


def test_summary_is_frozen_and_reads_well(api, store):
    api.fail("status", status=503, force="kent", month="2024-02", times=None)
    with fast_client(api) as client:
        summary = fetch(store, ["kent", "essex"], ["2024-01", "2024-02", "2024-05"], client=client)
    assert isinstance(summary, FetchSummary)
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.ok = 0  # type: ignore[misc]
    text = str(summary)
    assert text.splitlines() == summary.lines()
    assert summary.lines()[0].startswith("6 force-months in ")
    assert "4 ok (" in text and "1 not published, 1 failed" in text
    assert "failed: kent 2024-02: " in text and "Run the same fetch again" in text


# -- the real rate limit ----------------------------------------------------------------------------------
def test_a_server_enforcing_the_real_limit_sees_no_429(store):
    # 15/s, bursts of 30, as data.police.uk; the default client (its own limiter, default back-off)
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY, rate_limit=True) as api:
        with PoliceApiClient(api.url) as client:
            started = time.monotonic()
            summary = fetch(store, ["kent", "surrey", "btp", "essex"], MONTHS + ["2023-12"], client=client,
                            workers=6)
            elapsed = time.monotonic() - started
    assert summary.ok == 47 and summary.failed == [] and summary.retries == 0
    assert api.count(status=429) == 0 and api.count() == 48
    # the client did throttle itself (25 at once, then 15/s: at least 23/15 s) and did not dawdle
    assert (48 - 25) / 15 - 0.1 <= elapsed < 15


def test_a_client_faster_than_the_limit_recovers_from_429(store):
    # a limiter set too generously (or a server stricter than documented: 15/s, bursts of only 5): the
    # server refuses some requests; they are retried and every worker pauses
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY, rate_limit=(15.0, 5)) as api:
        with PoliceApiClient(api.url, limiter=RateLimiter(rate=60, burst=60), backoff_base=0.1, backoff_cap=1.0,
                             max_attempts=8) as client:
            summary = fetch(store, ["kent", "surrey", "btp", "essex"], MONTHS, client=client, workers=6)
    refused = api.count(status=429)
    assert summary.failed == [] and summary.ok == 47
    assert refused > 0 and summary.retries == refused and summary.requests == 48 + refused


# -- the real command line, killed and resumed ------------------------------------------------------------
def run_cli(store_root: Path, api_url: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "data", "fetch", "--forces", "kent,essex,surrey,btp", "--from", "2023-12",
               "--to", "2024-12", "--api-url", api_url, "--no-archive"]   # this test is about the API path
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store_root), "PYTHONPATH": str(PROJECT)}
    env.pop("STOPSEARCH_API_URL", None)
    return subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def store_contents(root: Path) -> tuple[dict, dict, list[str]]:
    """Manifest entries without their times, every Parquet file's table, and the list of all files.

    A SIGKILL during an atomic write leaves its hidden temporary file (.<name>.<random>.tmp) behind;
    such files are never read, so they are left out of the listing."""
    entries = {(e.force, e.month): (e.status, e.records, e.checksum, e.source, e.reason)
               for e in Store(root).entries()}
    tables = {p.relative_to(root).as_posix(): pq.read_table(p) for p in sorted((root / "stop_search").rglob("*.parquet"))}
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not re.fullmatch(r"\..+\.tmp", p.name))
    return entries, tables, files


def test_cli_fetch_killed_mid_run_then_resumed_equals_an_uninterrupted_run(tmp_path):
    if not (PROJECT / "data" / "cli.py").is_file():
        pytest.skip("data/cli.py (python -m data fetch) is not there yet")
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    stops = {("surrey", "2024-07"): []}
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY, stops=stops, latency=0.15) as api:
        done = run_cli(full, api.url)
        out, err = done.communicate(timeout=60)
        assert done.returncode == 0, err
        full_requests = api.count("stops-force")
        assert full_requests == 47

        killed = run_cli(resumed, api.url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and killed.poll() is None:
            if sum(e.status == "ok" for e in Store(resumed).entries()) >= 10:
                break
            time.sleep(0.02)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=10)
        assert killed.returncode == -signal.SIGKILL
        stored_before_resume = sum(e.status == "ok" for e in Store(resumed).entries())
        assert 10 <= stored_before_resume < 46, "the kill should land mid-run"

        before = api.count("stops-force")
        again = run_cli(resumed, api.url)
        out2, err2 = again.communicate(timeout=60)
        assert again.returncode == 0, err2
        # the resumed run asked only for what was not stored (a month in flight at the kill may be asked twice)
        assert api.count("stops-force") - before <= full_requests - stored_before_resume + 4
        assert all(r.params.get("date") for r in api.requests_for("stops-force"))

    full_entries, full_tables, full_files = store_contents(full)
    resumed_entries, resumed_tables, resumed_files = store_contents(resumed)
    assert full_entries == resumed_entries
    assert full_files == resumed_files
    assert sorted(full_tables) == sorted(resumed_tables) and len(full_tables) == 47  # empty months have a (0-row) file too
    for name, table in full_tables.items():
        assert table.equals(resumed_tables[name]), name
    counts = pd.Series([v[0] for v in full_entries.values()]).value_counts().to_dict()
    assert counts == {"ok": 46, "not_published": 5, "empty": 1}
    assert "46 ok" in out and "1 empty" in out and "5 not published" in out
