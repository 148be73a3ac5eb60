"""Figure builders: plotted values equal the table's, hollow small-n markers, one colour per group, watermark iff demo."""
from __future__ import annotations

import base64
import importlib

import numpy as np
import pandas as pd
import pytest

from analysis import colours, figures
from data import vocab


def values(spec: object) -> np.ndarray:
    """A data array from fig.to_dict() (plotly encodes numeric arrays as {'dtype', 'bdata'})."""
    if isinstance(spec, dict) and "bdata" in spec:
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"])).astype(float)
    return np.asarray(spec, dtype=float)


def traces(fig, **match) -> list[dict]:
    """Data traces of fig.to_dict(), guide lines left out, filtered by equal keys (e.g. name='Black')."""
    out = [t for t in fig.to_dict()["data"] if (t.get("meta") or {}).get("series") != "guide"]
    return [t for t in out if all(t.get(k) == v for k, v in match.items())]


def annotation_names(fig) -> list[str]:
    return [a.get("name") for a in fig.to_dict()["layout"].get("annotations", [])]


# ------------------------------------------------------------------------------------ hand-built tables
def rates_table() -> pd.DataFrame:
    groups = list(vocab.BROAD_WITH_NOT_STATED)
    rate = [8.29, 23.71, 9.51, 5.81, 7.33, np.nan]
    return pd.DataFrame({
        "force": "ALL", "group": groups, "searches": [45725, 57121, 16341, 282957, 12, 108285],
        "population": pd.array([5515455, 2409283, 1717977, 48699231, 1255632, None], dtype="Int64"),
        "rate_per_1000": rate, "ci_low": [r * 0.98 for r in rate], "ci_high": [r * 1.02 for r in rate],
        "months": 12, "reason": ["", "", "", "", "", "ethnicity not stated"],
        "small_n": [False, False, False, False, True, False], "forces": "a,b"})


def disparity_table() -> pd.DataFrame:
    return pd.DataFrame({
        "force": "kent", "group": ["Asian", "Black", "Mixed", "Other"], "reference": "White",
        "ratio": [1.43, 4.08, 1.64, 0.5], "ci_low": [1.4, 4.0, 1.6, 0.2], "ci_high": [1.46, 4.2, 1.7, 1.3],
        "rate_difference": [2.5, 17.9, 3.7, -2.9], "exact_ci_low": [1.39, 3.9, 1.59, 0.19],
        "exact_ci_high": [1.47, 4.3, 1.71, 1.4], "group_searches": [45725, 57121, 16341, 9],
        "reference_searches": 282957, "ratio_if_not_stated_group": 9.0, "ratio_if_not_stated_reference": 1.0,
        "reason": "", "small_n": [False, False, False, True], "forces": "kent"})


def compare_table() -> pd.DataFrame:
    forces = ["kent", "essex", "surrey", "dorset"]
    rows = []
    for group, base in (("Black", 4.0), ("Asian", 1.5)):
        for i, force in enumerate(forces):
            ratio = base * (0.8 + 0.15 * i)
            rows.append({"force": force, "group": group, "reference": "White", "group_searches": [500, 80, 12, 300][i],
                         "reference_searches": 4000, "ratio": ratio, "ci_low": ratio * 0.8, "ci_high": ratio * 1.25,
                         "pooled_ratio": base, "z": 0.5 * i, "limit95_low": base * 0.7, "limit95_high": base * 1.4,
                         "limit998_low": base * 0.6, "limit998_high": base * 1.7, "p_value": 0.3, "q_value": 0.4,
                         "flag": "within 95% limits", "small_n": i == 2, "se": 0.1 + 0.05 * i})
    return pd.DataFrame(rows)


def trend_table() -> pd.DataFrame:
    months = [f"2024-{m:02d}" for m in range(1, 7)]
    rows = []
    for g, base in (("Black", 20.0), ("White", 5.0), ("Not stated", np.nan)):
        for i, m in enumerate(months):
            rate = base + i if i >= 2 else np.nan
            rows.append({"force": "ALL", "month": m, "group": g, "searches": 100 * (i + 1),
                         "rolling_searches": pd.NA, "rolling_population": pd.NA, "rolling_rate": rate,
                         "rolling_ci_low": rate - 1, "rolling_ci_high": rate + 1,
                         "rolling_ratio": rate / (5.0 + i) if g != "Not stated" else np.nan,
                         "rolling_ratio_ci_low": np.nan, "rolling_ratio_ci_high": np.nan, "forces": "a"})
    return pd.DataFrame(rows)


