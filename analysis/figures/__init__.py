"""Pure figure builders: an analysis table (DataFrame) in, a plotly Figure out (no streamlit, no network).

Every builder takes the table first, everything else by keyword (`demo=True` adds the 'Synthetic demo
data' watermark annotation named 'demo-watermark'), sets a title and axis titles with units, hover text
with counts, population and intervals, colours from analysis.colours, and
`fig.layout.meta = {'kind': ..., 'demo': ..., ...}` so tests and exports can tell figures apart.
"""
from __future__ import annotations

from analysis.figures.base import DEMO_LABEL, RATE_UNIT, WATERMARK_NAME, has_watermark
from analysis.figures.data_charts import agreement_figure, coverage_figure, quality_figure
from analysis.figures.force_charts import compare_figure, funnel_figure, league_table
from analysis.figures.group_charts import disparity_figure, rates_figure, trend_figure
from analysis.figures.other_charts import OFFLINE_MAP_STYLE, map_figure, use_of_force_figure
from analysis.figures.share_charts import (
    arrest_figure,
    find_rate_figure,
    mix_figure,
    outcomes_figure,
    thorough_figure,
)

# kind (fig.layout.meta['kind']) -> builder
BUILDERS = {
    "rates": rates_figure, "disparity": disparity_figure, "trend": trend_figure, "compare": compare_figure,
    "funnel": funnel_figure, "outcomes": outcomes_figure, "arrest": arrest_figure, "find_rate": find_rate_figure,
    "thorough": thorough_figure, "mix": mix_figure, "coverage": coverage_figure, "quality": quality_figure,
    "agreement": agreement_figure, "map": map_figure, "use_of_force": use_of_force_figure,
}

__all__ = [
    "BUILDERS", "DEMO_LABEL", "OFFLINE_MAP_STYLE", "RATE_UNIT", "WATERMARK_NAME", "agreement_figure",
    "arrest_figure", "compare_figure", "coverage_figure", "disparity_figure", "find_rate_figure", "funnel_figure",
    "has_watermark", "league_table", "map_figure", "mix_figure", "outcomes_figure", "quality_figure",
    "rates_figure", "thorough_figure", "trend_figure", "use_of_force_figure",
]
