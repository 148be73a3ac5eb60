"""A synthetic use-of-force demo: officer reports on a person, every force with residents, 2024/25.

Nothing here is real. The frame has exactly the tidy report-level shape the real importers produce
(`data.use_of_force.reports.REPORT_COLUMNS` and dtypes, through `reports.finish`), with open-data-style
raw values (`white`, `18_34`, `male`). Volumes and proportions sit near the published national order
(../shared/DATA.md 2.1 and 2.2: about 750,000 reports a year; White ~69%, Black ~16% of reports;
compliant handcuffing in ~37% of reports on White and ~49% on Black subjects; Black subjects in ~21% of
Taser (CED) and ~26% of firearms reports); about 12% of reports record force used to effect a stop and
search. BTP (no residents) is left out. Tactical communication has no open data column, so it is <NA>.

Generated vectorised with one seeded `numpy.random.Generator`: the same seed gives an identical frame.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from data import reference_data
from data.demo import DEFAULT_SEED, DEMO_SOURCE
from data.use_of_force import vocab
from data.use_of_force.reports import finish

DEMO_YEAR = "2024/25"                 # April 2024 to March 2025, as the stop-and-search demo
NATIONAL_REPORTS = 750_000
CITY_REPORTS = 1_500                  # City of London: tiny resident base, large daytime population

# Perceived-ethnicity shares of all reports nationally (DATA.md 2.1, YE March 2020), the demo's targets.
TARGET_GROUP_SHARE: dict[str, float] = {"Asian": 0.071, "Black": 0.163, "Mixed": 0.022, "White": 0.693,
                                        "Other": 0.025, vocab.NOT_STATED: 0.026}
_GROUPS = vocab.GROUPS                # Asian, Black, Mixed, White, Other, Not stated
_RAW = {"Asian": "asian", "Black": "black", "Mixed": "mixed", "White": "white", "Other": "other",
        vocab.NOT_STATED: "not_stated"}

# Relative volume per head by force (before scaling to the national total); unlisted forces 1.0.
_FORCE_INTENSITY: dict[str, float] = {
    "metropolitan": 1.6, "merseyside": 1.4, "west-midlands": 1.2, "greater-manchester": 1.1,
    "south-yorkshire": 1.2, "cleveland": 1.3, "northumbria": 1.1, "surrey": 0.8, "thames-valley": 0.9,
    "north-yorkshire": 0.8, "dyfed-powys": 0.8, "wiltshire": 0.8,
}

# Probability a report involves each tactic, by group (Asian, Black, Mixed, White, Other, Not stated).
# Handcuffing and Taser are one category per report (compliant / non-compliant / not stated; Taser at its
# highest use); a used baton or spray was also drawn; a dog bite implies a dog deployed.
_P: dict[str, tuple[float, ...]] = {
    "compliant_handcuffing": (0.440, 0.500, 0.430, 0.369, 0.420, 0.330),
    "non_compliant_handcuffing": (0.160, 0.185, 0.180, 0.170, 0.160, 0.150),
    "handcuffing_not_stated": (0.008, 0.008, 0.008, 0.008, 0.008, 0.020),
    "limb_body_restraints": (0.150, 0.160, 0.170, 0.175, 0.150, 0.150),
    "ground_restraint": (0.170, 0.165, 0.185, 0.190, 0.160, 0.150),
    "unarmed_skills": (0.330, 0.330, 0.360, 0.380, 0.330, 0.320),
    "baton_drawn": (0.012, 0.014, 0.013, 0.012, 0.012, 0.010),   # drawn, not used
    "baton_used": (0.006, 0.007, 0.007, 0.006, 0.006, 0.005),
    "irritant_spray_drawn": (0.012, 0.013, 0.013, 0.012, 0.012, 0.010),
    "irritant_spray_used": (0.013, 0.015, 0.015, 0.014, 0.013, 0.012),
    "spit_guard": (0.018, 0.016, 0.024, 0.022, 0.018, 0.020),
    "shield": (0.008, 0.010, 0.009, 0.008, 0.008, 0.008),
    "taser_drawn": (0.052, 0.066, 0.056, 0.046, 0.052, 0.042),    # highest use drawn..arced
    "taser_discharged": (0.005, 0.006, 0.006, 0.005, 0.005, 0.004),
    "taser_not_stated": (0.001, 0.001, 0.001, 0.001, 0.001, 0.002),
    "aep_drawn": (0.001, 0.002, 0.001, 0.001, 0.001, 0.001),
    "aep_used": (0.0002, 0.0003, 0.0002, 0.0002, 0.0002, 0.0002),
    "firearms_aimed": (0.014, 0.022, 0.015, 0.012, 0.015, 0.010),
    "firearms_fired": (0.00005, 0.00008, 0.00005, 0.00005, 0.00005, 0.00005),
    "dog_deployed": (0.008, 0.008, 0.009, 0.010, 0.008, 0.008),   # deployed, no bite
    "dog_bite": (0.002, 0.002, 0.002, 0.002, 0.002, 0.002),
    "other_improvised": (0.020, 0.022, 0.021, 0.020, 0.020, 0.020),
    "effect_stop_search": (0.130, 0.170, 0.140, 0.110, 0.120, 0.100),
}
_AGES = ("under_11", "11_17", "18_34", "35_49", "50_64", "65_and_over", "not_stated")
_AGE_P = (0.005, 0.120, 0.480, 0.260, 0.090, 0.020, 0.025)
_GENDERS = ("male", "female", "other", "not_stated")
_GENDER_P = (0.780, 0.200, 0.003, 0.017)


def _forces() -> list[str]:
    return [f for f in reference_data.resolve_forces("all") if reference_data.has_residents(f)]


def _expected(forces: list[str]) -> np.ndarray:
    """Expected reports a year per force x group (groups in vocab.GROUPS order), national total as targeted."""
    broad = [g for g in _GROUPS if g != vocab.NOT_STATED]
    pop = (reference_data.population("broad").pivot(index="force", columns="group", values="population")
           .reindex(index=forces, columns=broad).fillna(0.0).to_numpy(float))
    volume = pop.sum(axis=1) * np.array([_FORCE_INTENSITY.get(f, 1.0) for f in forces])
    city = forces.index("city-of-london") if "city-of-london" in forces else None
    if city is not None:
        volume[city] = 0.0
    volume *= (NATIONAL_REPORTS - (CITY_REPORTS if city is not None else 0)) / volume.sum()
    if city is not None:
        volume[city] = CITY_REPORTS
    # per-group intensity per resident, calibrated (fixed point) so national shares hit the targets
    target = np.array([TARGET_GROUP_SHARE[g] for g in broad])
    target = target / target.sum()
    weight = np.ones(len(broad))
    for _ in range(50):
        mix = pop * weight
        mix = mix / mix.sum(axis=1, keepdims=True)
        national = (mix * volume[:, None]).sum(axis=0) / volume.sum()
        weight *= target / national
    stated = 1.0 - TARGET_GROUP_SHARE[vocab.NOT_STATED]
    out = np.zeros((len(forces), len(_GROUPS)))
    out[:, [_GROUPS.index(g) for g in broad]] = mix * volume[:, None] * stated
    out[:, _GROUPS.index(vocab.NOT_STATED)] = volume * (1.0 - stated)
    return out


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Per row, 0 with probability 1 - sum(probs[i]) else j + 1 with probability probs[i, j]."""
    u = rng.random(len(probs))
    cum = np.cumsum(probs, axis=1)
    hit = (u[:, None] < cum)
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)