def share_table(count: str) -> pd.DataFrame:
    return pd.DataFrame({"force": "kent", "group": ["Asian", "Black", "White", "Not stated"],
                         count: [10, 30, 200, 5], "recorded": [50, 100, 1000, 15], "share": [0.2, 0.3, 0.2, 1 / 3],
                         "ci_low": [0.1, 0.2, 0.18, 0.1], "ci_high": [0.3, 0.4, 0.22, 0.6],
                         "ratio": [1.0, 1.5, 1.0, 1.6], "ratio_ci_low": np.nan, "ratio_ci_high": np.nan,
                         "reason": ["", "", "reference group", ""], "small_n": [False, False, False, True]})


def outcomes_table() -> pd.DataFrame:
    rows = []
    for g, shares in (("Black", (0.1, 0.15, 0.75)), ("White", (0.14, 0.16, 0.70))):
        for outcome, s in zip(("Arrest", "Other action", "No further action"), shares, strict=True):
            rows.append({"force": "ALL", "group": g, "outcome": outcome, "count": int(s * 1000), "total": 1000,
                         "share": s, "ci_low": s - 0.02, "ci_high": s + 0.02, "ratio": 1.0, "ratio_ci_low": 0.9,
                         "ratio_ci_high": 1.1, "reason": "", "small_n": False})
    return pd.DataFrame(rows)


def mix_table() -> pd.DataFrame:
    rows = []
    for g in ("Black", "White"):
        for dim, cats in (("legislation_group", ("PACE s1", "Misuse of Drugs Act s23")), ("gender", ("Male", "Female"))):
            for j, c in enumerate(cats):
                share = 0.6 if j == 0 else 0.4
                rows.append({"force": "kent", "group": g, "dimension": dim, "category": c, "count": int(share * 50),
                             "share": share if g == "Black" else share - 0.1, "group_searches": 50, "small_n": False})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ tests
def test_rates_bars_equal_table_values_and_skip_not_stated():
    table = rates_table()
    fig = figures.rates_figure(table)
    plotted = {t["name"]: t for t in traces(fig)}
    assert list(plotted) == ["Asian", "Black", "Mixed", "White", "Other"]      # vocab order, no Not stated
    for row in table.itertuples():
        if row.group == vocab.NOT_STATED:
            continue
        t = plotted[row.group]
        assert values(t["y"])[0] == row.rate_per_1000
        assert values(t["error_y"]["array"])[0] == pytest.approx(row.ci_high - row.rate_per_1000)
        assert values(t["error_y"]["arrayminus"])[0] == pytest.approx(row.rate_per_1000 - row.ci_low)
        assert f"{row.searches:,}" in t["hovertext"][0] and f"{int(row.population):,}" in t["hovertext"][0]
    assert "searches per 1,000 residents, annualised" in fig.layout.yaxis.title.text
    assert fig.layout.meta["kind"] == "rates"
    # small_n bars are hollow (white fill, hatched outline in the group colour)
    assert plotted["Other"]["marker"]["color"] == ["white"]
    assert plotted["Black"]["marker"]["color"] == [colours.GROUP_COLOURS["Black"]]
    assert "Not stated" in fig.layout.annotations[0].text


def test_disparity_forest_values_hollow_markers_log_axis():
    table = disparity_table()
    fig = figures.disparity_figure(table)
    plotted = {t["name"]: t for t in traces(fig)}
    for row in table.itertuples():
        assert values(plotted[row.group]["x"])[0] == row.ratio
        assert plotted[row.group]["y"] == [row.group]
    assert plotted["Other"]["marker"]["symbol"] == ["star-open"]   # hollow; a shape per group (colours.group_symbol)
    assert plotted["Black"]["marker"]["symbol"] == ["circle"]
    assert fig.layout.xaxis.type == "log"
    guide = [t for t in fig.to_dict()["data"] if (t.get("meta") or {}).get("series") == "guide"]
    assert guide and values(guide[0]["x"]).tolist() == [1.0, 1.0]            # the line at ratio 1
    assert fig.layout.meta["reference"] == "White"


