"""Exported figures have no overlapping or clipped text (issue 9, defect 6).

Every chart kind is built with 19 detailed groups (long rotated labels), a trend over 48 months and the
demo notice, exported to SVG through the real kaleido path, and the SVG is opened in headless Chromium
(Playwright): each visible <text> element's box comes from getBBox() and its transform (getCTM), so a
rotated label is an oriented rectangle, not a loose upright box. No two boxes may intersect (separating
axis test) and every box must lie inside the canvas.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import export, export_layout, figures
from analysis.export import ExportContext, Renderer, decorate, render_options
from analysis.selection import Selection, select
from analysis.tables import build_table
from data import demo, vocab

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]

# Oriented boxes of visible text, in the SVG's own pixels. Text fainter than half opacity is a watermark
# drawn across the plot on purpose, and is left out.
BOXES_JS = """(svg) => {
  document.body.innerHTML = svg;
  const root = document.querySelector('svg');
  const W = root.width.baseVal.value, H = root.height.baseVal.value;
  const toRoot = root.getCTM().inverse();
  const out = [];
  for (const el of root.querySelectorAll('text')) {
    const text = (el.textContent || '').trim();
    if (!text) continue;
    let opacity = parseFloat(getComputedStyle(el).fillOpacity || '1');
    for (let n = el; n && n !== root; n = n.parentElement) {
      const s = getComputedStyle(n);
      opacity *= parseFloat(s.opacity || '1');
      if (s.display === 'none' || s.visibility === 'hidden') opacity = 0;
    }
    if (opacity < 0.5) continue;
    const b = el.getBBox();
    if (b.width === 0 || b.height === 0) continue;
    const m = toRoot.multiply(el.getCTM());
    const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]];
    out.push({text, corners: corners.map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; })});
  }
  return {width: W, height: H, boxes: out};
}"""


def _intersect(a: list[list[float]], b: list[list[float]], tolerance: float = 0.5) -> bool:
    """Separating axis test for two convex quadrilaterals (touching within `tolerance` px is not overlap)."""
    for poly in (a, b):
        for i in range(4):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % 4]
            nx, ny = y1 - y2, x2 - x1
            norm = float(np.hypot(nx, ny)) or 1.0
            pa = [(nx * x + ny * y) / norm for x, y in a]
            pb = [(nx * x + ny * y) / norm for x, y in b]
            if max(pa) <= min(pb) + tolerance or max(pb) <= min(pa) + tolerance:
                return False
    return True


def text_problems(measured: dict) -> list[str]:
    """Every pair of overlapping text boxes and every box outside the canvas, in words."""
    problems = []
    boxes = measured["boxes"]
    for i, box in enumerate(boxes):
        xs = [p[0] for p in box["corners"]]
        ys = [p[1] for p in box["corners"]]
        if min(xs) < -0.5 or min(ys) < -0.5 or max(xs) > measured["width"] + 0.5 or max(ys) > measured["height"] + 0.5:
            problems.append(f"outside the canvas: {box['text'][:70]!r} at x {min(xs):.0f}..{max(xs):.0f}, "
                            f"y {min(ys):.0f}..{max(ys):.0f} of {measured['width']:.0f} x {measured['height']:.0f}")
        for other in boxes[i + 1:]:
            if _intersect(box["corners"], other["corners"]):
                problems.append(f"overlap: {box['text'][:70]!r} and {other['text'][:70]!r}")
    return problems


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Tables of the synthetic demo (generated, not ../shared) with the 19 detailed groups."""
    records, manifest = demo.demo_records(), demo.demo_manifest()
    three = Selection.build(["metropolitan", "west-midlands", "devon-and-cornwall"], "2024-04", "2025-03",
                            level="detailed")
    every = Selection.build("all", "2024-04", "2025-03", level="detailed")
    chosen = select(records, three)
    out = {kind: build_table(kind, chosen, three, manifest=manifest)
           for kind in ("rates", "disparity", "outcomes", "find-rate", "thorough", "mix", "quality", "agreement")}
    out["compare"] = build_table("compare", select(records, every), every, manifest=manifest)
    out["manifest"] = manifest
    out["trend"] = long_trend()
    return out


