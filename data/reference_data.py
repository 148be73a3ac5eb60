"""Forces (ids, names, codes) and Census 2011 and 2021 populations by force area and ethnic group."""
from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

import pandas as pd

from data.errors import UnknownForce

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
# Forces whose resident rates are not meaningful: a tiny resident base against a large daytime
# population (City of London, ~8.6k residents). A rule, not a name list, so any such area is caught.
MIN_MEANINGFUL_RESIDENTS = 50_000


@cache
def forces() -> pd.DataFrame:
    """force, name, home_office_name, ons_code, ons_name, region, country, has_residents."""
    table = pd.read_csv(REFERENCE_DIR / "forces.csv", keep_default_na=False, dtype=str)
    table["has_residents"] = table["has_residents"].str.lower().eq("true")
    return table


def force_ids() -> list[str]:
    return forces()["force"].tolist()


@cache
def _names() -> dict[str, str]:
    return dict(zip(forces()["force"], forces()["name"], strict=True))


def force_name(force: str) -> str:
    return _names().get(force, force)


def by_name_of(force: str) -> str:
    return force_name(force).lower()


def check_force(force: str) -> str:
    """Return the id if known; otherwise raise UnknownForce suggesting the closest ids."""
    force = force.strip().lower()
    known = force_ids()
    if force in known:
        return force
    by_name = {n.lower(): f for f, n in zip(forces()["force"], forces()["name"], strict=True)}
    prefixed = [f for f in known if f.startswith(force) or force in by_name_of(f)] if len(force) >= 3 else []
    close = difflib.get_close_matches(force, known + list(by_name), n=3, cutoff=0.5)
    suggestions = list(dict.fromkeys(prefixed + [by_name.get(c, c) for c in close]))[:3]
    did_you_mean = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    raise UnknownForce(f"Unknown force '{force}'.{did_you_mean}",
                       hint="Run `python -m data forces` for the list of ids.", force=force)


def resolve_forces(spec: str | list[str]) -> list[str]:
    """'all', 'a,b' or a list -> checked force ids ('all' = every England and Wales force and BTP)."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise UnknownForce("No force given.", hint="Give --forces all or ids such as metropolitan,kent.")
    if [i.lower() for i in items] == ["all"]:
        table = forces()
        return table.loc[table["country"].ne("Northern Ireland"), "force"].tolist()
    return list(dict.fromkeys(check_force(i) for i in items))


CENSUSES = ("2011", "2021")
CENSUS_CHOICES = ("auto", *CENSUSES)
# Home Office convention (March 2023 re-basing): Census 2011 residents for periods up to 2019/20, Census 2021
# from 2020/21 on, decided by the financial year (April to March) in which the period ends.
FIRST_FINANCIAL_YEAR_ON_2021 = 2020   # 2020/21


def financial_year_start(month: str) -> int:
    """The calendar year in which the financial year holding 'YYYY-MM' starts (2020-03 -> 2019)."""
    year, mon = int(month[:4]), int(month[5:7])
    return year if mon >= 4 else year - 1


def financial_year_label(month: str) -> str:
    """'2019-07' -> '2019/20'."""
    start = financial_year_start(month)
    return f"{start}/{(start + 1) % 100:02d}"


def census_for_period(end: str, choice: str = "auto") -> str:
    """'2011' or '2021': the census a period ending in month `end` divides by. `choice` 'auto' follows the
    Home Office (2011 up to 2019/20, 2021 from 2020/21); '2011' or '2021' forces one."""
    if choice not in CENSUS_CHOICES:
        raise ValueError(f"census must be one of {', '.join(CENSUS_CHOICES)}, not {choice!r}")
    if choice != "auto":
        return choice
    return "2021" if financial_year_start(end) >= FIRST_FINANCIAL_YEAR_ON_2021 else "2011"


@cache
def census_table(census: str = "2021") -> pd.DataFrame:
    """One census: force, level (total|broad|detailed), group, broad_group, population (int64)."""
    if census not in CENSUSES:
        raise ValueError(f"census must be one of {', '.join(CENSUSES)}, not {census!r}")
    return _census_file(census).copy()    # a copy: the file is read once, callers may change theirs


@cache
def _census_file(census: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / f"census{census}_population.csv", keep_default_na=False,
                       dtype={"population": "int64"})


@cache
def _totals(census: str) -> dict[str, int]:
    """force -> residents in all (the census's 'total' rows), looked up per call on hot paths."""
    table = _census_file(census)
    rows = table.loc[table["level"].eq("total")]
    return dict(zip(rows["force"], rows["population"].astype(int), strict=True))


def census2021() -> pd.DataFrame:
    """force, level (total|broad|detailed), group, broad_group, population (int64)."""
    return census_table("2021")


def population(level: str = "broad", census: str = "2021") -> pd.DataFrame:
    """Census residents by force and group at one level: columns force, group, population."""
    if level not in {"total", "broad", "detailed"}:
        raise ValueError(f"level must be total, broad or detailed, not {level!r}")
    table = census_table(census)
    return table.loc[table["level"].eq(level), ["force", "group", "population"]].reset_index(drop=True)


@cache
def census_groups(census: str, level: str = "detailed") -> frozenset[str]:
    """The groups a census counts at a level (Census 2011 has no 'Roma': Roma were in 'Other White')."""
    return frozenset(population(level, census)["group"])


@cache
def _with_residents(census: str) -> frozenset[str]:
    table = forces()
    flagged = set(table.loc[table["has_residents"], "force"])
    return frozenset(flagged & set(_census_file(census)["force"]))


def has_residents(force: str, census: str = "2021") -> bool:
    return force in _with_residents(census)


def residents_total(force: str, census: str = "2021") -> int:
    return _totals(census).get(force, 0)