def test_compare_forest_one_row_per_force_hollow_small_n():
    table = compare_table()
    fig = figures.compare_figure(table)                                      # defaults to Black
    (t,) = traces(fig)
    black = table[table["group"].eq("Black")]
    by_force = dict(zip(t["customdata"], values(t["x"]), strict=True))
    assert by_force == dict(zip(black["force"], black["ratio"], strict=True))
    symbols = dict(zip(t["customdata"], t["marker"]["symbol"], strict=True))
    assert symbols["surrey"] == "circle-open" and symbols["kent"] == "circle"
    assert fig.layout.xaxis.type == "log" and fig.layout.meta["group"] == "Black"
    asian = figures.compare_figure(table, group="Asian")
    assert traces(asian)[0]["marker"]["color"] == colours.GROUP_COLOURS["Asian"]


def test_funnel_points_and_generic_curve():
    table = compare_table()
    curve = pd.DataFrame({"group": "Black", "se": [0.5, 0.2, 0.1], "limit95_low": [2.0, 3.0, 3.5],
                          "limit95_high": [8.0, 5.5, 4.6], "limit998_low": [1.5, 2.5, 3.2],
                          "limit998_high": [10.0, 6.5, 5.0], "pooled_ratio": 4.0})
    fig = figures.funnel_figure(table, curve)
    points = [t for t in traces(fig) if (t.get("meta") or {}).get("series") == "forces"][0]
    black = table[table["group"].eq("Black")]
    np.testing.assert_array_equal(values(points["y"]), black["ratio"].to_numpy())
    np.testing.assert_allclose(values(points["x"]), 1 / black["se"].to_numpy())
    high95 = [t for t in traces(fig) if (t.get("meta") or {}).get("series") == "limit95_high"][0]
    np.testing.assert_allclose(values(high95["x"]), [2.0, 5.0, 10.0])        # precision = 1/se, sorted
    np.testing.assert_array_equal(values(high95["y"]), [8.0, 5.5, 4.6])
    assert points["marker"]["symbol"][2] == "circle-open"
    # no curve: the limits come from the table's own per-force columns; x from the counts when no 'se'
    bare = figures.funnel_figure(table.drop(columns=["se"]))
    pts = [t for t in traces(bare) if (t.get("meta") or {}).get("series") == "forces"][0]
    np.testing.assert_allclose(values(pts["x"]), 1 / np.sqrt(1 / black["group_searches"] + 1 / 4000))


def test_league_table_sorted():
    league = figures.league_table(compare_table(), group="Black")
    assert list(league["Ratio"]) == sorted(league["Ratio"], reverse=True)
    assert len(league) == 4


def test_trend_values_and_bands():
    table = trend_table()
    fig = figures.trend_figure(table)
    lines = [t for t in traces(fig) if (t.get("meta") or {}).get("series") == "rate"]
    assert [t["name"] for t in lines] == ["Black", "White"]                  # Not stated has no rate
    black = table[table["group"].eq("Black")]
    np.testing.assert_array_equal(values(lines[0]["y"]), black["rolling_rate"].to_numpy())
    bands = [t for t in fig.to_dict()["data"] if t.get("fill") == "tonexty"]
    assert len(bands) == 2
    searches = [t for t in traces(fig) if (t.get("meta") or {}).get("series") == "searches"]
    np.testing.assert_array_equal(values(searches[0]["y"]), black["searches"].to_numpy(float))
    ratio = figures.trend_figure(table, measure="ratio")
    r_lines = [t for t in traces(ratio) if (t.get("meta") or {}).get("series") == "ratio"]
    np.testing.assert_array_equal(values(r_lines[0]["y"]), black["rolling_ratio"].to_numpy())


def test_outcomes_stacked_values():
    table = outcomes_table()
    fig = figures.outcomes_figure(table)
    assert fig.layout.barmode == "stack"
    for t in traces(fig):
        part = table[table["outcome"].eq(t["name"])]
        np.testing.assert_array_equal(values(t["y"]), part["share"].to_numpy())
        assert t["marker"]["color"] == colours.OUTCOME_COLOURS[t["name"]]
    arrest = figures.arrest_figure(table)
    got = {t["name"]: values(t["y"])[0] for t in traces(arrest)}
    assert got == {"Black": 0.1, "White": 0.14}


@pytest.mark.parametrize(("builder", "count"), [(figures.find_rate_figure, "found"),
                                                (figures.thorough_figure, "thorough")])
