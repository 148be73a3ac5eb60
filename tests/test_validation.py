"""Validation at the door (data.validate): API replies over real sockets (tests/police_api_server.py) and real
CSV files on disk that do not hold stop-and-search records as data.police.uk publishes them are refused
whole, recorded as failed with the record and field at fault, and never replace stored data; empty months
never replace stored records unasked; every real published file still passes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from data import normalise
from data.api import PoliceApiClient
from data.archive import import_paths, parse_name
from data.errors import InvalidRecords
from data.fetch import fetch
from data.ratelimit import RateLimiter
from data.store import Store
from tests.police_api_server import FakePoliceApi, synthetic_forces, synthetic_stops

PROJECT = Path(__file__).resolve().parents[1]
MONTH = "2024-03"
AVAILABILITY = [{"date": m, "stop-and-search": ["kent", "surrey"]} for m in ("2024-04", "2024-03", "2024-02")]
HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{date},False,,{lat},{lon},Male,18-24,White - Irish,White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,{outcome},True,False")


def row(month: str = "2019-01", *, date: str | None = None, lat: str = "51.27", lon: str = "1.08",
        outcome: str = "Arrest") -> str:
    return ROW.format(date=f"{month}-03T10:15:00+00:00" if date is None else date, lat=lat, lon=lon, outcome=outcome)


def write_csv(folder: Path, month: str, rows: list[str], *, force: str = "kent") -> Path:
    path = folder / f"{month}-{force}-stop-and-search.csv"
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode())
    return path


def client_for(api: FakePoliceApi) -> PoliceApiClient:
    return PoliceApiClient(api.url, limiter=RateLimiter(rate=1000, burst=1000), timeout=2.0, max_attempts=2,
                           backoff_base=0.01, backoff_cap=0.02)


@pytest.fixture()
def api():
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY) as server:
        yield server


@pytest.fixture()
def store(store_dir: Path) -> Store:
    return Store(store_dir)


def good_stops(n: int = 153) -> list[dict]:
    return synthetic_stops("kent", MONTH, n=n)


def store_good_month(api: FakePoliceApi, store: Store) -> None:
    api.set_stops("kent", MONTH, good_stops())
    with client_for(api) as client:
        summary = fetch(store, ["kent"], [MONTH], client=client)
    assert summary.ok == 1 and store.entry("kent", MONTH).records == 153


# -- API replies that are not stop-and-search records ---------------------------------------------------
def _without(key: str) -> list[dict]:
    stops = good_stops(10)
    del stops[3][key]
    return stops


def _located(latitude: str, longitude: str) -> list[dict]:
    stops = good_stops(10)
    stops[6]["location"] = {"latitude": latitude, "longitude": longitude, "street": {"id": 1, "name": "On or near X"}}
    return stops


def _with(index: int, **values: object) -> list[dict]:
    stops = good_stops(10)
    stops[index].update(values)
    return stops


def _no_ethnicity() -> list[dict]:
    stops = good_stops(10)
    del stops[2]["self_defined_ethnicity"], stops[2]["officer_defined_ethnicity"]
    return stops


BAD_REPLIES = [
    # (reply, what the failure reason must say) -- the cases: {} records, missing fields, 2031, 91.5, -500,
    # a newline and terminal escape codes in a label, NUL, a 20 MiB field, and JSON objects where a label belongs
    pytest.param([{}] * 204, ["record 1", "'datetime'", "'type'", "ethnicity", "204 of 204"], id="empty-objects"),
    pytest.param(_without("datetime"), ["record 4", "'datetime'"], id="no-datetime"),
    pytest.param(_without("type"), ["record 4", "'type'"], id="no-type"),
    pytest.param(_no_ethnicity(), ["record 3", "ethnicity"], id="no-ethnicity-field"),
    pytest.param(_with(5, datetime="2031-01-05T10:00:00+00:00"), ["record 6", "2031-01-05", f"outside {MONTH}"],
                 id="dated-2031"),
    pytest.param(_with(5, datetime="next tuesday"), ["record 6", "'next tuesday'", "not a date"], id="not-a-date"),
    pytest.param(_located("91.5", "-1.2"), ["record 7", "location.latitude", "91.5", "outside the United Kingdom"],
                 id="latitude-91.5"),
    pytest.param(_located("52.1", "-500"), ["record 7", "location.longitude", "-500"], id="longitude-500"),
    pytest.param(_located("north", "-1.2"), ["record 7", "'north'", "not a number"], id="latitude-north"),
    pytest.param(_with(1, outcome="Arrest\n\x1b[2J\x1b[31mPWNED"), ["record 2", "'outcome'", "control characters",
                                                                   "\\n\\x1b[2J"], id="newline-and-escape-codes"),
    pytest.param(_with(0, legislation="Misuse\x00of Drugs"), ["record 1", "'legislation'", "\\x00"], id="nul"),
    pytest.param(_with(0, object_of_search="A" * (20 << 20)), ["record 1", "20,971,520 characters"], id="20-MiB"),
    pytest.param(_with(0, gender={"evil": True}), ["record 1", "'gender'", "JSON dict"], id="object-label"),
]


@pytest.mark.parametrize(("reply", "said"), BAD_REPLIES)
def test_a_bad_api_reply_is_failed_and_never_replaces_stored_records(api, store, reply, said):
    store_good_month(api, store)
    before = store.read(["kent"], [MONTH])
    api.set_stops("kent", MONTH, reply)
    with client_for(api) as client:
        summary = fetch(store, ["kent"], [MONTH], client=client, refresh=True)
    assert summary.ok == 0 and [(f, m) for f, m, _ in summary.failed] == [("kent", MONTH)]
    reason = summary.failed[0][2]
    for words in said:
        assert words in reason, reason
    assert "\n" not in reason and "\x1b" not in reason and "\x00" not in reason and len(reason) < 2000
    entry = store.entry("kent", MONTH)
    assert entry.status == "ok" and entry.records == 153 and "refresh failed" in entry.reason
    assert store.read(["kent"], [MONTH]).equals(before)


def test_a_bad_reply_for_a_month_not_stored_is_recorded_as_failed_with_the_reason(api, store):
    api.set_stops("kent", MONTH, _located("91.5", "-1.2"))
    with client_for(api) as client:
        summary = fetch(store, ["kent", "surrey"], [MONTH], client=client)
    assert summary.ok == 1 and len(summary.failed) == 1
    entry = store.entry("kent", MONTH)
    assert entry.status == "failed" and "record 7" in entry.reason and "91.5" in entry.reason
    assert not store.path_for("kent", MONTH).exists()


def test_the_published_clock_edge_hour_is_accepted_and_a_day_early_is_not(api, store):
    # DATA.md 1.6: summer files hold records stamped 23:xx on the previous month's last day (UK time written
    # as UTC); the real leicestershire 2023-07 reply has one at 2023-06-30T23:08.
    api.set_stops("kent", MONTH, _with(0, datetime="2024-02-29T23:08:00+00:00"))
    api.set_stops("surrey", MONTH, _with(0, datetime="2024-02-29T21:59:00+00:00"))
    with client_for(api) as client:
        summary = fetch(store, ["kent", "surrey"], [MONTH], client=client)
    assert summary.ok == 1 and [(f, m) for f, m, _ in summary.failed] == [("surrey", MONTH)]
    assert store.entry("kent", MONTH).records == 10


def test_several_good_replies_normalised_together_all_pass(api, store):
    # fetch normalises replies of different months in one call: each record is checked against its own month
    months = ["2024-02", "2024-03", "2024-04"]
    with client_for(api) as client:
        summary = fetch(store, ["kent", "surrey"], months, client=client, workers=6)
    assert summary.failed == [] and summary.ok == 6


def test_an_empty_reply_replaces_stored_records_only_with_refresh_and_says_so(api, store):
    store_good_month(api, store)
    api.set_stops("kent", MONTH, [])
    with client_for(api) as client:
        kept = fetch(store, ["kent"], [MONTH], client=client)
        assert kept.skipped == 1 and store.entry("kent", MONTH).records == 153
        replaced = fetch(store, ["kent"], [MONTH], client=client, refresh=True)
    assert store.entry("kent", MONTH).status == "empty"
    assert any("153 records stored before were replaced by an empty month" in line for line in replaced.lines())


# -- bulk CSV files that are not stop-and-search records ------------------------------------------------
BAD_ROWS = [
    pytest.param(row(lat="north"), ["line 3", "'Latitude'", "'north'", "not a number"], id="latitude-north"),
    pytest.param(row(lon="9999"), ["line 3", "'Longitude'", "9999", "outside the United Kingdom"], id="longitude-9999"),
    pytest.param(row(lat="91.5", lon="-500"), ["'Latitude' is 91.5", "'Longitude' is -500"], id="lat-and-lon"),
    pytest.param(row(lat="51.3", lon=""), ["only one of 'Latitude' and 'Longitude'"], id="half-a-point"),
    pytest.param(row(date="2031-01-05T10:00:00+00:00"), ["line 3", "2031-01-05", "outside 2019-01"], id="dated-2031"),
    pytest.param(row(outcome="Arr\x00est"), ["line 3", "'Outcome'", "\\x00"], id="nul"),
    pytest.param(row(outcome="Arrest\x1b[31m"), ["line 3", "'Outcome'", "\\x1b[31m"], id="escape-codes"),
    pytest.param(row(outcome="A" * (20 << 20)), ["line 3", "'Outcome'", "20,971,520 characters"], id="20-MiB"),
    pytest.param(row(date=""), ["line 3", "'Date' is empty"], id="no-date"),
    pytest.param(row().replace("Person search", "", 1), ["line 3", "'Type' is empty"], id="no-type"),
]


@pytest.mark.parametrize(("bad", "said"), BAD_ROWS)
def test_a_file_with_one_bad_row_is_refused_whole_and_stored_records_kept(tmp_path, store, bad, said):
    first = import_paths(store, [write_csv(tmp_path, "2019-01", [row()] * 119)])
    assert first.ok and store.entry("kent", "2019-01").records == 119
    before = store.read(["kent"], ["2019-01"])
    folder = tmp_path / "again"
    folder.mkdir()
    summary = import_paths(store, [write_csv(folder, "2019-01", [row(), bad, row()])])
    assert not summary.ok and not summary.imported
    message = summary.problems[0].message
    assert "2019-01-kent-stop-and-search.csv" in message
    for words in said:
        assert words in message, message
    assert "\n" not in message and "\x1b" not in message and "\x00" not in message and len(message) < 2000
    entry = store.entry("kent", "2019-01")
    assert entry.status == "ok" and entry.records == 119 and "refresh failed" in entry.reason
    assert store.read(["kent"], ["2019-01"]).equals(before)


def test_a_refused_file_for_a_new_month_is_recorded_as_failed(tmp_path, store):
    summary = import_paths(store, [write_csv(tmp_path, "2019-02", [row("2019-02"), row("2019-02", lat="north")])])
    assert not summary.ok
    entry = store.entry("kent", "2019-02")
    assert entry.status == "failed" and "line 3" in entry.reason and "'Latitude'" in entry.reason


def test_files_imported_together_are_each_checked_against_their_own_month(tmp_path, store):
    # the importer joins files of different months into one normalising call
    paths = [write_csv(tmp_path, m, [row(m)] * 4, force=f) for m in ("2019-01", "2019-02") for f in ("kent", "essex")]
    summary = import_paths(store, paths)
    assert summary.ok and summary.records == 16


# -- a header-only CSV --------------------------------------------------------------------------------
def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120)


def test_a_header_only_csv_never_replaces_a_stored_month_unasked(tmp_path, store_dir):
    assert run_cli("import", write_csv(tmp_path, "2019-01", [row()] * 119)).returncode == 0
    empty = tmp_path / "later"
    empty.mkdir()
    path = write_csv(empty, "2019-01", [])
    refused = run_cli("import", path)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, refused.stderr
    assert "holds no records" in errors[0] and "119 records" in errors[0] and "they are kept" in errors[0]
    assert "--allow-empty" in errors[0] and "--refresh" not in errors[0]  # the hint fits the command
    assert Store(store_dir).entry("kent", "2019-01").records == 119
    allowed = run_cli("import", "--allow-empty", path)
    assert allowed.returncode == 0, allowed.stderr
    assert Store(store_dir).entry("kent", "2019-01").status == "empty"


def test_a_header_only_csv_for_a_month_not_stored_is_an_empty_month(tmp_path, store):
    summary = import_paths(store, [write_csv(tmp_path, "2019-01", [])])
    assert summary.ok and store.entry("kent", "2019-01").status == "empty"


# -- every real published file passes -----------------------------------------------------------------
@pytest.mark.shared
def test_every_real_archive_file_passes_the_checks_unchanged(shared_dir):
    files = sorted((shared_dir / "data" / "police_uk" / "archive").rglob("*-stop-and-search.csv"))
    if not files:
        pytest.skip("no stop-and-search CSVs in ../shared/data/police_uk/archive")
    seen_forces = set()
    for path in files:
        force, month = parse_name(path.name)
        checked = normalise.from_csv(path, force=force, month=month, check=True)  # raises if refused
        if force not in seen_forces:  # the checks change no value (one file per force compared in full)
            seen_forces.add(force)
            assert checked.equals(normalise.from_csv(path, force=force, month=month)), path.name


@pytest.mark.shared
def test_the_real_api_reply_passes_with_its_edge_hour_record(shared_dir):
    records = json.loads((shared_dir / "data/police_uk/api/stops-force_leicestershire_2023-07.json").read_text())
    frame = normalise.from_api_records(records, force="leicestershire", month="2023-07", check=True)
    assert len(frame) == 531 and str(frame["datetime"].min()) == "2023-06-30 23:08:00"


def test_invalid_records_is_raised_by_the_normaliser_when_asked():
    with pytest.raises(InvalidRecords, match="record 1"):
        normalise.from_api_records([{}], force="kent", month="2024-01", check=True)
