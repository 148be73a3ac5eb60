"""A bundled synthetic demo dataset: every force, 2024-04..2025-03, in the canonical record shape.

Nothing here is real. Volumes and disparities are drawn to sit near the published national order
(../shared/DATA.md 3.2: per 1,000 residents, Black ~23.7, White ~5.8, Asian ~8.3, Mixed ~9.5, Other ~7.3,
about 20% of searches of persons with ethnicity not stated), with the quirks of the real files: the Met
leaves `outcome_linked_to_object` and `removal_of_more_than_outer_clothing` empty, a few forces write
date-only stamps, one force gives no coordinates, Merseyside 2025 leaves outcome, legislation and object
almost empty, and a few force-months are not published, failed or empty (see `demo_manifest`).

Records are generated cell by cell (force x month x group: Poisson counts), then every field is drawn
vectorised from conditional probability tables with one seeded `numpy.random.Generator`, so the same
seed always gives an identical frame.
"""
from __future__ import annotations

import hashlib
from functools import cache

import numpy as np
import pandas as pd

from data import reference_data, schema, vocab
from data.months import month_range

DEMO_LABEL = "Synthetic demo data"
DEMO_SOURCE = "synthetic demo"
DEMO_START, DEMO_END = "2024-04", "2025-03"
DEMO_MONTHS: tuple[str, ...] = tuple(month_range(DEMO_START, DEMO_END))
DEFAULT_SEED = 2021
_RETRIEVED_AT = "2025-05-01T00:00:00+00:00"

# National targets, searches of persons per 1,000 residents a year, excluding BTP (DATA.md 3.2, YE March 2023).
TARGET_RATE_PER_1000: dict[str, float] = {"Asian": 8.29, "Black": 23.71, "Mixed": 9.51, "Other": 7.33, "White": 5.81}
NOT_STATED_SHARE = 0.20          # of searches of persons, nationally (108,285 / 529,474 published)
BTP_SEARCHES_A_YEAR = 15_000
CITY_SEARCHES_A_YEAR = 1_500     # City of London: tiny resident base, large daytime population
VEHICLE_ONLY_SHARE = 0.025       # vehicle-only searches, on top of searches of persons

# Force-months that are not ok in the demo manifest (status, reason); their records are left out.
DEMO_GAPS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("gwent", "2024-06"): ("not_published", "not in the source's list of published months"),
    ("north-yorkshire", "2025-01"): ("not_published", "not in the source's list of published months"),
    ("cumbria", "2024-10"): ("failed", "HTTP 500 Internal Server Error after 6 attempts"),
    ("btp", "2024-12"): ("empty", None),
}
# Fields some forces do not record at all (the whole column is empty, as in the real files).
UNRECORDED_FIELDS: dict[str, tuple[str, ...]] = {
    "metropolitan": ("outcome_linked_to_object", "removal_of_more_than_outer_clothing"),
}
NO_COORDINATES = ("gwent",)
# Share of records stamped at exactly 00:00 (date only) in forces that write dates without times.
DATE_ONLY_SHARE: dict[str, float] = {"lancashire": 0.35, "west-yorkshire": 0.30, "essex": 0.25, "south-wales": 0.20}
# Merseyside 2025: outcome, legislation and object of search almost all empty (DATA.md 1.6).
SPARSE_MONTHS: dict[str, tuple[str, ...]] = {"merseyside": ("2025-01", "2025-02", "2025-03")}

