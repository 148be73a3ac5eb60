"""analysis.views: the dashboard's small pure helpers (options, picking rows, formatting, coverage, map)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import views
from data import schema
from data.errors import BadMonthRange


def _records(rows: list[dict]) -> pd.DataFrame:
    base = {name: None for name in schema.RAW_COLUMNS}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    return schema.add_derived_columns(schema.coerce_raw(frame))


def test_default_period_is_the_latest_twelve_months_or_all() -> None:
    months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"]
    assert views.default_period(months) == ("2024-03", "2025-02")
    assert views.default_period(["2024-05", "2024-06"]) == ("2024-05", "2024-06")
    # a gap: the first available month inside the window
    assert views.default_period(["2023-01", "2024-09", "2024-10"]) == ("2024-09", "2024-10")
    with pytest.raises(ValueError):
        views.default_period([])


def test_options_follow_the_records_in_a_natural_order() -> None:
    records = _records([
        {"force": "kent", "month": "2024-05", "age_range": "over 34", "gender": "Female", "type": "Person search"},
        {"force": "kent", "month": "2024-04", "age_range": "18-24", "gender": "Male", "type": "Vehicle search"},
        {"force": "essex", "month": "2024-04", "age_range": "18-24", "legislation":
         "Misuse of Drugs Act 1971 (section 23)", "object_of_search": "Controlled drugs"},
    ])
    assert views.months_in(records) == ["2024-04", "2024-05"]
    assert views.forces_in(records) == ["essex", "kent"]          # reference-table order
    options = views.filter_options(records)
    assert options["age"] == ["18-24", "over 34"]
    assert options["gender"] == ["Male", "Female"]
    assert options["type"] == ["Person search", "Vehicle search"]
    assert options["object"] == ["Controlled drugs"]
    assert options["legislation"] == ["Misuse of Drugs Act s23", "Not recorded"]


def test_overall_prefers_pooled_rows_else_the_one_force() -> None:
    table = pd.DataFrame({"force": ["kent", "kent", "ALL", "ALL"], "group": ["Black", "White"] * 2,
                          "x": [1, 2, 3, 4]})
    assert views.overall(table)["x"].tolist() == [3, 4]
    assert views.overall(table.iloc[:2])["x"].tolist() == [1, 2]
    assert views.group_row(table, "White")["x"] == 4
    assert views.group_row(table, "Asian") is None
    assert views.per_force(table)["x"].tolist() == [1, 2]


def test_ratio_headline_carries_interval_counts_and_not_stated_range() -> None:
    row = pd.Series({"group": "Black", "reference": "White", "ratio": 4.0812, "ci_low": 4.02, "ci_high": 4.14,
                     "group_searches": 57121, "reference_searches": 282957, "ratio_if_not_stated_group": 5.9,
                     "ratio_if_not_stated_reference": 3.4, "small_n": False, "reason": ""})
    h = views.ratio_headline(row, not_stated_share=0.2045)
    assert h.value == "4.08x"
    assert h.interval == "95% CI 4.02 to 4.14"
    assert h.counts == "57,121 searches of Black people vs 282,957 of White people"
    assert "were White: 3.40x; if every one were Black: 5.90x" in h.caveat and "20.4%" in h.caveat
    empty = views.ratio_headline(None)
    assert empty.value == "n/a"


def test_formatting_never_prints_nan() -> None:
    assert views.fmt_number(float("nan")) == "n/a"
    assert views.fmt_share(None) == "n/a"
    assert views.fmt_interval(np.nan, 2.0) == "no interval"
    assert views.fmt_interval(0.1, 0.25, share=True) == "95% CI 10.0% to 25.0%"
    assert views.fmt_count(1234567) == "1,234,567"


def test_coverage_marks_every_cell_and_counts_statuses() -> None:
    manifest = pd.DataFrame({"force": ["kent", "kent", "essex"], "month": ["2024-04", "2024-05", "2024-04"],
                             "status": ["ok", "not_published", "failed"], "records": [10, 0, 0],
                             "reason": [None, "not listed", "HTTP 500"]})
    cells = views.coverage(manifest, ["kent", "essex"], ["2024-04", "2024-05"])
    assert len(cells) == 4
    assert dict(zip(zip(cells["force"], cells["month"], strict=True), cells["status"], strict=True)) == {
        ("kent", "2024-04"): "ok", ("kent", "2024-05"): "not_published",
        ("essex", "2024-04"): "failed", ("essex", "2024-05"): "not_fetched"}
    summary = views.coverage_summary(cells)
    assert summary == {"ok": 1, "empty": 0, "not_published": 1, "failed": 1, "not_fetched": 1, "cells": 4}
    assert views.coverage_sentence(summary) == ("1 of 4 force-months have data; 1 not published, 1 failed, "
                                                "1 not in the store.")
    matrix = views.coverage_matrix(cells)
    assert matrix.shape == (2, 2)
    assert matrix.loc["Kent Police", "2024-05"] == views.STATUS_ORDER.index("not_published")


def test_map_points_samples_located_records_reproducibly() -> None:
    rows = [{"force": "kent", "month": "2024-04", "latitude": 51.0 + i / 1000, "longitude": 0.5,
             "self_defined_ethnicity": "White - Irish"} for i in range(50)]
    rows += [{"force": "kent", "month": "2024-04"} for _ in range(10)]   # no location
    records = _records(rows)
    points, located, total = views.map_points(records, "self_defined_broad", limit=20)
    assert (located, total) == (50, 60)
    assert len(points) == 20 and set(points["group"]) == {"White"}
    assert points.columns.tolist() == ["latitude", "longitude", "group", "month", "street"]
    assert set(points["street"]) == {"Kent Police"}
    again, _, _ = views.map_points(records, "self_defined_broad", limit=20)
    pd.testing.assert_frame_equal(points, again)


def test_force_from_points_reads_customdata_or_labels() -> None:
    known = ["kent", "essex"]
    assert views.force_from_points([{"customdata": ["essex", 3.2]}], known) == "essex"
    assert views.force_from_points([{"y": "Kent Police"}], known) == "kent"
    assert views.force_from_points([{"y": "nowhere"}], known) is None
    assert views.force_from_points([], known) is None


def test_league_table_sorts_one_group() -> None:
    compare = pd.DataFrame({"force": ["kent", "essex", "ALL", "kent"], "group": ["Black", "Black", "Black", "Asian"],
                            "ratio": [2.0, 5.0, 3.0, 1.0], "ci_low": [1.5, 4.0, 2.9, 0.8],
                            "ci_high": [2.5, 6.0, 3.1, 1.2], "group_searches": [100, 50, 150, 10]})
    table = views.league_table(compare, "Black")
    assert table["Force"].tolist() == ["Essex Police", "Kent Police"]
    assert views.league_table(compare, "Black", sort="searches")["Force"].tolist() == ["Kent Police", "Essex Police"]


def test_recent_months_and_spans() -> None:
    months = views.recent_months(date(2025, 7, 15), count=3)
    assert months == ["2025-04", "2025-05", "2025-06"]
    assert views.month_span("2024-11", "2025-01") == ["2024-11", "2024-12", "2025-01"]
    with pytest.raises(BadMonthRange):
        views.month_span("2025-02", "2025-01")


def test_gaps_and_store_summary_name_what_is_missing() -> None:
    manifest = pd.DataFrame({"force": ["kent", "kent", "essex"], "month": ["2024-04", "2024-05", "2024-04"],
                             "status": ["ok", "not_published", "empty"], "records": [10, 0, 0],
                             "reason": [None, "not listed", None]})
    gaps = views.coverage_gaps(views.coverage(manifest, ["kent", "essex"], ["2024-04", "2024-05"]))
    assert gaps.to_dict("records") == [
        {"Force": "Kent Police", "Month": "2024-05", "Status": "not published", "Reason": "not listed"},
        {"Force": "Essex Police", "Month": "2024-05", "Status": "not in the store", "Reason": ""}]
    assert views.store_summary(manifest) == ("3 force-months recorded (1 ok, 1 empty (0 searches), 1 not "
                                             "published), 2024-04 to 2024-05, 10 records.")
    assert views.store_summary(pd.DataFrame()) == "The store is empty."
    assert views.months_available(manifest) == {"kent": ["2024-04"], "essex": ["2024-04"]}


def test_plain_tests_say_direction_and_whether_chance_explains_it() -> None:
    pairwise = pd.DataFrame({
        "force": ["ALL", "ALL"], "measure": ["outcome", "outcome"], "outcome": ["Arrest", "Arrest"],
        "group": ["Black", "Asian"], "other": ["White", "White"], "group_count": [100, 50],
        "group_total": [1000, 400], "other_count": [300, 1500], "other_total": [2000, 12000],
        "p_holm": [0.0004, 0.8], "reason": ["", ""]})
    first, second = views.plain_tests(pairwise)
    assert first.startswith("Searches of Black people were arrested less often than searches of White people")
    assert "(10.0% of 1,000 vs 15.0% of 2,000)" in first and "larger than chance" in first
    assert "more often" not in first
    assert "chance alone could explain" in second and "12.5% of 400 vs 12.5% of 12,000" in second


def test_small_shaping_helpers() -> None:
    h = views.no_location_headline(90, 100)
    assert h.value == "10.0%" and h.counts == "10 of 100 searches" and h.interval.startswith("95% CI 5.5%")
    assert views.no_location_headline(0, 0).value == "n/a"
    assert views.use_of_force_forces(["kent", "essex"], ["kent", "essex"]) == "all"
    assert views.use_of_force_forces(["kent"], ["kent", "essex"]) == ("kent",)
    assert views.broad_reference("White British") == "White" and views.broad_reference("Asian") == "Asian"
    quality = pd.DataFrame({"force": ["kent", "ALL"], "records": [5, 5], "share_no_location": [0.25, float("nan")]})
    shown = views.quality_display(quality)
    assert shown.columns.tolist() == ["Force", "Records", "No location"]
    assert shown["No location"].tolist() == ["25.0%", "n/a"]
    assert shown["Force"].tolist() == ["Kent Police", "All selected forces"]


def test_use_of_force_unit_follows_the_table():
    import pandas as pd

    from analysis.views import use_of_force_unit
    reports = pd.DataFrame({"unit": ["officer reports on a person"] * 2})
    assert use_of_force_unit(reports, default="uses") == "officer reports on a person"
    assert use_of_force_unit(pd.DataFrame({"x": [1]}), default="uses") == "uses"
