"""The label tables and the record normaliser, on small files written here and on the real shared data."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from data import normalise, schema, vocab
from data.errors import BadFile, BadResponse

HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
          "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
          "Outcome linked to object of search,Removal of more than just outer clothing")


def test_every_label_in_data_md_is_mapped(shared_dir):
    text = (shared_dir / "DATA.md").read_text()
    section = text[text.index("**Self-defined ethnicity**"):text.index("**Officer-defined ethnicity**")]
    # DATA.md abbreviates runs of labels ("`... - Caribbean`", "`- Pakistani`"): expand them with the
    # group prefix of the label before, as a reader would.
    full, prefix = [], ""
    for label in re.findall(r"`([^`]+)`", section):
        if label.startswith(("... - ", "- ")):
            full.append(prefix + " - " + label.split("- ", 1)[1])
        elif " - " in label and not label.startswith("<"):
            prefix = label.split(" - ", 1)[0]
            full.append(label)
        elif label == "Not Stated (NS)":
            full.append(label)
    assert len(full) >= 30
    for label in full:
        assert vocab.lookup("self_defined_ethnicity", label) is not None, label


@pytest.mark.parametrize(("label", "detailed", "broad"), [
    ("White - Irish", "White Irish", "White"),
    ("White - White British (W1)", "White British", "White"),
    ("Black or Black British - African (B2)", "African", "Black"),
    ("Chinese or other ethnic group - Any other ethnic group (O9)", "Any other ethnic group", "Other"),
    ("Asian/Asian British - Chinese", "Chinese", "Asian"),
    ("Other ethnic group - Not stated", "Not stated", "Not stated"),
    ("Not Stated (NS)", "Not stated", "Not stated"),
    (None, "Not stated", "Not stated"),
])
def test_self_defined_labels_map_to_census_groups(label, detailed, broad):
    frame = _one_record(self_defined_ethnicity=label)
    derived = schema.add_derived_columns(frame)
    assert derived["self_defined_group"].iloc[0] == detailed
    assert derived["self_defined_broad"].iloc[0] == broad


def test_old_and_new_outcomes_share_categories():
    for old, new in [("Suspect arrested", "Arrest"), ("Nothing found - no further action", "A no further action disposal"),
                     ("Offender given drugs possession warning", "Khat or Cannabis warning"),
                     ("Local resolution", "Community resolution")]:
        assert vocab.lookup("outcome", old) == vocab.lookup("outcome", new)


def test_unseen_label_is_kept_and_reported_not_dropped():
    frame = schema.add_derived_columns(_one_record(self_defined_ethnicity="Martian - Any"))
    assert len(frame) == 1
    assert frame["self_defined_ethnicity"].iloc[0] == "Martian - Any"
    assert pd.isna(frame["self_defined_broad"].iloc[0])
    unknown = schema.unknown_labels(frame)
    assert unknown.to_dict("records") == [{"column": "self_defined_ethnicity", "label": "Martian - Any", "records": 1}]


def _one_record(**overrides):
    row = {"type": "Person search", "datetime": "2023-07-31T15:37:00+00:00", "self_defined_ethnicity": None}
    row.update(overrides)
    return schema.add_derived_columns(normalise.from_api_records([row], force="kent", month="2023-07"))


def test_csv_crlf_fractional_seconds_empty_columns_and_duplicates(tmp_path):
    rows = [
        "Person search,2019-07-31T19:59:16.046666+00:00,False,,51.5,-0.1,Male,18-24,White - Irish,White,"
        "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,",
        "Vehicle search,2019-07-01T00:00:00+00:00,,,,,,,,,,,,,",
    ]
    rows.append(rows[0])  # identical records are real (several people searched together)
    path = tmp_path / "2019-07-kent-stop-and-search.csv"
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode())
    frame = normalise.from_csv(path, force="kent", month="2019-07")
    assert len(frame) == 3
    assert frame["datetime"].iloc[0] == pd.Timestamp("2019-07-31 19:59:16.046666")
    assert frame["date_only"].tolist() == [False, True, False]
    assert frame["involved_person"].tolist() == [True, False, True]
    assert frame["removal_of_more_than_outer_clothing"].isna().all()
    assert frame["outcome_linked_to_object"].tolist()[0] is True
    assert pd.isna(frame["outcome_linked_to_object"].iloc[1])


def test_csv_with_renamed_column_names_file_and_column(tmp_path):
    path = tmp_path / "2019-07-kent-stop-and-search.csv"
    path.write_text(HEADER.replace("Self-defined ethnicity", "Ethnicity (self)") + "\n")
    with pytest.raises(BadFile, match=r"2019-07-kent-stop-and-search.csv.*'Self-defined ethnicity'.*'Ethnicity \(self\)'"):
        normalise.from_csv(path, force="kent", month="2019-07")


def test_bad_boolean_is_an_error_naming_the_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(HEADER + "\nPerson search,2019-07-31T19:59:16+00:00,maybe,,,,,,,,,,,,\n")
    with pytest.raises(BadFile, match="operation"):
        normalise.from_csv(path, force="kent", month="2019-07")


def test_api_reply_that_is_not_a_list():
    with pytest.raises(BadResponse, match="not a list"):
        normalise.from_api_records({"error": "x"}, force="kent", month="2023-07")


def test_real_api_reply_keeps_every_record_and_no_location_ones(shared_dir):
    import json
    records = json.loads((shared_dir / "data/police_uk/api/stops-force_leicestershire_2023-07.json").read_text())
    frame = normalise.from_api_records(records, force="leicestershire", month="2023-07")
    assert len(frame) == 531
    assert frame["latitude"].isna().sum() == 53  # PROVENANCE/README: 53 with "location": null


def test_header_only_file_is_an_empty_month(tmp_path):
    for ending in ("", "\n", "\r\n"):
        path = tmp_path / "2019-07-kent-stop-and-search.csv"
        path.write_text(HEADER + ending)
        assert len(normalise.from_csv(path, force="kent", month="2019-07")) == 0