# Relative search intensity per head (before national calibration); unlisted forces 1.0.
_FORCE_INTENSITY: dict[str, float] = {
    "metropolitan": 2.3, "merseyside": 2.0, "west-midlands": 1.3, "greater-manchester": 0.8,
    "south-yorkshire": 1.2, "essex": 1.2, "kent": 1.0, "cleveland": 1.3, "gwent": 1.1, "south-wales": 1.1,
    "dyfed-powys": 0.8, "north-yorkshire": 0.7, "wiltshire": 0.8, "surrey": 0.7, "thames-valley": 0.8,
}
# Within-broad-group relative intensity of the detailed groups. Roma 0: no Roma label is seen in
# published files yet (DATA.md 1.5), so Roma residents are never searched under that label here.
_DETAILED_INTENSITY: dict[str, float] = {
    "Bangladeshi": 1.1, "Chinese": 0.3, "Indian": 0.5, "Pakistani": 1.3, "Other Asian": 1.2,
    "African": 0.8, "Caribbean": 1.4, "Other Black": 1.3,
    "White and Asian": 0.6, "White and Black African": 0.9, "White and Black Caribbean": 1.6, "Other Mixed": 0.9,
    "White British": 1.0, "White Irish": 0.9, "Gypsy or Irish Traveller": 1.8, "Roma": 0.0, "Other White": 0.8,
    "Arab": 1.0, "Any other ethnic group": 1.0,
}
# Detailed group -> the published 2011-Census-style label (DATA.md 1.5).
SELF_DEFINED_LABEL: dict[str, str] = {
    "White British": "White - English/Welsh/Scottish/Northern Irish/British",
    "White Irish": "White - Irish",
    "Gypsy or Irish Traveller": "White - Gypsy or Irish Traveller",
    "Roma": "White - Any other White background",
    "Other White": "White - Any other White background",
    "African": "Black/African/Caribbean/Black British - African",
    "Caribbean": "Black/African/Caribbean/Black British - Caribbean",
    "Other Black": "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background",
    "Indian": "Asian/Asian British - Indian",
    "Pakistani": "Asian/Asian British - Pakistani",
    "Bangladeshi": "Asian/Asian British - Bangladeshi",
    "Chinese": "Asian/Asian British - Chinese",
    "Other Asian": "Asian/Asian British - Any other Asian background",
    "White and Black Caribbean": "Mixed/Multiple ethnic groups - White and Black Caribbean",
    "White and Black African": "Mixed/Multiple ethnic groups - White and Black African",
    "White and Asian": "Mixed/Multiple ethnic groups - White and Asian",
    "Other Mixed": "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background",
    "Arab": "Other ethnic group - Arab",
    "Any other ethnic group": "Other ethnic group - Any other ethnic group",
}
_NOT_STATED_LABEL = "Other ethnic group - Not stated"
_NOT_STATED_EMPTY_SHARE = 0.2    # of not-stated records, the label is empty rather than "Not stated"

# BTP (no resident population): broad mix of its searches of persons.
_BTP_MIX: dict[str, float] = {"White": 0.55, "Black": 0.22, "Asian": 0.12, "Mixed": 0.07, "Other": 0.04}

_BROAD = vocab.BROAD_GROUPS                      # Asian, Black, Mixed, White, Other
_ROWS = (*_BROAD, vocab.NOT_STATED)              # conditioning rows of the tables below

