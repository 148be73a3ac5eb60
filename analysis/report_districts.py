"""The report's "where inside the force" section: district rates, the district choropleth and the funnel.

Registered in analysis.report.SECTIONS as 'districts'. The table is analysis.districts.district_rates for the
report's selection (fixed columns first, as `python -m analysis table district-rates`); the figure puts the
district choropleth (analysis.figures.maps.district_map_figure) and the within-force funnel
(district_funnel_figure) side by side in one chart, so the section has one figure like every other.

A pooled report of several forces, a force without districts (BTP), a force too small for a rate per
resident (City of London, as analysis.rates) and a force whose searches in the period have no location get
no district section: the table function raises NoDistricts with the reason, and the report lists it under
"Not included" in one line.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis import views
from analysis.selection import Selection
from analysis.tables import with_fixed_columns
from data import reference_data
from data.errors import StopSearchDataError

if TYPE_CHECKING:  # shapely, pyproj (through analysis.districts) and plotly load when the section is built
    import plotly.graph_objects as go

TITLE = "Where inside the force: search rates by local authority district"
EXPLAINER = ("Searches of persons located in each local authority district of the force, per 1,000 residents "
             "of the group a year, with the exact 95% interval, the empirical-Bayes shrunk rate (small "
             "districts pulled towards the force's rate), the share of the force's searches with no location "
             "and flags. The map shows one group's rate; the funnel compares each district with the force's "
             "located rate (95% and 99.8% limits).")
CAVEATS = (
    "Residents are not the population at risk: city centres, transport hubs and night-time economies draw "
    "people who live elsewhere, so a district's rate per resident can be high without any disparity.",
    "Locations are anonymised snap points (the nearest of a set of public points), not where the search "
    "happened; a point near a border may fall in the neighbouring district.",
    "District boundaries are generalised (about 500 m); searches with no location are counted apart and "
    "are not in any district's rate.",
)
MAP_RIGHT, FUNNEL_LEFT = 0.5, 0.66   # paper x: the map, its colour bar, then the funnel
# analysis.report.SectionSpec(**SPEC) registers the section (targets resolved on use: nothing heavy at import)
SPEC: dict[str, object] = dict(key="districts", title=TITLE, explainer=EXPLAINER,
                               table="analysis.report_districts:districts_table",
                               figures=("analysis.report_districts:districts_figure",), caveats=CAVEATS)


class NoDistricts(StopSearchDataError):
    """The report's selection has no district view (several forces pooled, BTP, City of London's few
    residents, or no located searches)."""


def districts_table(records: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """district_rates for a single-force selection (records already selected); NoDistricts says why not."""
    from analysis import districts as ad

    if len(selection.forces) != 1:
        raise NoDistricts(f"drawn only in a single force's report; this report pools {len(selection.forces)} "
                          "forces (write one report per force with --each-force)")
    force = selection.forces[0]
    name = reference_data.force_name(force)
    if not reference_data.has_residents(force):
        raise NoDistricts(f"{name} has no local authority districts (no resident area)")
    residents = reference_data.residents_total(force)
    if residents < reference_data.MIN_MEANINGFUL_RESIDENTS:   # as analysis.rates: no rate per resident
        raise NoDistricts(f"{name} has only {residents:,} residents (under "
                          f"{reference_data.MIN_MEANINGFUL_RESIDENTS:,}): a rate per resident is not meaningful")
    counts = ad.district_counts(records, selection)
    if not counts.forces:
        raise NoDistricts(f"{name} has no local authority districts in the boundary files")
    summary = ad.location_summary(counts).iloc[0]
    if int(summary["in_districts"]) == 0:
        held = int(summary["searches_of_persons"])
        raise NoDistricts(f"none of {name}'s {held:,} searches of persons in {selection.start} to "
                          f"{selection.end} has a location in its districts ({int(summary['no_location']):,} "
                          "have no location at all)")
    return with_fixed_columns("district-rates", ad.rates_from_district_counts(counts))


def map_group(table: pd.DataFrame, reference: str) -> str | None:
    """The group the map shows: Black (or Caribbean, African) when present, else the first other group."""
    rated = table.loc[table["rate_per_1000"].notna() & table["group"].ne(reference), "group"].astype(str)
    return views.default_group(list(dict.fromkeys(rated))) or (reference if len(table) else None)


def districts_figure(table: pd.DataFrame, *, selection: Selection, demo: bool = False) -> go.Figure:
    """The district choropleth (left) and the within-force funnel (right) for the map group."""
    import plotly.graph_objects as go

    from analysis.figures.base import RATE_UNIT, finish
    from analysis.figures.maps import district_funnel_figure, district_map_figure

    force = str(table["force"].iloc[0])
    group = map_group(table, selection.reference)
    if group is None:
        raise ValueError("the district table is empty")
    left = district_map_figure(table, force=force, group=group, demo=False)
    right = district_funnel_figure(table, force=force, group=group, demo=False)
    # map on the left, funnel on the right: the geo subplot's and the axes' domains are set by hand
    fig = go.Figure()
    for trace in left.data:
        if isinstance(trace, go.Choropleth) and trace.showscale is not False:
            trace.colorbar.update(x=MAP_RIGHT, xanchor="left", len=0.7)
        fig.add_trace(trace)
    fig.update_layout(geo=left.layout.geo)
    fig.update_layout(geo_domain=dict(x=[0, MAP_RIGHT], y=[0, 1]))
    for trace in right.data:
        fig.add_trace(trace)
    fig.update_xaxes(domain=[FUNNEL_LEFT, 1], type="log", title_text=f"{group} residents (log scale)")
    fig.update_yaxes(title_text=f"{group}: {RATE_UNIT}", anchor="x")
    fig.update_layout(yaxis=dict(position=FUNNEL_LEFT))
    rated = table.loc[table["group"].eq(group) & table["rate_per_1000"].notna()]
    if len(rated):
        m = float(rated["force_rate_per_1000"].iloc[0])
        fig.add_hline(y=m, line=dict(color="#222", width=1.5), annotation_text=f"force (located) {m:.3g}",
                      annotation_position="top left")
    fig.update_layout(height=640, legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, xanchor="left"))
    name = reference_data.force_name(force)
    return finish(fig, kind="district_report", title=f"Searches of {group} people by district, {name}",
                  demo=demo, meta={"force": force, "group": group},
                  note="Located searches only; hollow funnel markers and small black dots: fewer than 20 searches.")