def test_share_dots_values_and_hollow(builder, count):
    table = share_table(count)
    fig = builder(table)
    plotted = {t["name"]: t for t in traces(fig)}
    assert list(plotted) == ["Asian", "Black", "White", "Not stated"]
    for row in table.itertuples():
        assert values(plotted[row.group]["y"])[0] == row.share
    assert plotted["Not stated"]["marker"]["symbol"] == ["circle-open"]
    assert "%" in fig.layout.yaxis.title.text


def test_mix_values():
    table = mix_table()
    fig = figures.mix_figure(table)
    for t in traces(fig):
        part = table[table["group"].eq(t["name"]) & table["dimension"].eq(t["meta"]["dimension"])]
        np.testing.assert_array_equal(values(t["x"]), part["share"].to_numpy())
        assert t["y"] == part["category"].tolist()


def test_coverage_status_codes_and_colours():
    manifest = pd.DataFrame({"force": ["kent", "kent", "essex", "essex"], "month": ["2024-01", "2024-02"] * 2,
                             "status": ["ok", "failed", "not_published", "empty"], "records": [10, 0, 0, 0],
                             "reason": [None, "HTTP 500", "not listed", None]})
    fig = figures.coverage_figure(manifest, forces=["kent", "essex", "surrey"])
    (t,) = traces(fig)
    z = np.asarray(t["z"], dtype=float) if not isinstance(t["z"], dict) else values(t["z"]).reshape(3, 2)
    order = colours.STATUS_ORDER
    assert z.tolist() == [[order.index("ok"), order.index("failed")],
                          [order.index("not_published"), order.index("empty")],
                          [order.index("not_fetched")] * 2]
    assert {c for _, c in t["colorscale"]} == set(colours.STATUS_COLOURS.values())


def test_quality_and_agreement_heatmaps():
    quality = pd.DataFrame({"force": ["kent", "metropolitan"], "records": [100, 200],
                            "share_no_location": [0.1, 0.05], "share_date_only": [0.0, 0.3],
                            "share_removal_not_recorded": [0.02, 1.0],
                            "not_recorded": ["", "outcome linked to object of search, removal of more than outer clothing"]})
    fig = figures.quality_figure(quality)
    (t,) = traces(fig)
    z = np.asarray(t["z"], dtype=float) if not isinstance(t["z"], dict) else values(t["z"]).reshape(2, 3)
    np.testing.assert_array_equal(z, quality[["share_no_location", "share_date_only",
                                              "share_removal_not_recorded"]].to_numpy())
    assert t["text"][1][2] == "not recorded"
    wide = pd.crosstab(pd.Series(["White", "White", "Black", "Black"], name="self"),
                       pd.Series(["White", "Black", "Black", "Black"], name="officer"))
    agree = figures.agreement_figure(wide)
    (h,) = traces(agree)
    z = np.asarray(h["z"], dtype=float) if not isinstance(h["z"], dict) else values(h["z"]).reshape(2, 2)
    assert h["y"] == ["Black", "White"] and h["x"] == ["Black", "White"]
    np.testing.assert_array_equal(z, [[1.0, 0.0], [0.5, 0.5]])


def test_map_one_trace_per_group_coloured():
    points = pd.DataFrame({"latitude": [51.5, 51.6, np.nan, 53.4], "longitude": [-0.1, -0.2, np.nan, -2.9],
                           "group": ["Black", "White", "Black", "Black"], "force": "metropolitan",
                           "month": "2024-05", "street": "On or near High Street"})
    fig = figures.map_figure(points, style=figures.OFFLINE_MAP_STYLE)
    got = {t["meta"]["group"]: t for t in traces(fig)}
    assert set(got) == {"Black", "White"}
    np.testing.assert_array_equal(values(got["Black"]["lat"]), [51.5, 53.4])
    assert got["Black"]["marker"]["color"] == colours.GROUP_COLOURS["Black"]
    assert fig.layout.map.style == "white-bg" and fig.layout.meta["located"] == 3