# Officer-defined label given the self-defined broad group; "" = empty.
_OFFICER = ("White", "Black", "Asian", "Other", "Mixed", "")
_OFFICER_P = {
    "Asian": (0.02, 0.01, 0.86, 0.04, 0.01, 0.06),
    "Black": (0.01, 0.90, 0.01, 0.01, 0.01, 0.06),
    "Mixed": (0.25, 0.45, 0.04, 0.05, 0.15, 0.06),
    "White": (0.92, 0.005, 0.01, 0.005, 0.0, 0.06),
    "Other": (0.15, 0.08, 0.35, 0.33, 0.03, 0.06),
    vocab.NOT_STATED: (0.52, 0.17, 0.10, 0.03, 0.02, 0.16),
}
_LEGISLATION = (
    "Misuse of Drugs Act 1971 (section 23)", "Police and Criminal Evidence Act 1984 (section 1)",
    "Criminal Justice and Public Order Act 1994 (section 60)", "Firearms Act 1968 (section 47)",
    "Criminal Justice Act 1988 (section 139B)", "Psychoactive Substances Act 2016 (s36(2))",
    "Customs and Excise Management Act 1979 (section 163)", "Poaching Prevention Act 1862 (section 2)", "",
)
_LEG_BASE = (0.600, 0.350, 0.020, 0.007, 0.004, 0.003, 0.0015, 0.0015, 0.0130)
_LEG_P = {
    "Asian": (0.630, 0.320, 0.025, 0.007, 0.004, 0.002, 0.0015, 0.0, 0.0100),
    "Black": (0.610, 0.300, 0.060, 0.012, 0.005, 0.002, 0.0010, 0.0, 0.0100),
    "Mixed": (0.610, 0.330, 0.035, 0.008, 0.004, 0.002, 0.0010, 0.0, 0.0100),
    "White": (0.595, 0.370, 0.010, 0.005, 0.004, 0.003, 0.0015, 0.002, 0.0095),
    "Other": (0.600, 0.350, 0.025, 0.007, 0.004, 0.003, 0.0010, 0.0, 0.0100),
    vocab.NOT_STATED: _LEG_BASE,
}
_OBJECTS = (
    "Controlled drugs", "Offensive weapons", "Stolen goods", "Article for use in theft",
    "Articles for use in criminal damage", "Evidence of offences under the Act", "Anything to threaten or harm anyone",
    "Firearms", "Fireworks", "Psychoactive substances", "Goods on which duty has not been paid etc.",
    "Game or poaching equipment", "",
)
_OBJECT_P = {  # object of search given the legislation (same order as _LEGISLATION)
    0: (0.99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.01),
    1: (0.02, 0.34, 0.30, 0.13, 0.06, 0.10, 0, 0.02, 0.02, 0, 0, 0, 0.01),
    2: (0, 0.55, 0, 0, 0, 0, 0.44, 0, 0, 0, 0, 0, 0.01),
    3: (0, 0, 0, 0, 0, 0, 0, 0.99, 0, 0, 0, 0, 0.01),
    4: (0, 0.99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.01),
    5: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0.99, 0, 0, 0.01),
    6: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.99, 0, 0.01),
    7: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.99, 0.01),
    8: (0.05, 0.03, 0.02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.90),
}
_OUTCOMES = (
    "A no further action disposal", "Arrest", "Community resolution", "Khat or Cannabis warning",
    "Penalty Notice for Disorder", "Summons / charged by post", "Caution (simple or conditional)", "",
)
_OUTCOME_DRUGS = (0.680, 0.100, 0.080, 0.090, 0.015, 0.020, 0.005, 0.010)
_OUTCOME_OTHER = (0.730, 0.170, 0.040, 0.010, 0.015, 0.020, 0.005, 0.010)
_NFA_SHIFT = {"Asian": 0.01, "Black": 0.04, "Mixed": 0.02, "White": 0.0, "Other": 0.01, vocab.NOT_STATED: -0.02}
_REMOVAL_TRUE = {"Asian": 0.035, "Black": 0.050, "Mixed": 0.035, "White": 0.026, "Other": 0.030,
                 vocab.NOT_STATED: 0.025}
