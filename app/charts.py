"""Each chart on the dashboard: an analysis table through its analysis.figures builder, then
`components.chart_with_downloads` (the chart, its table and its downloads, all labelled)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from analysis.figures import (
    agreement_figure,
    arrest_figure,
    compare_figure,
    coverage_figure,
    disparity_figure,
    find_rate_figure,
    funnel_figure,
    map_figure,
    mix_figure,
    outcomes_figure,
    quality_figure,
    rates_figure,
    thorough_figure,
    trend_figure,
    use_of_force_figure,
)
from analysis.figures.base import unit_rows
from analysis.figures.use_of_force_charts import use_of_force_forces_figure
from analysis.selection import Selection
from app import components
from app.dataset import Dataset

# Builders get demo=; the export decoration keeps one demo mark and adds the demo note to the footer, on
# screen and in every download.


def _show(fig, table: pd.DataFrame | None, *, dataset: Dataset, selection: Selection, key: str,  # noqa: ANN001
          caveats: Sequence[str] = (), on_select: Callable[[], None] | str = "ignore",
          use_of_force: bool = False, csv_table: pd.DataFrame | None = None) -> None:
    title = fig.layout.title.text or key
    components.chart_with_downloads(fig, table, key=key, dataset=dataset, selection=selection, title=title,
                                    caveats=caveats, on_select=on_select, use_of_force=use_of_force,
                                    csv_table=csv_table)


def rates(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _show(rates_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key)


def ratios(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _show(disparity_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key)


def trend(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str, measure: str = "rate") -> None:
    # on screen, the charted unit's rows; every force's in the CSV
    charted = unit_rows(table)
    _show(trend_figure(table, measure=measure, demo=dataset.demo), charted, dataset=dataset, selection=selection,
          key=key, csv_table=table if len(charted) < len(table) else None)


def mix(table: pd.DataFrame, dimension: str, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _show(mix_figure(table, dimensions=[dimension], demo=dataset.demo), table.loc[table["dimension"].astype(str) == dimension],
          dataset=dataset, selection=selection, key=key)


def outcomes(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
             caveats: Sequence[str] = ()) -> None:
    _show(outcomes_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key, caveats=caveats)


def arrest(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
           caveats: Sequence[str] = ()) -> None:
    _show(arrest_figure(table, demo=dataset.demo), table.loc[table["outcome"].astype(str) == "Arrest"], dataset=dataset,
          selection=selection, key=key, caveats=caveats)


def find_rate(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
              caveats: Sequence[str] = ()) -> None:
    _show(find_rate_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key, caveats=caveats)


def thorough(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str,
             caveats: Sequence[str] = ()) -> None:
    _show(thorough_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key, caveats=caveats)


def forest(table: pd.DataFrame, group: str, *, dataset: Dataset, selection: Selection, key: str,
           on_select: Callable[[], None] | None = None) -> None:
    _show(compare_figure(table, group=group, demo=dataset.demo), table.loc[table["group"].astype(str) == group], dataset=dataset,
          selection=selection, key=key, on_select=on_select or "ignore")


def funnel(table: pd.DataFrame, curve: pd.DataFrame, group: str, *, dataset: Dataset, selection: Selection,
           key: str, on_select: Callable[[], None] | None = None) -> None:
    _show(funnel_figure(table, curve, group=group, demo=dataset.demo), table.loc[table["group"].astype(str) == group],
          dataset=dataset, selection=selection, key=key, on_select=on_select or "ignore")


def use_of_force(table: pd.DataFrame, year: str, *, dataset: Dataset, selection: Selection, key: str,
                 caveats: Sequence[str] = (), measure: str = "share", tactics: Sequence[str] | None = None,
                 title: str | None = None, kind: str = "use_of_force") -> None:
    fig = use_of_force_figure(table, year=year, measure=measure, tactics=tactics, demo=dataset.demo, title=title,
                              kind=kind)
    shown = table if tactics is None else table.loc[table["tactic"].isin(list(tactics))]
    _show(fig, shown, dataset=dataset, selection=selection, key=key, caveats=caveats, use_of_force=True)


def use_of_force_forces(table: pd.DataFrame, per_force: pd.DataFrame, *, tactic: str, group: str, reference: str,
                        year: str, dataset: Dataset, selection: Selection, key: str, caveats: Sequence[str] = ()) -> None:
    """One tactic across forces: the forest of rate ratios, with the per-force table (sortable) and downloads."""
    fig = use_of_force_forces_figure(table, tactic=tactic, group=group, reference=reference, year=year,
                                     demo=dataset.demo)
    _show(fig, per_force, dataset=dataset, selection=selection, key=key, caveats=caveats, use_of_force=True)


def coverage(cells: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    fig = coverage_figure(cells, forces=list(selection.forces), months=list(selection.months), demo=dataset.demo)
    _show(fig, cells, dataset=dataset, selection=selection, key=key)


def quality(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _show(quality_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key)


def agreement(table: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:
    _show(agreement_figure(table, demo=dataset.demo), table, dataset=dataset, selection=selection, key=key)


def map(points: pd.DataFrame, *, dataset: Dataset, selection: Selection, key: str) -> None:  # noqa: A001
    _show(map_figure(points, group_column="group", demo=dataset.demo,
                     title="Where searches happened, by ethnic group"), points, dataset=dataset, selection=selection, key=key,
          caveats=("Points are anonymised by data.police.uk to a nearby street; searches with no location "
                   "are not shown.",))