def long_trend(months: int = 48) -> pd.DataFrame:
    """A trend table over `months` months for every detailed group (month labels crowd the axis)."""
    labels = [f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    rows = []
    for k, group in enumerate(vocab.DETAILED_WITH_NOT_STATED):
        for i, month in enumerate(labels):
            rate = np.nan if i < 11 or group == vocab.NOT_STATED else 5.0 + k + 0.1 * i
            rows.append({"force": "ALL", "month": month, "group": group, "searches": 100 + 3 * i + k,
                         "rolling_searches": 1200, "rolling_population": 100_000, "rolling_rate": rate,
                         "rolling_ci_low": rate - 0.5, "rolling_ci_high": rate + 0.5, "rolling_ratio": np.nan,
                         "rolling_ratio_ci_low": np.nan, "rolling_ratio_ci_high": np.nan})
    return pd.DataFrame(rows)


def all_figures(t: dict[str, pd.DataFrame]) -> dict[str, object]:
    return {
        "rates": figures.rates_figure(t["rates"], demo=True),
        "disparity": figures.disparity_figure(t["disparity"], demo=True),
        "trend": figures.trend_figure(t["trend"], demo=True),
        "compare": figures.compare_figure(t["compare"], demo=True),
        "funnel": figures.funnel_figure(t["compare"], demo=True),
        "outcomes": figures.outcomes_figure(t["outcomes"], demo=True),
        "arrest": figures.arrest_figure(t["outcomes"], demo=True),
        "find_rate": figures.find_rate_figure(t["find-rate"], demo=True),
        "thorough": figures.thorough_figure(t["thorough"], demo=True),
        "mix": figures.mix_figure(t["mix"], demo=True),
        "coverage": figures.coverage_figure(t["manifest"], demo=True),
        "quality": figures.quality_figure(t["quality"], demo=True),
        "agreement": figures.agreement_figure(t["agreement"], demo=True),
    }


CTX = ExportContext(
    title="Stop and search rate by ethnic group, all selected forces, with a title long enough to wrap onto a "
          "second line of the exported figure",
    subtitle="Metropolitan Police Service, West Midlands Police, Devon & Cornwall Police; 2024-04 to 2025-03; "
             "self-defined ethnicity (detailed groups); reference group White British; type: Person search",
    retrieved="2025-05-01 to 2025-05-03",
    caveats=("Residents are not the population at risk of a search.",
             "Hollow markers: fewer than 20 searches in the group."),
    demo=True)


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield browser.new_page()
        browser.close()


@pytest.fixture(scope="module")
def svgs(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    figs = all_figures(tables)
    decorated = {kind: decorate(fig, CTX) for kind, fig in figs.items()}
    with Renderer() as renderer:
        rendered = renderer.render_many([(d, render_options("svg", d)) for d in decorated.values()])
    return {kind: data.decode() for kind, data in zip(decorated, rendered, strict=True)}


KINDS = ("rates", "disparity", "trend", "compare", "funnel", "outcomes", "arrest", "find_rate", "thorough", "mix",
         "coverage", "quality", "agreement")


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("kind", KINDS)
def test_exported_text_never_overlaps_and_stays_on_the_canvas(kind: str, svgs: dict[str, str], page) -> None:
    measured = page.evaluate(BOXES_JS, svgs[kind])
    texts = " ".join(b["text"] for b in measured["boxes"])
    assert "Source:" in texts and "Synthetic demo data: generated" in texts, "footer and demo notice drawn"
    assert len(measured["boxes"]) > 10
    assert text_problems(measured) == []


def test_the_measure_finds_an_overlap(page) -> None:
    """The check itself: two texts drawn on top of each other, and one past the edge, are reported."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100">'
           '<text x="10" y="30" font-size="14">Ethnic group</text>'
           '<text x="40" y="34" font-size="12">Source: somewhere</text>'
           '<text x="250" y="80" font-size="14" transform="rotate(-45 250 80)">Bangladeshi and more</text>'
           '<text x="10" y="90" font-size="14" opacity="0.16">watermark over everything</text></svg>')
    problems = text_problems(page.evaluate(BOXES_JS, svg))
    assert any("overlap: 'Ethnic group' and 'Source: somewhere'" in p for p in problems)
    assert any("outside the canvas: 'Bangladeshi and more'" in p for p in problems)
    assert not any("watermark" in p for p in problems)


def test_rotated_labels_get_room_below_the_plot(tables: dict[str, pd.DataFrame]) -> None:
    """The room under the plot follows the labels: 19 long group names rotate and need far more room than
    five short ones; the trend's lower axis (months) is the one measured."""
    detailed = figures.rates_figure(tables["rates"])
    broad = figures.rates_figure(pd.DataFrame({
        "force": "ALL", "group": list(vocab.BROAD_GROUPS), "searches": 100, "population": 10_000,
        "rate_per_1000": 10.0, "ci_low": 9.0, "ci_high": 11.0}))
    wide, narrow = (export_layout.plan_ticks(f, plot_width=1000) for f in (detailed, broad))
    assert narrow.angle == 0 and wide.angle in (-45, -90)
    # 'White and Black Caribbean' (25 characters) at 13 px rotated 45 degrees: at least 25 * 13 * 0.5 * 0.7
    assert wide.below_px > 25 * 13 * 0.5 * 0.7 > narrow.below_px
    trend = figures.trend_figure(tables["trend"])
    assert export_layout.bottom_x_axis(trend)[0] == "xaxis2"
    assert export_layout.plan_ticks(trend, plot_width=1000).angle != 0


def test_screen_figure_keeps_no_text_outside_the_plot(tables: dict[str, pd.DataFrame]) -> None:
    """On a page the title, source and notes are page text (they wrap on a phone); the chart keeps only
    the plot, its axes (margins grown by plotly's automargin) and the demo mark."""
    fig = export.screen(figures.rates_figure(tables["rates"], demo=True))
    names = [a.name for a in fig.layout.annotations]
    assert names == [figures.WATERMARK_NAME]
    assert not fig.layout.title.text and fig.layout.width is None
    assert fig.layout.xaxis.automargin is True and fig.layout.yaxis.automargin is True