def test_use_of_force_values():
    table = pd.DataFrame({"force": "ALL", "year": "2022/23", "group": ["White", "Black", "White", "Black"],
                          "tactic": ["compliant_handcuffing"] * 2 + ["ced"] * 2, "count": [369, 486, 10, 20],
                          "reports": 1000, "share": [0.369, 0.486, 0.01, 0.02], "ci_low": [0.34, 0.45, 0.005, 0.01],
                          "ci_high": [0.4, 0.52, 0.02, 0.03]})
    fig = figures.use_of_force_figure(table)
    for t in traces(fig):
        np.testing.assert_array_equal(values(t["x"]), table.loc[table["group"].eq(t["name"]), "share"].to_numpy())
        assert t["marker"]["color"] == colours.GROUP_COLOURS[t["name"]]


def _all_figures(demo: bool) -> list:
    return [
        figures.rates_figure(rates_table(), demo=demo), figures.disparity_figure(disparity_table(), demo=demo),
        figures.compare_figure(compare_table(), demo=demo), figures.funnel_figure(compare_table(), demo=demo),
        figures.trend_figure(trend_table(), demo=demo), figures.outcomes_figure(outcomes_table(), demo=demo),
        figures.find_rate_figure(share_table("found"), demo=demo),
        figures.thorough_figure(share_table("thorough"), demo=demo), figures.mix_figure(mix_table(), demo=demo),
        figures.coverage_figure(pd.DataFrame({"force": ["kent"], "month": ["2024-01"], "status": ["ok"]}), demo=demo),
        figures.map_figure(pd.DataFrame({"latitude": [51.0], "longitude": [0.5], "group": ["Asian"]}), demo=demo),
        figures.rates_figure(rates_table().iloc[0:0], demo=demo),             # empty table: a message, no error
    ]


@pytest.mark.parametrize("demo", [True, False])
def test_watermark_iff_demo_titles_and_meta(demo):
    for fig in _all_figures(demo):
        assert (figures.WATERMARK_NAME in annotation_names(fig)) is demo, fig.layout.meta
        assert figures.has_watermark(fig) is demo
        assert fig.layout.title.text
        assert fig.layout.meta["kind"] in figures.BUILDERS and fig.layout.meta["demo"] is demo
    if demo:
        text = [a.text for a in _all_figures(True)[0].layout.annotations if a.name == figures.WATERMARK_NAME]
        assert text == ["Synthetic demo data"]


def test_group_colours_consistent_across_figures():
    seen: dict[str, set[str]] = {}
    for fig in _all_figures(False)[:4] + _all_figures(False)[6:9]:
        if fig.layout.meta["kind"] in ("compare", "funnel", "outcomes"):
            continue
        for t in traces(fig):
            marker = t.get("marker") or {}
            colour = (marker.get("line") or {}).get("color") or marker.get("color")
            if t.get("name") in colours.GROUP_COLOURS and isinstance(colour, str):
                seen.setdefault(t["name"], set()).add(colour)
    assert seen and all(c == {colours.GROUP_COLOURS[g]} for g, c in seen.items())


def test_palette_okabe_ito_and_distinct():
    assert set(colours.BROAD_COLOURS.values()) <= set(colours.OKABE_ITO.values())
    assert len(set(colours.DETAILED_COLOURS.values())) == len(vocab.DETAILED_WITH_NOT_STATED)
    assert set(colours.DETAILED_COLOURS) == set(vocab.DETAILED_WITH_NOT_STATED)
    assert len(set(colours.STATUS_COLOURS.values())) == len(colours.STATUS_COLOURS)
    assert colours.group_colour("Martian") == colours.UNKNOWN_COLOUR


REAL_MODULES = ("rates", "trend", "compare", "outcomes", "thorough", "mix", "quality")


@pytest.fixture(scope="module")
def demo_tables():
    missing = [m for m in REAL_MODULES if importlib.util.find_spec(f"analysis.{m}") is None]
    if missing:
        pytest.skip(f"analysis modules not there yet: {missing}")
    from analysis.selection import Selection, select
    from data import demo
    mods = {m: importlib.import_module(f"analysis.{m}") for m in REAL_MODULES}
    records, manifest = demo.demo_records(), demo.demo_manifest()
    selection = Selection.build("all", "2024-04", "2025-03")
    chosen = select(records, selection)
    compare = mods["compare"].compare(chosen, selection)
    return {
        "rates": mods["rates"].rates(chosen, selection), "disparity": mods["rates"].disparity(chosen, selection),
        "trend": mods["trend"].trend(chosen, selection), "compare": compare,
        "curve": mods["compare"].funnel_curve(compare), "outcomes": mods["outcomes"].outcomes(chosen, selection),
        "find_rate": mods["outcomes"].find_rate(chosen, selection),
        "thorough": mods["thorough"].thorough(chosen, selection), "mix": mods["mix"].mix(chosen, selection),
        "quality": mods["quality"].quality(chosen, selection, manifest=manifest),
        "agreement": mods["quality"].agreement(chosen, selection), "manifest": manifest, "records": chosen,
    }


