"""Every command README.md shows runs, as a real subprocess, against a fixture store, and exits as documented.

The commands are PARSED from README.md, so a command added there is covered without touching this file:
every line of a ```bash block, every line (or inline `code`) starting with `.venv/bin/python -m` or
`python -m`. How each is checked:
- `python -m data ...` and `python -m analysis ...` run as `sys.executable -m ...` in a scratch folder
  (relative paths such as `kent.parquet` or `reports/` land there), with STOPSEARCH_DATA_DIR pointing at a
  fresh copy of a fixture store, STOPSEARCH_API_URL at the fake data.police.uk API (tests/police_api_server.py)
  and STOPSEARCH_ARCHIVE_URL at the fake archive (tests/archive_server.py). `fetch-use-of-force` has no
  environment variable for its address: the test adds `--url YEAR=<local file server>` (NETWORK_ARGS). A proxy
  that does not exist is set for everything but 127.0.0.1, so no command can reach the real internet.
- Each must exit 0 (or with the documented one-line error in DOCUMENTED_ERRORS), print something on stdout and
  no "Traceback" on stderr.
- Optional parts `[--flag value]` run without and with them (each alone, then all together); alternatives
  `a|b` run once each.
- Values that name a month, a year, a number, a force id or a word (`2024-04`, `2019/20`, `4`, `all`,
  `metropolitan,kent`, `rates`) run as written: the fixture store holds what they ask for. Anything else (a
  path, a file name, an upper-case PLACEHOLDER) must be in SUBSTITUTIONS, which builds the fixture it stands
  for; an unknown one FAILS the test, so README.md and this file stay in step. Where a documented value would
  take minutes, SMALLER runs a smaller one in the same flag (and says why).
- `bash dev.sh X` and `make X` are not run (they install packages, start a server or run the whole suite):
  their sub-command or target must exist. `python -m benchmarks [names]` is not run either (speed
  measurements take minutes): every name it shows must be a benchmark.
"""
from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from data.months import month_range
from tests.archive_server import FakeArchive, build_zip, synthetic_csv
from tests.police_api_server import FakePoliceApi, synthetic_availability, synthetic_forces
from tests.store_fixtures import build_fixture_store, import_folder, write_month
from tests.test_use_of_force_fetch import FileServer
from tests.test_use_of_force_tables import _write_ods, layout_2019

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
RUN_TIMEOUT = 300  # seconds per command: a hang fails the test instead of blocking the suite (not a speed check)


# -- parsing README.md ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Documented:
    """One command as README.md shows it: its line number and text (comment removed)."""

    line: int
    text: str

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)


PYTHON_M = re.compile(r"^(?:\.venv/bin/)?python3? -m\s")
INLINE = re.compile(r"`([^`]+)`")


