"""Static figure export: decorated PNG/SVG/PDF through one shared kaleido session, and CSVs with provenance."""
from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from pandas.testing import assert_frame_equal
from pypdf import PdfReader

from analysis import export
from analysis.export import (
    DEMO_TEXT,
    ExportContext,
    Renderer,
    decorate,
    figure_bytes,
    read_table_csv,
    table_csv,
)

pytestmark = pytest.mark.browser

SUBTITLE = ("Kent Police, Essex Police; 2024-04 to 2025-03; self-defined ethnicity; reference group White; "
            "legislation group: Misuse of Drugs Act 1971 (section 23)")
CTX = ExportContext(title="Searches per 1,000 residents by ethnic group", subtitle=SUBTITLE,
                    retrieved="2025-05-01 to 2025-05-03",
                    caveats=("Residents are not the population at risk of a search.",
                             "Hollow markers: fewer than 20 searches in the group."),
                    demo=False, view_url="http://localhost:8501/?forces=kent&start=2024-04")
DEMO = CTX.with_(demo=True)


def small_figure() -> go.Figure:
    fig = go.Figure()
    for group, value in (("Asian", 8.3), ("Black", 23.7), ("White", 5.8)):
        fig.add_bar(x=[group], y=[value], name=group, error_y=dict(type="data", array=[1.0]))
    fig.update_layout(title="App title", xaxis_title="Ethnic group", yaxis_title="Searches per 1,000",
                      legend=dict(orientation="h", y=-0.2))
    return fig


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:  # one Chromium for the whole module (~2 s to start)
        yield r


@pytest.fixture(scope="module")
def images(renderer) -> dict[str, bytes]:
    fig = small_figure()
    out = {fmt: figure_bytes(fig, DEMO, fmt, renderer=renderer) for fmt in ("png", "svg", "pdf")}
    out["plain-pdf"] = figure_bytes(fig, CTX, "pdf", renderer=renderer)
    return out


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_decorate_returns_a_copy_and_carries_every_line():
    fig = small_figure()
    before = fig.to_json()
    out = decorate(fig, DEMO)
    assert fig.to_json() == before, "the app's figure must not change"
    texts = " ".join(a.text for a in out.layout.annotations)
    for needle in (CTX.title, "Misuse of Drugs Act 1971", "data.police.uk", "Census 2021, ONS",
                   "Open Government Licence v3.0", "Residents are not the population", DEMO_TEXT):
        assert needle.split()[0] in texts and all(w in texts for w in needle.split()), needle
    assert out.layout.width == export.WIDTH and out.layout.height >= export.MIN_HEIGHT
    # the plot keeps its room whatever the header and footer take
    m = out.layout.margin
    assert out.layout.height - m.t - m.b >= export.PLOT_HEIGHT
    assert DEMO_TEXT not in " ".join(a.text for a in decorate(fig, CTX).layout.annotations)


def test_source_line_names_the_retrieval_dates_and_licence():
    assert CTX.source_line == ("Source: data.police.uk stop and search (retrieved 2025-05-01 to 2025-05-03); "
                               "Census 2021, ONS. Open Government Licence v3.0.")
    assert "not real data" in DEMO.source_line
    uof = CTX.with_(sources=(*CTX.sources, export.SOURCE_USE_OF_FORCE))
    assert "Home Office use-of-force statistics" in uof.source_line


def test_retrieved_range_covers_only_the_selection():
    manifest = pd.DataFrame({
        "force": ["kent", "kent", "essex", "kent"], "month": ["2024-04", "2024-05", "2024-04", "2024-06"],
        "status": ["ok", "ok", "ok", "failed"],
        "retrieved_at": ["2025-05-01T10:00:00+00:00", "2025-05-03T09:00:00+00:00", "2025-06-01T00:00:00+00:00",
                         "2025-07-01T00:00:00+00:00"]})
    assert export.retrieved_range(manifest, forces=["kent"], months=["2024-04", "2024-05", "2024-06"]) == \
        "2025-05-01 to 2025-05-03"
    assert export.retrieved_range(manifest, forces=["kent"], months=["2024-04"]) == "2025-05-01"
    assert export.retrieved_range(None) == ""


