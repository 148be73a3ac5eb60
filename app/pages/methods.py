"""Methods and sources: definitions, formulas, denominators, caveats, and the sources with their licences."""
from __future__ import annotations

import streamlit as st

from analysis.selection import Selection
from app.dataset import Dataset

DEFINITIONS = r"""
**Search of a person.** A stop-and-search record that is not a vehicle-only search. Vehicle-only searches
are left out of group rates, as in the Home Office's statistics.

**Rate per 1,000 residents.** Searches of persons whose *self-defined* ethnicity is in a group, divided by
the Census 2021 usual residents of that group in the force area, times 1,000, and scaled to a year
(times 12 / number of months) when the period is not twelve months.

$$\text{rate}_g = \frac{\text{searches}_g}{\text{residents}_g} \times 1000 \times \frac{12}{\text{months}}$$

**Disparity ratio.** A group's rate divided by the reference group's rate (White by default), computed
from unrounded rates:

$$\text{ratio}_g = \frac{\text{rate}_g}{\text{rate}_{\text{ref}}}$$

**Intervals.** Rates: exact Poisson (Garwood) 95% interval on the count. Ratios: the Katz log interval
(as `scipy.stats.contingency.relative_risk`), with an exact conditional interval in the tables. Shares
(arrest, find, more thorough search): Wilson 95% interval. Rolling trends use the 12 months ending at each
month, only where all 12 months have data.

**Not stated.** Searches where the person's ethnicity is not stated are counted in every total but
belong to no group and have no population. The headline ratio shows how far it could move if every
not-stated search belonged to the group, or to the reference group.

**Pooled figures.** Several forces are pooled by adding their searches and residents, never by averaging
rates. British Transport Police has no resident population: its searches join pooled numerators only
when you ask for it.

**Comparing forces.** Each force's ratio is set against the pooled ratio on a funnel plot with 95% and
99.8% limits (Spiegelhalter 2005, "Funnel plots for comparing institutional performance", Statistics in
Medicine 24:1185). On the log scale a force's distance from the pooled ratio, divided by its standard
error, is its z-score. Forces differ for real reasons as well as by chance, so the limits are widened by a
between-force variance (tau squared, an additive random-effects allowance) estimated **robustly**: the
z-scores are ranked, the 10% most extreme at each end (at least one force at each end) are pulled in to
the next value inward ("winsorised"), and the spread is estimated from these, so one extreme force cannot
widen every other force's limits on its own. **The flag has one rule:** a force is flagged when its ratio
lies outside the 99.8% limits (two-sided p < 0.002 after that allowance); the 95% limits are drawn for
context only. q-values (Benjamini-Hochberg false discovery rate across the forces compared) are shown
beside each force for reference and do not set the flag. A flag is a reason to look closer, not a
finding. Forces with fewer than 20 searches in a group are drawn hollow.
"""

CAVEATS = """
- **Residents are not the people available to be searched.** Census residents leave out visitors,
  commuters and people passing through; areas with large daytime populations (City of London, whose
  resident rates are not shown) and British Transport Police (no area at all) cannot be measured this way.
- **Officer-defined ethnicity** is the officer's visual judgement. Official rates never divide it by the
  Census (self-identified) population; the app offers it to compare, and says so beside every number.
- **Outcomes and find rates** compare the searches that happened, not the people who could have been
  searched: a lower find rate for a group is consistent with a lower threshold of suspicion, but does not
  prove it (the infra-marginality problem).
- **Missing is not zero.** A force-month not published, a failed download and a month with no searches
  are different facts (see Data quality). A field a force never records gives "not recorded", never 0%.
- **data.police.uk totals differ from Home Office totals**: different collections (Greater Manchester has
  published nothing to data.police.uk since 2019).
- **Use of force** counts officer reports on a person, not people or incidents; ethnicity is
  officer-perceived; recording improved year by year, so rises are partly better recording.
- **Small numbers**: a group with fewer than 20 searches is flagged and drawn hollow.
"""

SOURCES = """
| source | what | licence |
|---|---|---|
| [data.police.uk](https://data.police.uk/) (API and bulk downloads) | stop-and-search records by force and month | [Open Government Licence v3.0](https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/) |
| [ONS Census 2021, table TS021](https://www.ons.gov.uk/datasets/TS021/editions/2021/versions/3) (ethnic group), summed to police force areas with the ONS LAD to PFA lookup (December 2022) | residents by ethnic group (denominators) | Open Government Licence v3.0; source: Office for National Statistics |
| [Home Office, Police use of force statistics, England and Wales](https://www.gov.uk/government/collections/police-use-of-force-statistics) | use-of-force reports by tactic and perceived ethnicity | Open Government Licence v3.0 |

Contains public sector information licensed under the Open Government Licence v3.0.
"""


def render(dataset: Dataset, selection: Selection) -> None:
    st.title("Methods and sources")
    st.markdown("How every number on this dashboard is made, what it can and cannot show, and where the "
                "data come from.")
    st.header("Definitions and formulas")
    st.markdown(DEFINITIONS)
    st.header("Caveats")
    st.markdown(CAVEATS)
    st.header("Sources and licences")
    st.markdown(SOURCES)
    if dataset is not None and dataset.demo:
        st.markdown("**The data on screen now are synthetic**: generated to look like data.police.uk records, "
                    "with realistic gaps and quirks, for demonstration only. Fetch real data on *Get data*.")
