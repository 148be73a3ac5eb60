"""Whole-view reports: offline HTML, printed PDF, figures and CSVs, and the per-force batch command."""
from __future__ import annotations

import importlib.util
import io
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from pandas.testing import assert_frame_equal
from pypdf import PdfReader

from analysis.export import DEMO_TEXT, Renderer, read_table_csv
from analysis.rates import disparity, rates
from analysis.report import NoData, build_report
from analysis.report_cli import view_url
from analysis.selection import Selection, select
from data.demo import demo_manifest, demo_records

pytestmark = pytest.mark.browser
PROJECT = Path(__file__).resolve().parents[1]
SELECTION = Selection.build("kent,essex", "2024-04", "2025-03", filters={"age_range": ["18-24", "25-34"]})
URL = view_url(SELECTION, base="http://localhost:8501/")


def _bar(table: pd.DataFrame, **_: object) -> go.Figure:
    """Stand-in chart while analysis.figures is not there (the report prefers the real builders)."""
    value = "rate_per_1000" if "rate_per_1000" in table else "ratio"
    rows = table.loc[table["force"].eq("ALL")]
    return go.Figure(go.Bar(x=rows["group"], y=rows[value]))


FIGURES = None if importlib.util.find_spec("analysis.figures") else {"rates": _bar, "disparity": _bar}


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return demo_records()


@pytest.fixture(scope="module")
def renderer():
    with Renderer(tabs=2) as r:
        yield r


@pytest.fixture(scope="module")
def written(records, renderer, tmp_path_factory) -> Path:
    # three sections keep the module quick (every section renders the same way)
    report = build_report(records, demo_manifest(), SELECTION, demo=True, view_url=URL, figures=FIGURES,
                          sections=("rates", "disparity", "trend"))
    out = tmp_path_factory.mktemp("report")
    report.write_html(out / "report.html")
    report.write_pdf(out / "report.pdf", renderer=renderer)
    report.write_figures(out / "figures", ["png", "svg", "pdf"], renderer=renderer)
    report.write_csv(out / "tables")
    return out


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """What a CSV can hold: missing text is NaN, nullable integers with gaps are floats."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            if column.isna().any():
                out[name] = column.astype("float64")
        else:
            kept = column.notna() & column.astype(str).ne("")
            out[name] = column.where(kept).astype("str") if kept.any() else float("nan")
    return out


def test_html_is_self_contained_and_holds_the_charts(written):
    page = (written / "report.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*>", page, flags=re.I)
    assert scripts and not [s for s in scripts if "src" in s.lower()], scripts
    assert page.count("Licensed under the MIT license") <= 1 or page.count("plotly.js v") == 1
    assert page.count("plotly.js v") == 1  # plotly.js inlined once, however many charts
    assert 'id="chart-rates"' in page and 'id="chart-disparity"' in page
    assert "Plotly.newPlot" in page
    assert URL.replace("&", "&amp;") in page
    assert "Synthetic demo data" in page and "Open Government Licence v3.0" in page
    for heading in ("Headline numbers", "Methods", "Data quality"):
        assert heading in page


def test_pdf_prints_text_and_renders(written, tmp_path):
    pdf = written / "report.pdf"
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 3
    assert len(reader.pages) == int(subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
                                    .stdout.split("Pages:")[1].split()[0])
    box = reader.pages[0].mediabox  # A4 landscape: 842 x 595 pt
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    for needle in ("Stop and search by ethnicity: Kent Police, Essex Police, 2024-04 to 2025-03",
                   "age range: 18-24, 25-34", "reference group White", "Census 2021, ONS",
                   "Open Government Licence v3.0", DEMO_TEXT, "Methods", "localhost:8501"):
        assert needle in text, needle
    done = subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                          capture_output=True, timeout=60, check=True)
    assert done.returncode == 0
    pages = list(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.count("Synthetic demo data") >= 1


def test_figures_written_in_every_format(written):
    for key in ("rates", "disparity"):
        png = (written / "figures" / f"{key}.png").read_bytes()
        assert struct.unpack(">I", png[16:20])[0] == 3600
        assert b"<svg" in (written / "figures" / f"{key}.svg").read_bytes()[:200]
        assert (written / "figures" / f"{key}.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(("name", "function"), [("rates", rates), ("disparity", disparity)])
def test_csv_equals_the_analysis_output(written, records, name, function):
    back = read_table_csv(written / "tables" / f"{name}.csv")
    expected = function(select(records, SELECTION), SELECTION)
    assert_frame_equal(back, normalised(expected), check_dtype=False)
    head = (written / "tables" / f"{name}.csv").read_text().splitlines()[:8]
    assert any("age range: 18-24, 25-34" in line for line in head)


def test_unknown_section_is_refused(records):
    with pytest.raises(ValueError, match="unknown report section"):
        build_report(records, demo_manifest(), SELECTION, demo=True, sections=("rates", "pie"))


def test_no_records_is_a_clear_error(records):
    empty = Selection.build("kent", "2019-01", "2019-03")
    with pytest.raises(NoData, match="No stop-and-search records for Kent Police"):
        build_report(records, demo_manifest(), empty, demo=True)


def test_view_url_restores_the_selection():
    assert URL.startswith("http://localhost:8501/?forces=kent&forces=essex&start=2024-04&end=2025-03")
    assert "age=18-24&age=25-34" in URL and "ref=White" in URL


def test_batch_command_writes_one_report_per_force_and_an_index(records, tmp_path):
    from data.store import Store

    store = Store(tmp_path / "store")
    months = ["2024-04", "2024-05", "2024-06"]
    for force in ("kent", "essex", "city-of-london"):
        for month in months:
            rows = records.loc[records["force"].eq(force).to_numpy(bool) & records["month"].eq(month).to_numpy(bool)]
            store.write_month(force, month, rows, source="test")
    out = tmp_path / "out"
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store.root), "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-m", "analysis", "report", "--forces", "kent,essex,dorset,city-of-london",
                           "--each-force", "--from", "2024-04", "--to", "2024-06", "--out", str(out),
                           "--formats", "html,pdf,csv", "--sections", "rates,disparity"], capture_output=True, text=True, timeout=240, cwd=PROJECT,
                          env=env)
    assert done.returncode == 1, done.stderr
    assert "dorset" in done.stderr and "No stop-and-search records for Dorset Police" in done.stderr
    assert "3 of 4 report(s) written" in done.stdout
    for force in ("kent", "essex", "city-of-london"):
        assert (out / force / "report.html").is_file() and (out / force / "report.pdf").is_file()
        assert PdfReader(str(out / force / "report.pdf")).pages
    assert not (out / "dorset" / "report.html").exists()
    index = (out / "index.html").read_text()
    assert "kent/report.html" in index and "essex/report.pdf" in index and "Dorset Police" in index
    # the CSV beside a chart equals the analysis function for the same selection, read from the store
    one = Selection.build("kent", "2024-04", "2024-06")
    expected = rates(select(store.read(forces=["kent"], months=months), one), one)
    assert_frame_equal(read_table_csv(out / "kent" / "tables" / "rates.csv"), normalised(expected),
                       check_dtype=False)
    assert "Synthetic demo data" not in index


def test_pdf_by_chromium_command_line(records, renderer, tmp_path):
    one = Selection.build("kent", "2024-04", "2025-03")
    report = build_report(records, demo_manifest(), one, demo=False, figures=FIGURES, sections=("rates",))
    path = report.write_pdf(tmp_path / "cli.pdf", renderer=renderer, method="cli")
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "Kent Police" in text and DEMO_TEXT not in text