_GENDER = ("Male", "Female", "Other", "")
_GENDER_P = (0.880, 0.105, 0.003, 0.012)
_AGE = ("under 10", "10-17", "18-24", "25-34", "over 34", "")
_AGE_P = (0.002, 0.120, 0.300, 0.270, 0.290, 0.018)
_HOUR_P = np.array([4, 3, 2, 1.5, 1, 1, 1.5, 2, 3, 3.5, 4, 4.5, 5, 5, 5.5, 6, 6.5, 7, 7, 7, 6.5, 6, 5.5, 5])
_MONTH_SEASON = np.array([1.00, 1.03, 1.02, 1.06, 1.04, 0.98, 1.01, 0.99, 0.94, 0.97, 0.96, 1.00])
_STREETS = (
    "On or near High Street", "On or near Station Road", "On or near Park/Open Space", "On or near Supermarket",
    "On or near Shopping Area", "On or near Petrol Station", "On or near Nightclub", "On or near Sports/Recreation Area",
    "On or near Parking Area", "On or near Church Road", "On or near Mill Lane", "On or near London Road",
    "On or near Victoria Road", "On or near Green Lane", "On or near Queen Street", "On or near King Street",
    "On or near Bus/Coach Station", "On or near Hospital", "On or near Further/Higher Educational Building",
    "On or near Conference/Exhibition Centre", "On or near Theatre/Concert Hall", "On or near Pedestrian Subway",
)
_ANCHORS_PER_FORCE = 250
_NO_LOCATION_SHARE = 0.09

# Approximate centre and spread (degrees: lat, lng, sd_lat, sd_lng) of each force area; good enough for a map.
FORCE_AREAS: dict[str, tuple[float, float, float, float]] = {
    "avon-and-somerset": (51.35, -2.75, 0.18, 0.35), "bedfordshire": (52.05, -0.45, 0.09, 0.14),
    "cambridgeshire": (52.40, 0.00, 0.18, 0.18), "cheshire": (53.20, -2.55, 0.11, 0.22),
    "city-of-london": (51.515, -0.092, 0.004, 0.008), "cleveland": (54.57, -1.20, 0.04, 0.11),
    "cumbria": (54.55, -3.00, 0.28, 0.22), "derbyshire": (53.05, -1.55, 0.18, 0.14),
    "devon-and-cornwall": (50.55, -4.10, 0.22, 0.55), "dorset": (50.75, -2.20, 0.08, 0.28),
    "durham": (54.70, -1.70, 0.11, 0.18), "dyfed-powys": (52.10, -3.90, 0.32, 0.38),
    "essex": (51.75, 0.50, 0.14, 0.28), "gloucestershire": (51.85, -2.20, 0.14, 0.18),
    "greater-manchester": (53.48, -2.24, 0.07, 0.14), "gwent": (51.70, -3.00, 0.09, 0.11),
    "hampshire": (50.95, -1.25, 0.18, 0.28), "hertfordshire": (51.80, -0.25, 0.09, 0.18),
    "humberside": (53.75, -0.40, 0.14, 0.28), "kent": (51.25, 0.75, 0.11, 0.33),
    "lancashire": (53.85, -2.60, 0.14, 0.18), "leicestershire": (52.65, -1.10, 0.11, 0.18),
    "lincolnshire": (53.10, -0.30, 0.28, 0.22), "merseyside": (53.42, -2.95, 0.05, 0.09),
    "metropolitan": (51.50, -0.12, 0.09, 0.17), "norfolk": (52.65, 1.00, 0.14, 0.33),
    "north-wales": (53.10, -3.60, 0.18, 0.38), "north-yorkshire": (54.10, -1.40, 0.23, 0.42),
    "northamptonshire": (52.30, -0.85, 0.11, 0.18), "northumbria": (55.00, -1.65, 0.14, 0.18),
    "nottinghamshire": (53.10, -1.10, 0.14, 0.14), "south-wales": (51.55, -3.40, 0.09, 0.33),
    "south-yorkshire": (53.45, -1.35, 0.07, 0.18), "staffordshire": (52.85, -2.05, 0.14, 0.14),
    "suffolk": (52.20, 1.05, 0.11, 0.28), "surrey": (51.25, -0.40, 0.07, 0.23),
    "sussex": (50.92, -0.30, 0.07, 0.42), "thames-valley": (51.65, -1.00, 0.18, 0.33),
    "warwickshire": (52.30, -1.55, 0.14, 0.11), "west-mercia": (52.40, -2.50, 0.28, 0.23),
    "west-midlands": (52.48, -1.90, 0.05, 0.14), "west-yorkshire": (53.78, -1.65, 0.07, 0.18),
    "wiltshire": (51.35, -1.95, 0.14, 0.18),
}
# BTP searches happen at stations: a few major ones (lat, lng).
BTP_STATIONS: tuple[tuple[float, float], ...] = (
    (51.5322, -0.1233), (51.5308, -0.1238), (51.5033, -0.1125), (51.5154, -0.1755), (51.5186, -0.0813),
    (51.5074, -0.1228), (51.4952, -0.1441), (52.4778, -1.8983), (53.4774, -2.2309), (53.7955, -1.5484),
    (53.4075, -2.9779), (51.4758, -3.1791), (51.4491, -2.5813), (52.9470, -1.1462), (54.9683, -1.6171),
    (53.3781, -1.4620), (52.6316, -1.1251), (50.8290, -0.1413), (52.1946, 0.1373), (51.7535, -1.2701),
)