def _constant_pick(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> np.ndarray:
    """n draws of category j with probability probs[j]."""
    cum = np.cumsum(probs) / np.sum(probs)
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(probs) - 1)


def _strings(codes: np.ndarray, labels: list[str]) -> pd.api.extensions.ExtensionArray:
    """labels[codes] as the 'string' dtype, taken in one vectorised step (not value by value)."""
    return pd.array(labels, dtype="string").take(codes)


def _generate(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    forces = _forces()
    counts = rng.poisson(_expected(forces)).ravel()                    # force-major, group-minor cells
    cell = np.repeat(np.arange(counts.size), counts)
    force_code, group_code = np.divmod(cell, len(_GROUPS))
    n = cell.size
    # a little force-to-force variation in tactic use (same factor for every group of a force)
    force_factor = rng.lognormal(0.0, 0.12, (len(forces), len(_P)))
    keys = list(_P)

    def p(name: str) -> np.ndarray:
        return np.array(_P[name])[group_code] * force_factor[force_code, keys.index(name)]

    out: dict[str, np.ndarray] = {}
    cuffs = _pick(rng, np.column_stack([p("compliant_handcuffing"), p("non_compliant_handcuffing"),
                                        p("handcuffing_not_stated")]))
    for k, name in enumerate(("compliant_handcuffing", "non_compliant_handcuffing", "handcuffing_not_stated"), 1):
        out[name] = cuffs == k
    for name in ("limb_body_restraints", "ground_restraint", "unarmed_skills", "spit_guard", "shield",
                 "other_improvised"):
        out[name] = rng.random(n) < p(name)
    for grouping, drawn, used in (("baton", "baton_drawn", "baton_used"),
                                  ("irritant_spray", "irritant_spray_drawn", "irritant_spray_used"),
                                  ("aep", "aep_drawn", "aep_used"),
                                  ("firearms", "firearms_aimed", "firearms_fired"),
                                  ("dog", "dog_deployed", "dog_bite")):
        level = _pick(rng, np.column_stack([p(drawn), p(used)]))      # 1 drawn only, 2 used (and drawn)
        out[drawn] = level >= 1
        out[used] = level == 2
        out[f"{grouping}_not_stated"] = np.zeros(n, dtype=bool)
    taser = _pick(rng, np.column_stack([p("taser_drawn"), p("taser_discharged"), p("taser_not_stated")]))
    for k, name in enumerate(("taser_drawn", "taser_discharged", "taser_not_stated"), 1):
        out[name] = taser == k

    zeros = np.zeros(n, dtype=np.intp)
    frame = pd.DataFrame({
        "source": _strings(zeros, [DEMO_SOURCE]),
        "year": _strings(zeros, [DEMO_YEAR]),
        "force": _strings(force_code, forces),
        "group": _strings(group_code, list(_GROUPS)),
        "raw_ethnicity": _strings(group_code, [_RAW[g] for g in _GROUPS]),
        "age": _strings(_constant_pick(rng, _AGE_P, n), list(_AGES)),
        "gender": _strings(_constant_pick(rng, _GENDER_P, n), list(_GENDERS)),
        "effect_stop_search": rng.random(n) < p("effect_stop_search"),
    })
    for name in vocab.TACTICS:
        if name != "tactical_communication":
            frame[name] = out[name]
    return finish(frame)  # REPORT_COLUMNS and dtypes exactly as the importers; tactical_communication <NA>


@cache
def _cached(seed: int) -> pd.DataFrame:
    return _generate(seed)


def demo_use_of_force_reports(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Synthetic tidy use-of-force reports (data.use_of_force.reports shape), every force with residents,
    financial year 2024/25. Generated once per seed (functools.cache); each call returns a copy."""
    return _cached(int(seed)).copy()