def test_figures_from_real_tables_on_demo_data(demo_tables):
    t = demo_tables
    rates = figures.rates_figure(t["rates"], demo=True)
    pooled = t["rates"][t["rates"]["force"].eq("ALL") & t["rates"]["rate_per_1000"].notna()]
    got = {tr["name"]: values(tr["y"])[0] for tr in traces(rates)}
    assert got == dict(zip(pooled["group"], pooled["rate_per_1000"], strict=True))
    compare = figures.compare_figure(t["compare"])
    (tr,) = traces(compare)
    black = t["compare"][t["compare"]["group"].eq("Black") & np.isfinite(t["compare"]["ratio"])]
    assert dict(zip(tr["customdata"], values(tr["x"]), strict=True)) == dict(zip(black["force"], black["ratio"],
                                                                                  strict=True))
    built = [
        rates, figures.disparity_figure(t["disparity"]), figures.trend_figure(t["trend"]), compare,
        figures.funnel_figure(t["compare"], t["curve"]), figures.outcomes_figure(t["outcomes"]),
        figures.arrest_figure(t["outcomes"]), figures.find_rate_figure(t["find_rate"]),
        figures.thorough_figure(t["thorough"]), figures.mix_figure(t["mix"]),
        figures.coverage_figure(t["manifest"]), figures.quality_figure(t["quality"]),
        figures.agreement_figure(t["agreement"]),
        figures.map_figure(t["records"], style=figures.OFFLINE_MAP_STYLE, limit=2000),
    ]
    for fig in built:
        assert fig.layout.meta["kind"] in figures.BUILDERS and traces(fig), fig.layout.meta
    league = figures.league_table(t["compare"])
    assert len(league) == t["compare"]["group"].eq("Black").sum()           # forces without a ratio come last
    assert list(league["Ratio"].dropna()) == sorted(black["ratio"], reverse=True)


def test_rates_without_any_rate_says_why():
    table = rates_table().assign(rate_per_1000=np.nan, ci_low=np.nan, ci_high=np.nan,
                                 reason="no meaningful resident population")
    fig = figures.rates_figure(table)
    assert fig.layout.meta["empty"] and not traces(fig)
    assert "no meaningful resident population" in fig.layout.annotations[0].text


def test_quality_heatmap_marks_exactly_the_fields_a_force_never_records():
    # the Met records an outcome but never the outcome-linked or removal fields (DATA.md 1.6): only those two
    # cells say "not recorded"; "outcome" must not match inside "outcome linked to object of search"
    from analysis.figures.data_charts import quality_figure

    table = pd.DataFrame({"force": ["metropolitan"], "records": [100], "share_no_location": [0.1],
                          "share_date_only": [0.0], "share_ethnicity_not_stated": [0.2],
                          "share_outcome_not_recorded": [0.01], "share_outcome_linked_not_recorded": [1.0],
                          "share_removal_not_recorded": [1.0],
                          "not_recorded": ["outcome linked to object of search, removal of more than outer clothing"]})
    text = list(quality_figure(table).data[0].text[0])
    assert text == ["10%", "0%", "20%", "1%", "not recorded", "not recorded"]


def test_every_figure_has_plotlys_white_template_whatever_plotlys_default(monkeypatch) -> None:
    # oracle: plotly's own plotly_white, set explicitly the documented way
    import plotly.graph_objects as go
    import plotly.io as pio

    white = go.Figure().update_layout(template="plotly_white").to_dict()["layout"]["template"]
    # as in the app (analysis.figures.base sets it after Streamlit set its own; here a test module may have
    # imported Streamlit since)
    monkeypatch.setattr(pio.templates, "default", "plotly_white")
    fig = figures.rates_figure(rates_table())
    assert fig.to_dict()["layout"]["template"] == white
    # another default (Streamlit sets its own when imported after this module): still plotly_white
    monkeypatch.setattr(pio.templates, "default", "plotly_dark")
    assert figures.rates_figure(rates_table()).to_dict()["layout"]["template"] == white