def _draw(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per record from row `rows[i]` of a cumulative probability table."""
    u = rng.random(len(rows))
    table = cum[rows]
    return np.minimum((u[:, None] >= table).sum(axis=1), cum.shape[1] - 1)


def _cumulative(rows: list[tuple[float, ...]] | tuple[tuple[float, ...], ...]) -> np.ndarray:
    p = np.asarray(rows, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    return cum


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    """Codes into a categorical of `labels` (repeats allowed), where the label "" means missing."""
    cats = list(dict.fromkeys(x for x in labels if x))
    remap = np.array([cats.index(x) if x else -1 for x in labels], dtype=np.int16)
    return pd.Categorical.from_codes(remap[codes], categories=cats)


def _boolean(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(values.astype(bool), missing.astype(bool))


def _cell_means(rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """Expected searches a year per force x cell (19 detailed groups, 'stated not stated', empty label)."""
    forces = reference_data.resolve_forces("all")
    detailed = list(vocab.DETAILED_GROUPS)
    cells = [*detailed, "Not stated label", "Not stated empty"]
    pop = reference_data.population("detailed").pivot(index="force", columns="group", values="population")
    pop = pop.reindex(index=forces, columns=detailed).fillna(0.0).to_numpy(float)
    broad_of = np.array([_BROAD.index(vocab.DETAILED_GROUPS[d]) for d in detailed])
    resident = np.array([reference_data.has_residents(f) for f in forces])
    idx = {f: i for i, f in enumerate(forces)}
    city, btp = idx.get("city-of-london"), idx.get("btp")

    # per force intensity (fixed list x seeded noise) and per force x broad group disparity noise
    intensity = np.array([_FORCE_INTENSITY.get(f, 1.0) for f in forces]) * rng.lognormal(0.0, 0.15, len(forces))
    disparity = rng.lognormal(0.0, 0.25, (len(forces), len(_BROAD)))
    disparity[:, _BROAD.index("White")] = 1.0
    weight = np.array([_DETAILED_INTENSITY[d] for d in detailed])
    raw = pop * weight[None, :] * intensity[:, None] * disparity[:, broad_of]
    raw[~resident] = 0.0

    means = np.zeros((len(forces), len(detailed)))
    national_pop = pop.sum(axis=0)
    for b, name in enumerate(_BROAD):
        cols = broad_of == b
        target = TARGET_RATE_PER_1000[name] / 1000.0 * national_pop[cols].sum()
        if city is not None:  # City of London: a fixed daytime-driven volume, split like London's residents
            city_share = pop[city, cols] / max(pop[city].sum(), 1.0)
            means[city, cols] = CITY_SEARCHES_A_YEAR * city_share * (1 - NOT_STATED_SHARE)
            target -= means[city, cols].sum()
        others = raw[:, cols].copy()
        if city is not None:
            others[city] = 0.0
        means[:, cols] += others * target / others.sum()
    if btp is not None:
        within = pop.sum(axis=0) * weight
        for b, name in enumerate(_BROAD):
            cols = broad_of == b
            means[btp, cols] = BTP_SEARCHES_A_YEAR * (1 - NOT_STATED_SHARE) * _BTP_MIX[name] * (
                within[cols] / within[cols].sum())
    ns_share = np.clip(rng.normal(NOT_STATED_SHARE, 0.05, len(forces)), 0.08, 0.35)
    not_stated = means.sum(axis=1) * ns_share / (1 - ns_share)
    extra = np.stack([not_stated * (1 - _NOT_STATED_EMPTY_SHARE), not_stated * _NOT_STATED_EMPTY_SHARE], axis=1)
    return forces, cells, np.concatenate([means, extra], axis=1)


def _anchors(rng: np.random.Generator, forces: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street-level anchor points per force (points are anonymised to nearby streets in the real data)."""
    k = _ANCHORS_PER_FORCE
    lat = np.empty((len(forces), k))
    lng = np.empty((len(forces), k))
    for i, force in enumerate(forces):
        if force == "btp":
            station = rng.integers(0, len(BTP_STATIONS), k)
            centre = np.asarray(BTP_STATIONS)[station]
            lat[i] = centre[:, 0] + rng.normal(0, 0.002, k)
            lng[i] = centre[:, 1] + rng.normal(0, 0.003, k)
            continue
        c_lat, c_lng, s_lat, s_lng = FORCE_AREAS.get(force, (52.5, -1.5, 0.2, 0.2))
        lat[i] = c_lat + np.clip(rng.normal(0, s_lat, k), -2.5 * s_lat, 2.5 * s_lat)
        lng[i] = c_lng + np.clip(rng.normal(0, s_lng, k), -2.5 * s_lng, 2.5 * s_lng)
    street = rng.integers(0, len(_STREETS), (len(forces), k))
    return np.round(lat, 6), np.round(lng, 6), street


def _generate(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    forces, _cells, annual = _cell_means(rng)
    n_f, n_m = len(forces), len(DEMO_MONTHS)
    # monthly expected counts with seasonality and force-month noise, then Poisson cell counts
    monthly = annual[:, None, :] / 12.0 * _MONTH_SEASON[None, :, None] * rng.lognormal(0, 0.06, (n_f, n_m, 1))
    counts = rng.poisson(monthly)
    for (force, month), _ in DEMO_GAPS.items():
        if force in forces:
            counts[forces.index(force), DEMO_MONTHS.index(month), :] = 0
    vehicle = rng.poisson(counts.sum(axis=2) * VEHICLE_ONLY_SHARE)
    for (force, month), _ in DEMO_GAPS.items():
        if force in forces:
            vehicle[forces.index(force), DEMO_MONTHS.index(month)] = 0

    # one row per record: (force, month, cell); vehicle-only searches get cell -1
    f_idx, m_idx, c_idx = np.indices(counts.shape).reshape(3, -1)
    reps = counts.reshape(-1)
    force_code = np.repeat(f_idx, reps)
    month_code = np.repeat(m_idx, reps)
    cell = np.repeat(c_idx, reps)
    vf, vm = np.indices(vehicle.shape).reshape(2, -1)
    force_code = np.concatenate([force_code, np.repeat(vf, vehicle.reshape(-1))])
    month_code = np.concatenate([month_code, np.repeat(vm, vehicle.reshape(-1))])
    cell = np.concatenate([cell, np.full(int(vehicle.sum()), -1)])
    order = np.lexsort((cell, month_code, force_code))
    force_code, month_code, cell = force_code[order], month_code[order], cell[order]
    n = len(cell)
    person = cell >= 0

    # self-defined label; broad row (0..4 broad groups, 5 = not stated) for the conditional tables
    detailed = list(vocab.DETAILED_GROUPS)
    self_labels = (*[SELF_DEFINED_LABEL[d] for d in detailed], _NOT_STATED_LABEL, "")
    self_code = np.where(person, cell, len(self_labels) - 1)
    broad_of_cell = np.array([_BROAD.index(vocab.DETAILED_GROUPS[d]) for d in detailed] + [5, 5])
    row = np.where(person, broad_of_cell[np.maximum(cell, 0)], 5)

    officer = _draw(rng, _cumulative([_OFFICER_P[r] for r in _ROWS]), row)
    officer[~person] = len(_OFFICER) - 1
    leg = _draw(rng, _cumulative([_LEG_P[r] for r in _ROWS]), row)
    obj = _draw(rng, _cumulative([_OBJECT_P[i] for i in range(len(_LEGISLATION))]), leg)

    outcome_rows = []
    for drugs in (True, False):
        for r in _ROWS:
            p = np.array(_OUTCOME_DRUGS if drugs else _OUTCOME_OTHER)
            shift = _NFA_SHIFT[r]
            rest = p[1:-1]
            p[0] += shift
            p[1:-1] = rest * (1 - (p[0] + p[-1])) / rest.sum()
            outcome_rows.append(tuple(p))
    outcome = _draw(rng, _cumulative(outcome_rows), np.where(leg == 0, 0, len(_ROWS)) + row)

    # Merseyside 2025: outcome, legislation and object almost all empty
    for force, months in SPARSE_MONTHS.items():
        if force in forces:
            sparse = (force_code == forces.index(force)) & np.isin(month_code, [DEMO_MONTHS.index(m) for m in months])
            blank = sparse & (rng.random(n) < 0.95)
            leg[blank] = len(_LEGISLATION) - 1
            obj[blank] = len(_OBJECTS) - 1
            outcome[blank] = len(_OUTCOMES) - 1

    nfa = outcome == 0
    no_outcome = outcome == len(_OUTCOMES) - 1
    u = rng.random(n)
    linked_value = np.where(nfa, u < 0.01, u < 0.75)
    linked_missing = no_outcome | (rng.random(n) < 0.03)
    removal_p = np.array([_REMOVAL_TRUE[r] for r in _ROWS])[row]
    u = rng.random(n)
    removal_value = u < removal_p
    removal_missing = (u > 0.97) | ~person
    for force, fields in UNRECORDED_FIELDS.items():
        if force in forces:
            mask = force_code == forces.index(force)
            if "outcome_linked_to_object" in fields:
                linked_missing |= mask
            if "removal_of_more_than_outer_clothing" in fields:
                removal_missing |= mask

    gender = _draw(rng, _cumulative([_GENDER_P]), np.zeros(n, dtype=np.int64))
    gender[~person] = len(_GENDER) - 1
    age = _draw(rng, _cumulative([_AGE_P]), np.zeros(n, dtype=np.int64))
    age[~person] = len(_AGE) - 1

    # type: vehicle-only for vehicle rows, otherwise person (80%) or person and vehicle (20%)
    types = ("Person search", "Person and Vehicle search", "Vehicle search")
    type_code = np.where(person, (rng.random(n) < 0.20).astype(np.int64), 2)

    # datetime: a day in the month and a time of day; date-only forces stamp some records at 00:00
    starts = np.array([np.datetime64(f"{m}-01", "s") for m in DEMO_MONTHS])
    days = np.array([pd.Period(m, "M").days_in_month for m in DEMO_MONTHS])
    day = (rng.random(n) * days[month_code]).astype(np.int64)
    hour = _draw(rng, _cumulative([tuple(_HOUR_P)]), np.zeros(n, dtype=np.int64))
    minute = rng.integers(0, 60, n)
    minute = np.where((hour == 0) & (minute == 0), 1, minute)
    date_only_p = np.array([DATE_ONLY_SHARE.get(f, 0.0) for f in forces])[force_code]
    date_only = rng.random(n) < date_only_p
    seconds = np.where(date_only, 0, hour * 3600 + minute * 60)
    stamp = starts[month_code] + (day * 86400 + seconds).astype("timedelta64[s]")

    # location: a street anchor of the force (skewed to hotspots), none for ~9% and for forces without any
    a_lat, a_lng, a_street = _anchors(rng, forces)
    anchor = (_ANCHORS_PER_FORCE * rng.random(n) ** 2.2).astype(np.int64)
    no_location = rng.random(n) < _NO_LOCATION_SHARE
    no_location |= np.isin(force_code, [forces.index(f) for f in NO_COORDINATES if f in forces])
    latitude = np.where(no_location, np.nan, a_lat[force_code, anchor])
    longitude = np.where(no_location, np.nan, a_lng[force_code, anchor])
    street_code = np.where(no_location, -1, a_street[force_code, anchor])

    u = rng.random(n)
    operation_value = u < 0.02
    operation_missing = u > 0.90

    frame = pd.DataFrame({
        "force": pd.Categorical.from_codes(force_code, categories=forces),
        "month": pd.Categorical.from_codes(month_code, categories=list(DEMO_MONTHS)),
        "datetime": stamp.astype("datetime64[ns]"),
        "date_only": _boolean(date_only, np.zeros(n, bool)),
        "type": pd.Categorical.from_codes(type_code, categories=list(types)),
        "involved_person": _boolean(person, np.zeros(n, bool)),
        "gender": _labels(gender, _GENDER),
        "age_range": _labels(age, _AGE),
        "self_defined_ethnicity": _labels(self_code, self_labels),
        "officer_defined_ethnicity": _labels(officer, _OFFICER),
        "legislation": _labels(leg, _LEGISLATION),
        "object_of_search": _labels(obj, _OBJECTS),
        "outcome": _labels(outcome, _OUTCOMES),
        "outcome_linked_to_object": _boolean(linked_value, linked_missing),
        "removal_of_more_than_outer_clothing": _boolean(removal_value, removal_missing),
        "operation": _boolean(operation_value, operation_missing),
        "operation_name": pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype=object)),
        "latitude": latitude,
        "longitude": longitude,
        "street": pd.Categorical.from_codes(street_code, categories=list(_STREETS)),
    })
    return schema.add_derived_columns(schema.coerce_raw(frame))


