"""Hostile input: redirects to another host (real sockets, two local servers), file names and content that try
to reach the terminal or the page (control characters, Markdown images), and error messages for files in a
folder that name the file and fit on one line."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from app.safe_text import markdown_lines, markdown_text
from data.api import PoliceApiClient
from data.archive import import_paths
from data.errors import BadResponse, printable
from data.fetch import fetch
from data.ratelimit import RateLimiter
from data.redirects import same_host
from data.store import Store
from data.use_of_force.fetch import download
from tests.police_api_server import FakePoliceApi, synthetic_forces, synthetic_stops

PROJECT = Path(__file__).resolve().parents[1]
MONTH = "2024-03"
AVAILABILITY = [{"date": MONTH, "stop-and-search": ["kent"]}]
HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")
ROW = ("Person search,{month}-03T10:15:00+00:00,False,,51.27,1.08,Male,18-24,White - Irish,White,"
       "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,{linked},False")
IMAGE = "![t](http://127.0.0.1:9/x.png)"


def csv_bytes(month: str = "2019-01", n: int = 3, *, linked: str = "True") -> bytes:
    return ("\r\n".join([HEADER, *[ROW.format(month=month, linked=linked)] * n]) + "\r\n").encode()


def client_for(api: FakePoliceApi) -> PoliceApiClient:
    return PoliceApiClient(api.url, limiter=RateLimiter(rate=1000, burst=1000), timeout=2.0, max_attempts=2,
                           backoff_base=0.01, backoff_cap=0.02)


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


# -- redirects ----------------------------------------------------------------------------------------
@pytest.fixture()
def servers():
    """The API and another host (another port) serving 7 fabricated records for the same address."""
    with FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY) as api, \
            FakePoliceApi(forces=synthetic_forces(), availability=AVAILABILITY) as other:
        api.set_stops("kent", MONTH, synthetic_stops("kent", MONTH, n=153))
        other.set_stops("kent", MONTH, synthetic_stops("kent", MONTH, n=7))
        yield api, other


def test_a_redirect_to_another_host_is_refused_and_stored_records_kept(servers, store_dir):
    api, other = servers
    store = Store(store_dir)
    with client_for(api) as client:
        assert fetch(store, ["kent"], [MONTH], client=client).ok == 1
    api.fail("redirect", force="kent", month=MONTH, location=f"{other.url}stops-force?force=kent&date={MONTH}")
    with client_for(api) as client:
        summary = fetch(store, ["kent"], [MONTH], client=client, refresh=True)
    assert summary.ok == 0 and len(summary.failed) == 1
    assert "redirected to" in summary.failed[0][2] and "another host" in summary.failed[0][2]
    assert other.count("stops-force") == 0  # never even asked
    entry = store.entry("kent", MONTH)
    assert entry.status == "ok" and entry.records == 153 and entry.source.startswith(api.url)


def test_a_redirect_within_the_api_host_is_followed(servers, store_dir):
    api, other = servers
    api.fail("redirect", status=301, force="kent", month=MONTH, location=f"/api/stops-force?force=kent&date={MONTH}")
    with client_for(api) as client:
        summary = fetch(Store(store_dir), ["kent"], [MONTH], client=client)
    assert summary.ok == 1 and summary.records == 153
    assert api.count("stops-force", status=301) == 1 and other.count() == 0


def test_the_use_of_force_download_refuses_a_redirect_to_another_host(servers):
    api, other = servers
    api.fail("redirect", endpoint="forces", location=f"{other.url}forces")
    with pytest.raises(BadResponse, match="another host"):
        download(f"{api.url}forces", session=requests.Session(), timeout=2.0, max_attempts=1)
    assert other.count() == 0


@pytest.mark.parametrize(("url", "target", "same"), [
    ("https://data.police.uk/api/", "https://data.police.uk/api/x", True),
    ("https://data.police.uk/api/", "https://DATA.police.uk:443/api/x", True),
    ("http://data.police.uk/api/", "https://data.police.uk/api/x", True),     # upgrade to TLS
    ("https://data.police.uk/api/", "http://data.police.uk/api/x", False),    # downgrade
    ("https://data.police.uk/api/", "https://evil.example/api/x", False),
    ("https://data.police.uk/api/", "https://data.police.uk.evil.example/", False),
    ("http://127.0.0.1:8000/api/", "http://127.0.0.1:8001/api/", False),     # another server on the machine
    ("https://data.police.uk/api/", "file:///etc/passwd", False),
])
def test_same_host(url, target, same):
    assert same_host(url, target) is same


# -- error messages for files in a folder ----------------------------------------------------------------
def test_files_in_a_folder_with_a_bad_month_or_force_are_named(tmp_path, store_dir):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "2019-13-kent-stop-and-search.csv").write_bytes(csv_bytes())
    (folder / "2019-01-kentt-stop-and-search.csv").write_bytes(csv_bytes())
    (folder / "2019-01-kent-stop-and-search.csv").write_bytes(csv_bytes())
    lines = error_lines(run_cli("import", folder))
    assert len(lines) == 2
    month, force = sorted(lines, key=lambda line: "kentt" in line)
    assert "2019-13-kent-stop-and-search.csv" in month and "'2019-13' is not a month" in month
    assert "2019-01-kentt-stop-and-search.csv" in force and "'kent'" in force  # the suggestion
    assert Store(store_dir).entry("kent", "2019-01").records == 3  # the good file still imported


def test_a_utf16_file_is_named_as_such(tmp_path, store_dir):
    path = tmp_path / "2019-01-kent-stop-and-search.csv"
    path.write_bytes(csv_bytes().decode().encode("utf-16"))
    lines = error_lines(run_cli("import", path))
    assert len(lines) == 1 and "2019-01-kent-stop-and-search.csv" in lines[0] and "UTF-16" in lines[0]
    path.write_bytes(csv_bytes().decode().encode("utf-16-le"))  # no byte-order mark
    assert "UTF-16" in error_lines(run_cli("import", path))[0]


def test_a_bad_date_is_one_line_naming_file_line_and_value(tmp_path, store_dir):
    path = tmp_path / "2019-01-kent-stop-and-search.csv"
    path.write_bytes(csv_bytes().replace(b"2019-01-03T10:15:00+00:00", b"31/01/2019 10:15", 1))
    result = run_cli("import", path)
    assert len(error_lines(result)) == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    line = error_lines(result)[0]
    assert "2019-01-kent-stop-and-search.csv" in line and "line 2" in line and "'31/01/2019 10:15'" in line


# -- hostile text: the terminal ----------------------------------------------------------------------------
def test_printable_escapes_control_characters_and_cuts_long_text():
    assert printable("Arrest\n\x1b[31m\x00\u202e") == "Arrest\\n\\x1b[31m\\x00\\u202e"
    assert printable("White - Irish") == "White - Irish"
    long = printable("A" * (20 << 20))
    assert long.startswith("A" * 120 + "...") and "20,971,520 characters" in long and len(long) < 200


def test_zip_member_names_with_escape_codes_never_reach_the_terminal(tmp_path, store_dir):
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("\x1b]0;owned\x07/2019-01-kent-stop-and-search.csv", csv_bytes())
        z.writestr("2019-01/2019-01-\x1b[2Jkent-stop-and-search.csv", csv_bytes())
    result = run_cli("import", path)
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr
    assert "\\x1b[2J" in result.stderr  # the bad member is named, escaped
    assert Store(store_dir).entry("kent", "2019-01").records == 3
    assert "\x1b" not in Store(store_dir).entry("kent", "2019-01").source


# -- hostile text: the page --------------------------------------------------------------------------------
_ESCAPED = r"\\([!-/:-@\[-`{-~])"  # a backslash before ASCII punctuation


def assert_literal(markdown: str, text: str) -> None:
    """The oracle, CommonMark 0.31 section 2.4: a backslash before ASCII punctuation makes it literal. So no
    Markdown punctuation may be left unescaped, and removing the escapes gives back the text as shown."""
    rest = re.sub(_ESCAPED, "", markdown)
    assert not re.search(r"[\\`*_\[\]{}<>!#|~$]", rest), markdown
    assert not re.match(r"\s*([-+=>]|\d+[.)])", rest), markdown  # no list, quote or heading at the start
    assert re.sub(_ESCAPED, r"\1", markdown) == printable(text, limit=4000)


@pytest.mark.parametrize("text", [IMAGE, f"kent: {IMAGE} <img src=x> :red[x] $x$ `code`", "- list", "1. item",
                                  "# heading", "> quote", "a\\b"])
def test_markdown_text_shows_untrusted_text_literally(text):
    assert_literal(markdown_text(text), text)


def test_markdown_text_keeps_one_line():
    assert "\n" not in markdown_text("one\ntwo") and markdown_lines(["a", "b"]) == "a  \nb"


def test_get_data_shows_an_imported_files_hostile_content_as_text(tmp_path, store_dir):
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "2019-01-kent-stop-and-search.csv").write_bytes(csv_bytes(linked=IMAGE))
    (folder / "![t](x.png).csv").write_bytes(b"x")  # file names hold no '/': a relative image address
    summary = import_paths(Store(store_dir), sorted(folder.iterdir()), other=lambda path: None)
    lines = summary.lines()
    assert any(IMAGE in line for line in lines) and any("![t](x.png).csv" in line for line in lines)
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=120)
    at.query_params["page"] = "get-data"
    at.session_state["_getdata_result"] = ("Import finished", lines, True)
    at.run()
    assert not at.exception
    shown = [w.value for w in at.warning if "Import finished" in w.value]
    assert len(shown) == 1
    body = shown[0].split("**Import finished.** ", 1)[1]
    assert body.count("\\!\\[t\\]") == 2  # both images arrive escaped (checked in full below)
    for markdown, line in zip(body.split("  \n"), lines, strict=True):
        assert_literal(markdown, line)
