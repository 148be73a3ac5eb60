"""Screen wording helpers (analysis.views): p-values, the official headline sentence, what 'pooled' covers,
the no-data empty state, and upload messages without server paths."""
from __future__ import annotations

import pandas as pd

from analysis import views
from analysis.selection import Selection
from data import reference_data


def test_p_values_are_never_in_scientific_notation() -> None:
    assert views.fmt_p(1.4e-27) == "p < 0.001"
    assert views.fmt_p(0.0004) == "p < 0.001"
    assert views.fmt_p(0.0042) == "p = 0.004"
    assert views.fmt_p(0.3456) == "p = 0.35"
    assert views.fmt_p(float("nan")) == "no p-value"


def test_the_headline_sentence_follows_the_official_phrasing_with_its_interval() -> None:
    # GOV.UK Ethnicity facts and figures phrasing: "Black people were 4.1 times as likely as White people to be
    # stopped and searched"; numbers here by hand: 23.71 / 5.81 = 4.08 (DATA.md 3.2, year ending March 2023)
    ratio = pd.Series({"group": "Black", "reference": "White", "ratio": 23.71 / 5.81, "ci_low": 4.03,
                       "ci_high": 4.13})
    group = pd.Series({"rate_per_1000": 23.71})
    reference = pd.Series({"rate_per_1000": 5.81})
    selection = Selection.build(["kent"], "2022-04", "2023-03")
    sentence = views.headline_sentence(ratio, group, reference, selection)
    assert sentence == ("Between 2022-04 and 2023-03, Black people were 4.1 times as likely as White people to be "
                        "stopped and searched in Kent Police (95% CI 4.0 to 4.1): 23.7 searches per 1,000 Black "
                        "residents a year, against 5.8 per 1,000 White residents.")
    officer = Selection.build(["kent"], "2022-04", "2023-03", ethnicity="officer")
    assert "(as the officer saw them)" in views.headline_sentence(ratio, group, reference, officer)
    no_ratio = pd.Series({**ratio.to_dict(), "ratio": float("nan")})
    assert views.headline_sentence(no_ratio, group, reference, selection) is None


def test_pooled_says_which_forces_and_how_much_of_england_and_wales() -> None:
    selection = Selection.build(["kent", "essex"], "2024-01", "2024-12")
    sentence = views.pooled_sentence(selection)
    table = reference_data.forces()
    territorial = [f for f in table.loc[table["country"].ne("Northern Ireland"), "force"]
                   if reference_data.has_residents(f)]
    share = (reference_data.residents_total("kent") + reference_data.residents_total("essex")) / sum(
        reference_data.residents_total(f) for f in territorial)
    assert f"2 of the {len(territorial)} police force areas" in sentence
    assert f"{100 * share:.1f}%" in sentence and "Kent Police" in sentence and "Essex Police" in sentence
    assert views.pooled_sentence(Selection.build(["kent"], "2024-01", "2024-12")) is None


def test_the_no_data_state_names_the_fetch_command_for_the_app_and_the_command_line() -> None:
    app = views.no_published_data_text(["metropolitan"], "2019-04", "2020-03", {"metropolitan": "12 not in the store"})
    assert "python -m data fetch --forces metropolitan --from 2019-04 --to 2020-03" in app and "sidebar" in app
    cli = views.no_published_data_text(["metropolitan"], "2019-04", "2020-03", {}, app=False)
    assert "sidebar" not in cli and "Get data" not in cli


def test_upload_messages_name_the_file_not_the_servers_temporary_folder() -> None:
    folder = "/tmp/stopsearch-upload-abc123"
    message = f"{folder}/2024-13-kent-stop-and-search.csv: '2024-13' is not a month"
    assert views.without_folder(message, folder) == "2024-13-kent-stop-and-search.csv: '2024-13' is not a month"


def test_a_trends_text_description_names_drawn_points_not_the_empty_months_before_them() -> None:
    # a 14-month series: the rolling rate exists from the 12th month on; the first 11 points are not drawn
    from analysis.figures.describe import describe
    from analysis.figures.group_charts import trend_figure
    from analysis.trend import trend
    from tests.synthetic_records import records_from_counts

    months = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02"]
    counts = pd.DataFrame([{"force": "kent", "month": m, "group": g, "n": n}
                           for m in months for g, n in (("Black", 30), ("White", 300))])
    selection = Selection.build(["kent"], months[0], months[-1])
    text = describe(trend_figure(trend(records_from_counts(counts), selection)))
    assert "n/a" not in text
    assert "2023-12" in text and "2024-02" in text and "2023-01" not in text