def documented_commands(markdown: str) -> list[Documented]:
    """Every ```bash line, and every line or inline `code` starting with (.venv/bin/)python -m, in order."""
    found: dict[str, Documented] = {}

    def add(line: int, text: str) -> None:
        text = text.split(" #", 1)[0].strip() if " #" in text else text.strip()
        if text and not text.startswith("#"):
            found.setdefault(text, Documented(line, text))

    fence: str | None = None
    for number, raw in enumerate(markdown.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
            continue
        if fence is not None:
            if fence in ("bash", "sh", "shell", "console"):
                add(number, stripped)
            continue
        if PYTHON_M.match(stripped):
            add(number, stripped)
        for span in INLINE.findall(raw):
            if PYTHON_M.match(span) or span.startswith(("bash dev.sh ", "make ")):
                add(number, span)
    return list(found.values())


def variants(words: list[str]) -> list[list[str]]:
    """The command without its optional `[...]` parts, with each alone (each `a|b` alternative once), and
    with all of them (first alternatives) when there are several."""
    base: list[str | int] = []
    groups: list[list[list[str]]] = []  # per optional group: its alternatives, each a list of words
    current: list[str] | None = None
    for word in words:
        if current is None and word.startswith("["):
            current, word = [], word[1:]
        if current is None:
            base.append(word)
            continue
        closing = word.endswith("]")
        current.append(word[:-1] if closing else word)
        if closing:
            alternatives = [[]]
            for part in current:
                options = part.split("|") if "|" in part else [part]
                alternatives = [a + [o] for a in alternatives for o in options]
            base.append(len(groups))
            groups.append(alternatives)
            current = None
    if current is not None:
        raise ValueError(f"an optional part is not closed with ']' in {' '.join(words)!r}")

    def build(chosen: dict[int, list[str]]) -> list[str]:
        out: list[str] = []
        for item in base:
            out += chosen.get(item, []) if isinstance(item, int) else [item]
        return out

    runs = [build({})]
    for index, alternatives in enumerate(groups):
        runs += [build({index: alternative}) for alternative in alternatives]
    if len(groups) > 1:
        runs.append(build({i: alternatives[0] for i, alternatives in enumerate(groups)}))
    return runs


# -- what placeholders stand for --------------------------------------------------------------------------
def _downloaded_zip(work: Path) -> str:
    """~/Downloads/2025-03.zip: an archive zip in data.police.uk's layout (kent 2025-01..2025-03)."""
    path = work / "Downloads" / "2025-03.zip"  # `~` as the shell would expand it (HOME is the work folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    csvs = {("kent", m): synthetic_csv("kent", m, n=12) for m in month_range("2025-01", "2025-03")}
    path.write_bytes(build_zip("2025-03", csvs, filler=500))
    return str(path)


def _some_folder(work: Path) -> str:
    """some-folder/: loose CSVs in a folder (durham 2019-07 and 2019-08)."""
    for i, month in enumerate(("2019-07", "2019-08")):
        write_month(work / "some-folder", "durham", month, 40, seed=300 + i)
    return "some-folder/"


def _one_csv(work: Path) -> str:
    """2024-06-kent-stop-and-search.csv: one loose CSV, named as data.police.uk names them."""
    written = write_month(work / "one", "kent", "2024-06", 25, seed=400)
    shutil.move(written, work / "2024-06-kent-stop-and-search.csv")
    return "2024-06-kent-stop-and-search.csv"


def _output_file(work: Path, name: str) -> None:
    path = work / name
    assert path.is_file() and path.stat().st_size > 0, f"{name} was not written"


def _output_folder(work: Path, name: str) -> None:
    files = [p for p in (work / name).rglob("*") if p.is_file()]
    assert files, f"nothing was written under {name}"


@dataclass(frozen=True)
class Placeholder:
    stands_for: str
    make: Callable[[Path], str]  # builds the fixture in the work folder; returns the argument to pass
    check: Callable[[Path], None] | None = None  # for outputs: what must exist after the run


SUBSTITUTIONS: dict[str, Placeholder] = {
    "~/Downloads/2025-03.zip": Placeholder("a monthly zip downloaded from the archive", _downloaded_zip),
    "some-folder/": Placeholder("a folder of downloaded CSVs", _some_folder),
    "2024-06-kent-stop-and-search.csv": Placeholder("one downloaded CSV", _one_csv),
    "kent.parquet": Placeholder("the export's output file", lambda work: "kent.parquet",
                                lambda work: _output_file(work, "kent.parquet")),
    "reports/": Placeholder("the reports' output folder", lambda work: "reports/",
                            lambda work: _output_folder(work, "reports")),
}
# A value that runs as written: a month, a financial year, a number, or lower-case words/ids (comma-joined).
LITERAL = re.compile(r"^(\d{4}-\d{2}|\d{4}/\d{2}|\d+|[a-z][a-z0-9-]*(,[a-z][a-z0-9-]*)*)$")
# (module, sub-command) -> (exit code, the one line it prints on stderr) for commands documented to fail.
DOCUMENTED_ERRORS: dict[tuple[str, str], tuple[int, str]] = {}
RUNNABLE = ("data", "analysis")


@dataclass(frozen=True)
class Smaller:
    """A value run smaller than the README shows, keeping the command's shape (its flags) as documented."""

    when: tuple[str, ...]   # words that must all be in the command (module, sub-command, a value)
    values: dict[str, str]  # flag -> the value used instead of the README's
    why: str


SMALLER = (
    Smaller(("data", "fetch", "2015-01"), {"--forces": "kent,essex,durham"},
            "fetch writes the whole manifest once per force-month the sources do not list (quadratic): 44 forces "
            "x 123 months take 4-6 minutes here; three forces walk the same 123 months, the API, the archive "
            "index and its three zips"),
)


def smaller(words: list[str]) -> list[str]:
    out = list(words)
    for rule in SMALLER:
        if all(w in words for w in rule.when):
            for flag, value in rule.values.items():
                assert flag in out, f"SMALLER names {flag} but the README's command has none: {' '.join(words)}"
                out[out.index(flag) + 1] = value
    return out


def substitute(words: list[str], work: Path) -> tuple[list[str], list[Callable[[Path], None]]]:
    """Map placeholders to fixtures; fail naming any word the test does not know."""
    out, checks = [], []
    for word in words:
        if word in SUBSTITUTIONS:
            placeholder = SUBSTITUTIONS[word]
            out.append(placeholder.make(work))
            if placeholder.check is not None:
                checks.append(placeholder.check)
        elif word.startswith("--") or LITERAL.match(word):
            out.append(word)
        else:
            pytest.fail(f"README.md shows {word!r}, which tests/test_readme_commands.py does not know: add it to "
                        "SUBSTITUTIONS with the fixture it stands for (or fix the README).")
    return out, checks


# -- the fixture store and the local servers ---------------------------------------------------------------
# The fake API lists only Kent and the fake archive holds Kent and Essex in a few months of each of its three
# zips: `--forces all` and ten years stay small, while every zip is still planned, read and checked.
API_FORCES = ("kent",)
ARCHIVE_FORCES = ("kent", "essex")
ARCHIVE_MONTHS = ("2015-01", "2016-07", "2017-12", "2018-01", "2019-06", "2020-12", "2021-01", "2022-03")


def uof_ods(path: Path) -> Path:
    """A Home Office use-of-force data tables ODS for 2019/20 (layout of tests/test_use_of_force_tables.py)."""
    sheets = layout_2019()
    sheets["Contents"] = [["Police use of force statistics, England and Wales, 1 April 2019 to 31 March 2020"]]
    return _write_ods(path, sheets)


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build_fixture_store (gloucestershire, durham 2019) + kent and metropolitan 2024-04..2025-03 (the
    README's period and forces) + Home Office use-of-force tables for 2019/20, all through `data import`."""
    root = tmp_path_factory.mktemp("readme_store")
    store = build_fixture_store(root / "store", root / "csv")
    for f, force in enumerate(("kent", "metropolitan")):
        for i, month in enumerate(month_range("2024-04", "2025-03")):
            write_month(root / "csv2", force, month, 40 + 3 * i, seed=500 + 20 * f + i)
    for folder in (root / "csv2", uof_ods(root / "uof-2019-20.ods")):
        done = import_folder(store, folder)
        assert done.returncode == 0, done.stderr
    return store


@dataclass
class Servers:
    api: FakePoliceApi
    archive: FakeArchive
    files: FileServer

    def network_args(self, module: str, words: list[str]) -> list[str]:
        """NETWORK_ARGS: what a command needs to reach the local servers beyond the environment."""
        if module == "data" and words[:1] == ["fetch-use-of-force"] and "--years" in words:
            years = list(itertools.takewhile(lambda w: not w.startswith("--"), words[words.index("--years") + 1:]))
            return [arg for year in years for arg in ("--url", f"{year}={self.files.url}/uof-{year[:4]}.ods")]
        return []


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("readme_servers")
    availability = [{"date": e["date"], "stop-and-search": [f for f in e["stop-and-search"] if f in API_FORCES]}
                    for e in synthetic_availability(last="2025-03", months=36)]
    older = {(f, m): synthetic_csv(f, m, n=3) for f in ARCHIVE_FORCES for m in ARCHIVE_MONTHS}
    zips = {z: build_zip(z, older, filler=0) for z in ("2017-12", "2020-12", "2023-12")}
    with (FakePoliceApi(data_dir=root / "none", forces=synthetic_forces(), availability=availability) as api,
          FakeArchive(zips) as archive, FileServer() as files):
        files.scripts["/uof-2019.ods"] = [("ok", uof_ods(root / "uof.ods").read_bytes())]
        yield Servers(api, archive, files)


def run(words: list[str], store: Path, work: Path, servers: Servers) -> subprocess.CompletedProcess[str]:
    dead_proxy = "http://127.0.0.1:9"  # nothing listens there: a request to the real internet fails at once
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store), "STOPSEARCH_API_URL": servers.api.url,
           "STOPSEARCH_ARCHIVE_URL": servers.archive.url, "HOME": str(work), "PYTHONPATH": str(PROJECT),
           "HTTP_PROXY": dead_proxy, "HTTPS_PROXY": dead_proxy, "http_proxy": dead_proxy,
           "https_proxy": dead_proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", *words], cwd=work, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)


# -- the tests ---------------------------------------------------------------------------------------------
COMMANDS = documented_commands(README.read_text(encoding="utf-8"))


def _module(command: Documented) -> str | None:
    words = command.words
    return words[2] if PYTHON_M.match(command.text) and len(words) > 2 else None


RUNS = [pytest.param(c, v, id=f"L{c.line}:{' '.join(v)}")
        for c in COMMANDS if _module(c) in RUNNABLE for v in variants(c.words[2:])]
OTHERS = [pytest.param(c, id=f"L{c.line}:{c.text}") for c in COMMANDS if _module(c) not in RUNNABLE]


def test_the_readme_shows_the_commands_this_file_expects_to_find() -> None:
    # a guard on the parser: if it silently found nothing, every parametrised test below would vanish
    modules = [_module(c) for c in COMMANDS]
    assert modules.count("data") >= 8 and modules.count("analysis") >= 4, COMMANDS
    assert any(c.text.startswith("bash dev.sh ") for c in COMMANDS)


def test_the_parser_reads_optional_parts_and_alternatives() -> None:
    words = "fetch --forces all [--prefer api|archive] [--no-archive]".split()
    assert variants(words) == [
        ["fetch", "--forces", "all"], ["fetch", "--forces", "all", "--prefer", "api"],
        ["fetch", "--forces", "all", "--prefer", "archive"], ["fetch", "--forces", "all", "--no-archive"],
        ["fetch", "--forces", "all", "--prefer", "api", "--no-archive"]]
    text = "x\n```bash\n.venv/bin/python -m data status   # a comment\n```\nsee `python -m data forces` and\n"
    assert [(c.line, c.text) for c in documented_commands(text)] == [
        (3, ".venv/bin/python -m data status"), (5, "python -m data forces")]


def test_an_unknown_placeholder_fails(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="add it to SUBSTITUTIONS"):
        substitute(["report", "--out", "DIR"], tmp_path)
    with pytest.raises(pytest.fail.Exception, match="'<store>/x.csv'"):
        substitute(["import", "<store>/x.csv"], tmp_path)


@pytest.mark.parametrize(("command", "words"), RUNS)
def test_documented_command_runs(command: Documented, words: list[str], fixture_store: Path, servers: Servers,
                                 tmp_path: Path) -> None:
    store, work = tmp_path / "store", tmp_path / "work"
    shutil.copytree(fixture_store, store)
    work.mkdir()
    module, rest = words[0], words[1:]
    args, checks = substitute(smaller(words)[1:], work)
    api_before, archive_before = servers.api.count(), len(servers.archive.log)
    files_before = len(servers.files.requests)
    done = run([module, *args, *servers.network_args(module, rest)], store, work, servers)
    where = f"README.md line {command.line}: {' '.join(words)}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, where
    expected = DOCUMENTED_ERRORS.get((module, rest[0]))
    if expected is not None:
        code, line = expected
        assert done.returncode == code and done.stderr.strip() == line, where
        return
    assert done.returncode == 0, where
    assert done.stdout.strip(), where
    for check in checks:
        check(work)
    if module == "data" and rest[0] == "fetch":  # it went to the local servers, not the internet
        assert servers.api.count() > api_before, where
        if "2015-01" in rest and "--no-archive" not in rest:
            assert len(servers.archive.log) > archive_before, where
    if module == "data" and rest[0] == "fetch-use-of-force":
        assert len(servers.files.requests) > files_before, where


def _dev_sh_commands() -> set[str]:
    return set(re.findall(r"^\s{2}([a-z][a-z-]*)\)", (PROJECT / "dev.sh").read_text(), flags=re.M))


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (PROJECT / "Makefile").read_text(), flags=re.M))


