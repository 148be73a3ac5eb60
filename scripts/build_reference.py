"""Build the project's reference tables from the force-area level files in ../shared/reference.

Run once when the sources change: `python scripts/build_reference.py [SHARED_REFERENCE_DIR]`.
Writes data/reference/forces.csv, data/reference/census2021_population.csv and
data/reference/census2011_population.csv (keyed by data.police.uk force id, long form). Method in data/reference/SOURCES.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parents[1]
OUT = HERE / "data" / "reference"


def main(source: Path) -> None:
    pfa = pd.read_csv(source / "pfa_reference.csv", keep_default_na=False, dtype=str)
    forces = pd.DataFrame({
        "force": pfa["police_uk_force_id"],
        "name": pfa["force_name"],
        "home_office_name": pfa["ho_open_data_name"],
        "ons_code": pfa["pfa_code"],
        "ons_name": pfa["pfa_name_ons"],
        "region": pfa["region"],
        "country": pfa["country"],
        "has_residents": pfa["has_resident_population"].str.lower().eq("true"),
    }).sort_values("force")
    # /api/forces lists Northern Ireland, which has no England and Wales force area (SOURCES.md)
    northern_ireland = pd.DataFrame([{"force": "northern-ireland", "name": "Police Service of Northern Ireland",
                                      "home_office_name": "", "ons_code": "", "ons_name": "",
                                      "region": "Northern Ireland", "country": "Northern Ireland",
                                      "has_residents": True}])
    forces = pd.concat([forces, northern_ireland], ignore_index=True)
    forces.to_csv(OUT / "forces.csv", index=False)

    code_to_force = dict(zip(pfa["pfa_code"], pfa["police_uk_force_id"], strict=True))
    for year in ("2021", "2011"):
        long = _census(source / f"census{year}_pfa_ethnicity.csv", code_to_force)
        long.to_csv(OUT / f"census{year}_population.csv", index=False)
        print(f"Census {year}: {len(forces)} forces, {len(long)} population rows")


def _census(path: Path, code_to_force: dict[str, str]) -> pd.DataFrame:
    """One census file (force area x ethnic group, long form) keyed by force id, sorted."""
    census = pd.read_csv(path, keep_default_na=False, dtype={"population": "int64"})
    census["force"] = census["pfa_code"].map(code_to_force)
    if census["force"].isna().any():
        raise SystemExit(f"{path.name}: force areas without a force id: "
                         f"{sorted(census.loc[census.force.isna(), 'pfa_code'].unique())}")
    long = census.rename(columns={"ethnic_group_level": "level", "ethnic_group": "group"})[
        ["force", "level", "group", "broad_group", "population"]]
    return long.sort_values(["force", "level", "group"]).reset_index(drop=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "shared" / "reference")
