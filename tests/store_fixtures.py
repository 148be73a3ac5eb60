"""Stores built the way users build them: CSV files in data.police.uk's layout, imported by `python -m data
import` in a subprocess (the real path, not a shortcut into the store)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
HEADER = ["Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude", "Gender",
          "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation", "Object of search",
          "Outcome", "Outcome linked to object of search", "Removal of more than just outer clothing"]
# (self-defined label, officer-defined label, weight)
ETHNICITIES = [
    ("White - English/Welsh/Scottish/Northern Irish/British", "White", 60),
    ("White - Any other White background", "White", 8),
    ("Black/African/Caribbean/Black British - Caribbean", "Black", 6),
    ("Black/African/Caribbean/Black British - African", "Black", 5),
    ("Asian/Asian British - Pakistani", "Asian", 5),
    ("Asian/Asian British - Indian", "Asian", 3),
    ("Mixed/Multiple ethnic groups - White and Black Caribbean", "Black", 3),
    ("Other ethnic group - Any other ethnic group", "Other", 2),
    ("Other ethnic group - Not stated", "White", 8),
]
CENTRES = {"durham": (54.77, -1.57), "gloucestershire": (51.86, -2.24), "kent": (51.27, 0.52)}


def write_month(folder: Path, force: str, month: str, n: int, *, seed: int) -> Path:
    """One force-month CSV of n searches with a fixed mix of ethnicities, outcomes and places."""
    rng = np.random.default_rng(seed)
    weights = np.array([w for *_, w in ETHNICITIES], float)
    picks = rng.choice(len(ETHNICITIES), size=n, p=weights / weights.sum())
    lat0, lon0 = CENTRES.get(force, (52.5, -1.5))
    path = folder / month / f"{month}-{force}-stop-and-search.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, pick in enumerate(picks):
            self_label, officer_label, _ = ETHNICITIES[pick]
            day = 1 + i % 28
            located = i % 5 != 0
            writer.writerow([
                "Person search" if i % 10 else "Person and Vehicle search",
                f"{month}-{day:02d}T{10 + i % 12:02d}:00:00+00:00", "False", "",
                f"{lat0 + rng.normal(0, 0.05):.6f}" if located else "",
                f"{lon0 + rng.normal(0, 0.05):.6f}" if located else "",
                "Male" if i % 7 else "Female", ["18-24", "25-34", "over 34", "10-17"][i % 4], self_label,
                officer_label, "Misuse of Drugs Act 1971 (section 23)", "Controlled drugs",
                "Arrest" if i % 6 == 0 else "A no further action disposal", "", "False"])
    return path


def import_folder(store: Path, folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "STOPSEARCH_DATA_DIR": str(store)}
    return subprocess.run([sys.executable, "-m", "data", "import", str(folder)], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=600)


def months(start: str, count: int) -> list[str]:
    year, month = int(start[:4]), int(start[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def build_fixture_store(store: Path, csv_folder: Path) -> Path:
    """Gloucestershire 2019-01..2020-02 (14 months, ~300 a month, with one 9-record month in 2019-09);
    Durham 2019-01..2019-06 only (so a later period has no Durham month at all)."""
    for i, month in enumerate(months("2019-01", 14)):
        write_month(csv_folder, "gloucestershire", month, 9 if month == "2019-09" else 280 + 7 * (i % 5), seed=i)
    for i, month in enumerate(months("2019-01", 6)):
        write_month(csv_folder, "durham", month, 150 + 5 * i, seed=100 + i)
    done = import_folder(store, csv_folder)
    assert done.returncode == 0, done.stderr
    return store


def build_real_store(store: Path, shared: Path) -> Path:
    """Every archive CSV and Home Office use-of-force table in ../shared imported as a user would."""
    done = import_folder(store, shared / "data" / "police_uk" / "archive")
    assert done.returncode == 0, done.stderr
    for table in sorted((shared / "data" / "use_of_force" / "home_office_tables").glob("*.ods")):
        done = import_folder(store, table)
        assert done.returncode == 0, done.stderr
    return store