@pytest.mark.parametrize("command", OTHERS)
def test_documented_entry_point_exists(command: Documented) -> None:
    words, module = command.words, _module(command)
    if words[:2] == ["bash", "dev.sh"]:
        assert len(words) > 2 and words[2] in _dev_sh_commands(), f"dev.sh has no `{command.text}` (line {command.line})"
    elif words[:1] == ["make"]:
        assert len(words) > 1 and words[1] in _make_targets(), f"Makefile has no `{command.text}` (line {command.line})"
    elif module == "benchmarks":
        names = [w for v in variants(words[3:]) for w in v]
        assert (PROJECT / "benchmarks" / "__main__.py").is_file()
        for name in names:
            assert (PROJECT / "benchmarks" / f"bench_{name}.py").is_file(), f"no benchmark {name!r} (line {command.line})"
    else:
        pytest.fail(f"README.md line {command.line} shows `{command.text}`, which tests/test_readme_commands.py "
                    "does not know how to run: teach it (see the module docstring).")


def test_a_readme_zip_placeholder_is_a_real_archive_zip(tmp_path: Path) -> None:
    # the fixture for ~/Downloads/2025-03.zip has the archive's layout: 2025-03.zip holds YYYY-MM/ folders
    with zipfile.ZipFile(_downloaded_zip(tmp_path)) as archive:
        names = archive.namelist()
    assert "2025-03/2025-03-kent-stop-and-search.csv" in names