@cache
def _cached_records(seed: int) -> pd.DataFrame:
    return _generate(seed)


def demo_records(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Synthetic canonical records (raw + derived), every force incl. BTP, 2024-04..2025-03.

    Generated once per seed (functools.cache); each call returns a copy, so callers may modify it.
    """
    return _cached_records(int(seed)).copy()


@cache
def _cached_manifest(seed: int) -> pd.DataFrame:
    records = _cached_records(seed)
    counts = records.groupby(["force", "month"], observed=False).size()
    rows = []
    for force in reference_data.resolve_forces("all"):
        for month in DEMO_MONTHS:
            status, reason = DEMO_GAPS.get((force, month), ("ok", None))
            n = int(counts.get((force, month), 0))
            if status == "ok" and n == 0:
                status = "empty"
            digest = hashlib.sha256(f"{DEMO_SOURCE}|{seed}|{force}|{month}|{n}".encode()).hexdigest()
            rows.append({"force": force, "month": month, "status": status, "records": n, "source": DEMO_SOURCE,
                         "retrieved_at": _RETRIEVED_AT,
                         "checksum": digest if status in ("ok", "empty") else None, "reason": reason})
    return pd.DataFrame(rows, columns=["force", "month", "status", "records", "source", "retrieved_at",
                                       "checksum", "reason"])


def demo_manifest(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The demo's manifest, like Store.manifest(): one row per force x month, mostly 'ok'.

    A few force-months are 'not_published', 'failed' or 'empty' (DEMO_GAPS); they hold no records.
    """
    return _cached_manifest(int(seed)).copy()
