"""Forces (ids, names, codes) and Census 2021 populations by force area and ethnic group."""
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


@cache
def census2021() -> pd.DataFrame:
    """force, level (total|broad|detailed), group, broad_group, population (int64)."""
    return pd.read_csv(REFERENCE_DIR / "census2021_population.csv", keep_default_na=False,
                       dtype={"population": "int64"})


def population(level: str = "broad") -> pd.DataFrame:
    """Census 2021 residents by force and group at one level: columns force, group, population."""
    if level not in {"total", "broad", "detailed"}:
        raise ValueError(f"level must be total, broad or detailed, not {level!r}")
    table = census2021()
    return table.loc[table["level"].eq(level), ["force", "group", "population"]].reset_index(drop=True)


def has_residents(force: str) -> bool:
    row = forces().loc[forces()["force"].eq(force)]
    return bool(len(row)) and bool(row["has_residents"].iloc[0]) and force in set(census2021()["force"])


def residents_total(force: str) -> int:
    table = population("total")
    match = table.loc[table["force"].eq(force), "population"]
    return int(match.iloc[0]) if len(match) else 0