def test_png_is_print_resolution(images):
    width, height = png_size(images["png"])
    decorated = decorate(small_figure(), DEMO)
    assert (width, height) == (3 * export.WIDTH, 3 * decorated.layout.height)  # 3600 px: 300 dpi at 12 in


def test_svg_parses_and_holds_title_filters_source_and_watermark(images):
    root = ET.fromstring(images["svg"])
    assert root.tag.endswith("svg")
    text = " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))
    for needle in (CTX.title, "Misuse of Drugs Act 1971", "Open Government Licence v3.0", DEMO_TEXT):
        assert needle in text, needle


def test_pdf_is_one_page_with_extractable_title_filters_and_source(images):
    reader = PdfReader(io.BytesIO(images["pdf"]))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    ratio = float(box.width) / float(box.height)
    decorated = decorate(small_figure(), DEMO)
    assert ratio == pytest.approx(export.WIDTH / decorated.layout.height, rel=0.02)
    text = pdf_text(images["pdf"])
    for needle in (CTX.title, "reference group White", "Open Government Licence v3.0", "Census 2021, ONS",
                   DEMO_TEXT):
        assert needle in text, needle
    plain = pdf_text(images["plain-pdf"])
    assert "data.police.uk stop and search (retrieved 2025-05-01 to 2025-05-03)" in plain
    assert DEMO_TEXT not in plain


def test_many_figures_in_one_batch(renderer):
    figs = [(small_figure(), CTX.with_(title=f"Chart {i}")) for i in range(3)]
    out = export.figures_bytes(figs, ["png", "svg"], renderer=renderer)
    assert [sorted(o) for o in out] == [["png", "svg"]] * 3
    assert all(b"Chart 2" in out[2]["svg"] for _ in (0,))


def test_table_csv_round_trips_with_one_argument():
    table = pd.DataFrame({
        "force": ["kent", "kent", "ALL"], "group": ["Black", "White", "Other"],
        "searches": np.array([12, 950, 0], dtype="int64"), "rate_per_1000": [3.25, 0.5, np.nan],
        "small_n": [True, False, True], "reason": ["", "odd #label, with comma", None]})
    data = table_csv(table, DEMO)
    lines = data.decode().splitlines()
    assert lines[0] == f"# title: {CTX.title}"
    assert any(line.startswith("# Source: ") for line in lines)
    assert any("Synthetic demo data" in line for line in lines)
    assert any("comment='#'" in line for line in lines)
    back = read_table_csv(data)
    assert_frame_equal(back, pd.read_csv(io.BytesIO(data), comment="#"))
    expected = table.assign(reason=table["reason"].replace("", None))
    assert_frame_equal(back, expected, check_dtype=False)


def test_no_browser_gives_a_clear_error(monkeypatch):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    monkeypatch.setattr(export.os, "access", lambda path, mode: False)
    with pytest.raises(export.ExportUnavailable, match="needs Chromium"):
        export.browser_path()


def test_downloads_for_a_chart(renderer):
    table = pd.DataFrame({"group": ["Black", "White"], "rate_per_1000": [23.7, 5.8]})
    files = export.downloads(small_figure(), table, CTX, renderer=renderer)
    assert sorted(files) == ["csv", "pdf", "png", "svg"]
    assert files["png"].file_name == "searches-per-1-000-residents-by-ethnic-group.png"
    assert files["svg"].mime == "image/svg+xml" and files["pdf"].data[:5] == b"%PDF-"
    assert_frame_equal(read_table_csv(files["csv"].data), table)


def test_a_render_does_not_leak_into_the_next(renderer):
    # tabs are reloaded every RELOAD_EVERY renders, not after each: the same figure must give the same
    # bytes whatever was drawn before it (kaleido's own reload-per-render gives these bytes too)
    first = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]), layout=dict(title="other", yaxis_type="log"))
    fig = decorate(small_figure(), CTX)
    opts = export.render_options("png", fig)
    before = renderer.render(fig, **opts)
    renderer.render_many([(first, dict(format="png", width=700, height=500, scale=1))] * 3)
    assert renderer.render(fig, **opts) == before
