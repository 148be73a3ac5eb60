"""`data fetch` through data.police.uk's archive zips, against a local archive server (tests/archive_server.py)
and the fake API: exactly the members' records are stored (oracle: the csv module's count of each member),
Range and no-Range give identical stores, bad CRCs and truncated replies fail with a reason, and only a
small part of each zip is fetched."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data.api import PoliceApiClient
from data.archive_fetch import ArchiveOptions, comparison_lines, estimate, plan_for
from data.archive_plan import ArchiveIndex, parse_index, plan
from data.errors import BadResponse
from data.fetch import fetch
from data.months import month_range
from data.ratelimit import RateLimiter
from data.store import Store
from tests.archive_server import FakeArchive, break_crc, build_zip, csv_records, shared_csvs, synthetic_csv
from tests.police_api_server import FakePoliceApi, synthetic_availability, synthetic_forces

PROJECT = Path(__file__).resolve().parents[1]
FORCES = ["kent", "essex", "btp"]
MONTHS = month_range("2019-10", "2020-03")  # older than the fake API's window (2024-01..2024-12)
MISSING = ("essex", "2020-02")              # no member for it in the zip


def own_csvs() -> dict[tuple[str, str], bytes]:
    out = {(f, m): synthetic_csv(f, m) for f in FORCES for m in month_range("2018-01", "2020-12")}
    out[("kent", "2019-11")] = synthetic_csv("kent", "2019-11", n=0)  # a published month with no searches
    del out[MISSING]
    return out


def options(**kwargs) -> ArchiveOptions:
    return ArchiveOptions(**{"backoff_base": 0.01, "max_attempts": 3, "timeout": 5.0, **kwargs})


def fast_client(api: FakePoliceApi) -> PoliceApiClient:
    return PoliceApiClient(api.url, limiter=RateLimiter(rate=1000, burst=1000), backoff_base=0.01, max_attempts=3)


@pytest.fixture(scope="module")
def zips() -> dict[str, bytes]:
    csvs = own_csvs()
    return {"2020-12": build_zip("2020-12", csvs, filler=60_000), "2019-06": build_zip("2019-06", csvs, filler=0)}


@pytest.fixture()
def api(tmp_path):
    availability = synthetic_availability(last="2024-12", months=12)
    with FakePoliceApi(data_dir=tmp_path / "none", forces=synthetic_forces(), availability=availability) as server:
        yield server


def run_fetch(api: FakePoliceApi, archive: FakeArchive, months=MONTHS, forces=FORCES, **kwargs):
    with fast_client(api) as client:
        return fetch(Store(), forces, months, client=client, workers=3,
                     archive=options(url=archive.url, **kwargs.pop("opts", {})), **kwargs)


def stored_counts() -> dict[tuple[str, str], tuple[str, int]]:
    return {(e.force, e.month): (e.status, e.records) for e in Store().entries()}


# -- the index page and the plan -------------------------------------------------------------------------
def test_index_links_of_every_shape_are_read():
    page = """<html><body>
      <a href="https://policeuk-data.s3.amazonaws.com/archive/2024-08.zip">August 2024</a>
      <a href='/data/archive/2021-03.zip?download=1'>x</a> <A HREF=2017-12.ZIP>y</A>
      <a href="2019-13.zip">not a month</a> <a href="2020-01.zip.sha256">checksum</a> <a href="#top">top</a>
      <a href="../archive/2024-08.zip">duplicate</a> <a href="2016-05.zip#x">z</a> <a href="2018-04.zip&amp;x=1">w</a>
    </body></html>"""
    index = parse_index(page, "https://data.police.uk/data/archive/")
    assert index.zips == {
        "2024-08": "https://policeuk-data.s3.amazonaws.com/archive/2024-08.zip",
        "2021-03": "https://data.police.uk/data/archive/2021-03.zip?download=1",
        "2017-12": "https://data.police.uk/data/archive/2017-12.ZIP",
        "2016-05": "https://data.police.uk/data/archive/2016-05.zip#x",
    }
    with pytest.raises(BadResponse, match='links no YYYY-MM.zip files \\(the page is "Site maintenance"\\)'):
        parse_index("<html><title>Site maintenance</title><a href='/'>home</a></html>", "http://x/archive/")


def test_the_plan_takes_the_fewest_zips():
    # every zip from 2017-01 to 2025-06 on offer; 2015-01..2025-06 wanted. By hand: 2015-01 is held by zips
    # 2015-01..2017-12, the latest on offer is 2017-12 (2015-01..2017-12); then 2018-01 -> 2020-12,
    # 2021-01 -> 2023-12, 2024-01 -> 2025-06 (the newest): 4 zips, 126 months, none read twice.
    index = ArchiveIndex("http://x/", {m: f"http://x/{m}.zip" for m in month_range("2017-01", "2025-06")})
    chosen = plan(index, month_range("2015-01", "2025-06"))
    assert [c.month for c in chosen.choices] == ["2017-12", "2020-12", "2023-12", "2025-06"]
    assert sum(len(c.months) for c in chosen.choices) == 126 and not chosen.uncovered
    assert chosen.choices[-1].months == tuple(month_range("2024-01", "2025-06"))
    gap = plan(ArchiveIndex("http://x/", {"2020-12": "u"}), ["2017-12", "2018-01", "2021-01"])
    assert gap.uncovered == ["2017-12", "2021-01"] and gap.choices[0].months == ("2018-01",)


# -- fetching ----------------------------------------------------------------------------------------------
def test_archive_fetch_stores_exactly_the_members_records(store_dir, api, zips):
    csvs = own_csvs()
    with FakeArchive(zips) as archive:
        summary = run_fetch(api, archive)
        zip_size = len(zips["2020-12"])
        fetched = archive.sent(".zip")
    assert not summary.failed, summary.failed
    counts = stored_counts()
    for force in FORCES:
        for month in MONTHS:
            if (force, month) == MISSING:
                continue
            expected = csv_records(csvs[(force, month)])
            assert counts[(force, month)] == ("ok" if expected else "empty", expected), (force, month)
    assert counts[("kent", "2019-11")] == ("empty", 0)
    assert counts[MISSING] == ("not_published", 0)
    assert "holds no 2020-02-essex-stop-and-search.csv" in Store().entry(*MISSING).source
    entry = Store().entry("kent", "2020-01")
    assert entry.source == f"{archive.zip_url('2020-12')}:2020-01/2020-01-kent-stop-and-search.csv"
    assert len(Store().read(["kent", "essex", "btp"], MONTHS)) == sum(
        csv_records(csvs[(f, m)]) for f in FORCES for m in MONTHS if (f, m) != MISSING)
    # one zip read (2020-12 holds every wanted month); a small part of it fetched
    assert any(line.startswith("archive: 1 zips read") for line in summary.notes)
    assert fetched < zip_size / 5, (fetched, zip_size)
    assert summary.ok + summary.empty == len(FORCES) * len(MONTHS) - 1 and summary.not_published == 1


def test_range_and_no_range_give_identical_stores(tmp_path, monkeypatch, api, zips, caplog):
    frames = {}
    for ranges in (True, False):
        root = tmp_path / f"store-{ranges}"
        monkeypatch.setenv("STOPSEARCH_DATA_DIR", str(root))
        with FakeArchive(zips, ranges=ranges) as archive:
            summary = run_fetch(api, archive)
            # the tail request answered 200 (the client hangs up after the headers), then one whole download
            full = [h for h in archive.log if h.path.endswith(".zip") and h.status == 200 and h.range is None]
        assert not summary.failed
        frames[ranges] = Store().read()
        assert not list((root / "tmp").glob("*")) if (root / "tmp").exists() else True  # cleaned afterwards
        if not ranges:
            assert len(full) == 1 and full[0].sent == len(zips["2020-12"])  # one whole download
            assert any("downloaded whole because the server ignores Range" in n for n in summary.notes)
            assert "ignores HTTP Range requests" in caplog.text
    assert len(frames[True]) > 0
    pd.testing.assert_frame_equal(frames[True], frames[False])


def test_a_bad_crc_fails_with_its_reason_and_is_never_stored(store_dir, api, zips):
    member = "2020-01/2020-01-kent-stop-and-search.csv"
    with FakeArchive({"2020-12": break_crc(zips["2020-12"], member)}) as archive:
        summary = run_fetch(api, archive, months=["2020-01"], forces=["kent", "essex"])
    assert [(f, m) for f, m, _ in summary.failed] == [("kent", "2020-01")]
    assert "CRC-32 mismatch" in summary.failed[0][2]
    entry = Store().entry("kent", "2020-01")
    assert entry.status == "failed" and "CRC-32 mismatch" in entry.reason and member in entry.source
    assert not Store().path_for("kent", "2020-01").exists()
    assert Store().entry("essex", "2020-01").status == "ok"


def test_a_truncated_reply_is_retried(store_dir, api, zips):
    with FakeArchive(zips) as archive:
        archive.fail("truncate", path="2020-12.zip", times=2)
        summary = run_fetch(api, archive, months=["2020-01"], forces=["kent"])
        assert [h.fault for h in archive.log if h.fault] == ["truncate", "truncate"]
    assert not summary.failed
    assert Store().entry("kent", "2020-01").records == csv_records(own_csvs()[("kent", "2020-01")])


def test_replies_truncated_every_time_fail_with_the_reason(store_dir, api, zips):
    with FakeArchive(zips) as archive:
        archive.fail("truncate", path="2020-12.zip", times=None)
        summary = run_fetch(api, archive, months=["2020-01"], forces=["kent"])
    assert len(summary.failed) == 1 and "gave up after 3 attempts" in summary.failed[0][2]
    assert Store().entry("kent", "2020-01").status == "failed"
    assert not Store().path_for("kent", "2020-01").exists()


def test_a_stalled_link_times_out_and_a_slow_one_finishes(store_dir, api, zips):
    # the stall (3 s) is longer than the client's timeout (1 s): that attempt is abandoned and retried
    with FakeArchive(zips, bandwidth=400_000) as archive:
        archive.fail("stall", path="2020-12.zip", times=1, delay=3.0)
        with fast_client(api) as client:
            summary = fetch(Store(), ["kent"], ["2020-01", "2020-02"], client=client,
                            archive=options(url=archive.url, timeout=1.0))
    assert not summary.failed and summary.ok == 2
    assert "1 retries" in next(n for n in summary.notes if n.startswith("archive:"))


def test_zip64_archives_are_read(store_dir, api):
    csvs = own_csvs()
    with FakeArchive({"2020-12": build_zip("2020-12", csvs, filler=2000, zip64=True)}) as archive:
        summary = run_fetch(api, archive, months=["2019-12", "2020-03"], forces=["btp", "essex"])
    assert not summary.failed
    assert stored_counts()[("btp", "2020-03")] == ("ok", csv_records(csvs[("btp", "2020-03")]))


def test_months_no_zip_holds_are_not_published_and_the_api_window_still_comes_from_the_api(store_dir, api, zips):
    with FakeArchive({"2020-12": zips["2020-12"]}) as archive:
        summary = run_fetch(api, archive, months=["2017-06", "2024-03"], forces=["kent"])
    assert stored_counts() == {("kent", "2017-06"): ("not_published", 0),
                               ("kent", "2024-03"): ("ok", len(api.records_for("kent", "2024-03")))}
    assert "links no zip holding 2017-06" in Store().entry("kent", "2017-06").source
    assert Store().entry("kent", "2024-03").source.startswith(api.url)
    assert summary.not_published == 1 and summary.ok == 1


def test_an_unreachable_archive_is_a_failure_not_a_gap(store_dir, api):
    with fast_client(api) as client:
        summary = fetch(Store(), ["kent"], ["2019-01"], client=client,
                        archive=options(url="http://127.0.0.1:9/data/archive/", max_attempts=1))
    assert summary.not_published == 0 and len(summary.failed) == 1
    assert "the archive index could not be read" in summary.failed[0][2]


def test_plan_and_estimate_read_only_the_directories(api, zips):
    with FakeArchive(zips) as archive:
        index, chosen = plan_for(month_range("2018-01", "2020-12"), options=options(url=archive.url))
        figures = estimate(chosen, FORCES, options=options(url=archive.url))
        assert all(h.range for h in archive.log if h.path.endswith(".zip"))  # never a whole zip
    assert sorted(index.zips) == ["2019-06", "2020-12"] and [c.month for c in chosen.choices] == ["2020-12"]
    assert figures.zips == 1 and figures.members == len(own_csvs())  # every stop-and-search member of the zip
    assert figures.zip_bytes == len(zips["2020-12"]) and figures.member_bytes < figures.zip_bytes / 5
    assert figures.seconds > 0


def test_prefer_archive_and_status_compares_the_counts(store_dir, tmp_path, zips):
    # the API and the archive both serve kent 2024-01; the archive's copy has 2 records fewer
    availability = synthetic_availability(last="2024-12", months=12)
    with FakePoliceApi(data_dir=tmp_path / "none", forces=synthetic_forces(), availability=availability) as api:
        api_rows = len(api.records_for("kent", "2024-01"))
        csvs = {("kent", m): synthetic_csv("kent", m) for m in month_range("2022-01", "2024-12")}
        csvs[("kent", "2024-01")] = synthetic_csv("kent", "2024-01", n=api_rows - 2)
        with FakeArchive({"2024-12": build_zip("2024-12", csvs, filler=0)}) as archive:
            common = ["fetch", "--forces", "kent", "--from", "2024-01", "--to", "2024-01", "--api-url", api.url,
                      "--archive-url", archive.url]
            first = run_cli(*common)
            assert first.returncode == 0, first.stderr
            assert Store().entry("kent", "2024-01").source.startswith(api.url)  # the API's copy by default
            second = run_cli(*common, "--prefer", "archive", "--refresh")
            assert second.returncode == 0, second.stderr
    entry = Store().entry("kent", "2024-01")
    assert entry.source == f"{archive.zip_url('2024-12')}:2024-01/2024-01-kent-stop-and-search.csv"
    assert entry.records == api_rows - 2
    assert comparison_lines(Store()) == [
        "API vs archive record counts: 1 force-months seen in both, 0 agree, 1 differ:",
        f"  kent 2024-01: API {api_rows:,}, archive {api_rows - 2:,}"]
    status = run_cli("status")
    assert f"kent 2024-01: API {api_rows:,}, archive {api_rows - 2:,}" in status.stdout


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data", *args], cwd=PROJECT, capture_output=True, text=True,
                          timeout=120)


def test_real_archive_files_fetched_from_a_zip_built_of_them(shared_dir, store_dir, api):
    csvs = shared_csvs(shared_dir)
    wanted = {k: v for k, v in csvs.items() if "2019-01" <= k[1] <= "2019-12"}
    assert len(wanted) > 20
    with FakeArchive({"2019-12": build_zip("2019-12", csvs, filler=5000)}) as archive:
        summary = run_fetch(api, archive, months=month_range("2019-01", "2019-12"),
                            forces=sorted({f for f, _ in wanted}))
    assert not summary.failed
    counts = stored_counts()
    for key, payload in wanted.items():
        expected = csv_records(payload)
        assert counts[key] == ("ok" if expected else "empty", expected), key
    assert sum(n for s, n in counts.values()) == sum(csv_records(p) for p in wanted.values())


def test_a_zip_of_archive_scale_is_read_in_a_few_hundred_kilobytes(store_dir, api):
    # a 36-month zip of 3 forces with ~1 MB of street and outcomes files per force-month (the real zips'
    # proportion): the stop-and-search members of two months and the directory are all that is fetched
    import io
    import zipfile

    from tests.archive_server import VirtualZip
    members = []
    for month in month_range("2018-01", "2020-12"):
        for force in FORCES:
            members += [(f"{month}/{month}-{force}-street.csv", 700_000), (f"{month}/{month}-{force}-outcomes.csv",
                                                                             300_000),
                        (f"{month}/{month}-{force}-stop-and-search.csv", synthetic_csv(force, month))]
    big = VirtualZip(members)
    small = VirtualZip(members[-6:])  # the same writer, small enough to check with zipfile
    assert zipfile.ZipFile(io.BytesIO(small[0:len(small)])).testzip() is None
    with FakeArchive({"2020-12": big}) as archive:
        summary = run_fetch(api, archive, months=["2020-01", "2020-02"])
        fetched = archive.sent(".zip")
    assert not summary.failed and summary.ok + summary.empty == 6
    assert len(big) > 100e6 and fetched < 200_000, (len(big), fetched)


PANEL = """
from app import archive_fetch_panel
archive_fetch_panel.render(forces=["kent", "essex"], first="2019-11", last="2020-01")
"""


def test_get_data_panel_plans_then_fetches(store_dir, api, zips, monkeypatch):
    from streamlit.testing.v1 import AppTest

    with FakeArchive(zips) as archive:
        monkeypatch.setenv("STOPSEARCH_ARCHIVE_URL", archive.url)
        monkeypatch.setenv("STOPSEARCH_API_URL", api.url)
        at = AppTest.from_string(PANEL, default_timeout=120).run()
        assert not at.exception and not at.info  # nothing planned yet
        at.button(key="archive_plan_go").click().run()
        assert not at.exception and not at.error
        plan_text = at.info[0].value
        assert "2 forces x 3 months (2019-11 to 2020-01) = 6 force-months; 0 already stored" in plan_text
        assert "1 zips (2020-12), 6 stop-and-search files" in plan_text and "a minute or less" in plan_text
        assert not any(h.status == 200 for h in archive.log if h.path.endswith(".zip"))  # directories only
        at.button(key="archive_fetch_go").click().run()
        assert not at.exception
    result = at.session_state["_getdata_result"]
    assert result[0] == "Download finished" and not result[2]
    assert sorted((e.force, e.month, e.status) for e in Store().entries()) == [
        ("essex", "2019-11", "ok" if csv_records(own_csvs()[("essex", "2019-11")]) else "empty"),
        ("essex", "2019-12", "ok" if csv_records(own_csvs()[("essex", "2019-12")]) else "empty"),
        ("essex", "2020-01", "ok" if csv_records(own_csvs()[("essex", "2020-01")]) else "empty"),
        ("kent", "2019-11", "empty"),
        ("kent", "2019-12", "ok" if csv_records(own_csvs()[("kent", "2019-12")]) else "empty"),
        ("kent", "2020-01", "ok" if csv_records(own_csvs()[("kent", "2020-01")]) else "empty")]


def test_a_broken_whole_download_resumes_with_range(store_dir, api, zips):
    # the server ignores Range once (so the client downloads the whole zip), that download breaks half way,
    # and the retry asks for the rest with Range, which the server now honours: the halves make the zip
    with FakeArchive(zips) as archive:
        archive.fail("norange", path="2020-12.zip", times=1)
        archive.fail("truncate", path="2020-12.zip", times=1)
        summary = run_fetch(api, archive, months=["2020-01"], forces=["kent"])
        hits = [h for h in archive.log if h.path.endswith("2020-12.zip")]
    size = len(zips["2020-12"])
    assert not summary.failed and Store().entry("kent", "2020-01").records == csv_records(own_csvs()[("kent", "2020-01")])
    assert [h.status for h in hits] == [200, 200, 206] and hits[1].sent == size // 2
    assert hits[2].range == f"bytes={size // 2}-" and hits[2].sent == size - size // 2
    assert not any((store_dir / "tmp").glob("*"))  # the partial file was removed after use


def test_a_download_that_would_fill_the_disk_is_refused(store_dir, api, zips):
    with FakeArchive(zips, ranges=False) as archive:
        summary = run_fetch(api, archive, months=["2020-01"], forces=["kent"], opts={"disk_reserve": 1 << 60})
        # stopped before reading the body: no reply was read whole (the server may still have pushed a few MB into
        # the socket's buffers before the client hung up: with two replies, their sum can exceed the zip's size)
        assert all(h.sent < len(zips["2020-12"]) for h in archive.log if h.path.endswith(".zip"))
    assert len(summary.failed) == 1 and "Free some disk space" in summary.failed[0][2]
    assert not any((store_dir / "tmp").glob("*.part"))  # the check comes before the file is opened


def test_what_is_not_a_zip_or_is_cut_short_says_so():
    from data.errors import BadFile
    from data.zip_directory import ZipReader

    page = b"<html><title>Maintenance</title></html>" * 100
    with pytest.raises(BadFile, match="no zip End of Central Directory"):
        ZipReader("x.zip", lambda a, b: page[a:b + 1], len(page))
    whole = build_zip("2019-12", {("kent", "2019-12"): synthetic_csv("kent", "2019-12", n=5)}, filler=0)
    cut = whole[: len(whole) // 2] + whole[-22:]  # the end record survives, the directory it points at does not
    with pytest.raises(BadFile, match="does not fit|damaged"):
        ZipReader("x.zip", lambda a, b: cut[a:b + 1], len(cut))
