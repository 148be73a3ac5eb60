"""The pages, in menu order, and the choice of which one to show (menu, URL path or `?page=`)."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import streamlit as st

from analysis.coverage import Coverage
from analysis.selection import Selection
from app import components, state
from app.dataset import Dataset

# The browser tab's icon: an emoji, which the browser draws from an SVG written into the page. A Material
# icon name there makes the browser fetch the icon from fonts.gstatic.com on every page load, and an image
# file costs each run a PIL read.
APP_ICON = "\u2696\ufe0f"   # balance scale


@dataclass(frozen=True)
class PageSpec:
    slug: str
    title: str
    icon: str
    module: str                    # app.pages.<module>, imported when the page is first shown
    needs_records: bool = True     # False: the page has something to say when the selection has no data

    @property
    def render(self) -> Callable[[Dataset, Selection], None]:
        # imported on first use: the map's geometry libraries or Get data's HTTP client cost a first
        # Overview nothing
        return importlib.import_module(f"app.pages.{self.module}").render


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", ":material/dashboard:", "overview"),
    PageSpec("disparity", "Disparity", ":material/balance:", "disparity"),
    PageSpec("long-view", "Long view", ":material/timeline:", "long_view", needs_records=False),
    PageSpec("outcomes", "Outcomes", ":material/gavel:", "outcomes"),
    PageSpec("use-of-force", "Use of force", ":material/back_hand:", "use_of_force", needs_records=False),
    PageSpec("compare", "Compare forces", ":material/leaderboard:", "compare"),
    PageSpec("map", "Map", ":material/map:", "map"),
    PageSpec("quality", "Data quality", ":material/fact_check:", "quality", needs_records=False),
    PageSpec("methods", "Methods and sources", ":material/menu_book:", "methods", needs_records=False),
    PageSpec("get-data", "Get data", ":material/cloud_download:", "getdata", needs_records=False),
)
BY_SLUG = {spec.slug: spec for spec in PAGES}
BY_TITLE = {spec.title: spec for spec in PAGES}


def _run(spec: PageSpec, dataset: Dataset, selection: Selection, coverage: Coverage) -> None:
    components.page_setup(spec.title)
    components.source_banner(dataset)
    with components.guard(spec.title):
        if spec.needs_records and not selection.forces:
            # nothing published for this selection: say what to fetch, never draw zeros
            st.title(spec.title)
            components.no_published_data(coverage)
            return
        spec.render(dataset, selection)


def choose(dataset: Dataset, selection: Selection, coverage: Coverage) -> tuple[st.Page, PageSpec]:
    """Register the pages with st.navigation and return the one to run (following `?page=` once)."""
    pages = {spec.slug: st.Page(partial(_run, spec, dataset, selection, coverage), title=spec.title, icon=spec.icon,
                                url_path=spec.slug, default=(i == 0))
             for i, spec in enumerate(PAGES)}
    current = st.navigation(list(pages.values()))
    wanted = state.requested_page()
    spec = BY_TITLE[current.title]
    if wanted and wanted in pages and wanted != spec.slug:
        st.switch_page(pages[wanted])
    return current, spec


def choose_without_data() -> tuple[st.Page, PageSpec]:
    """Only the pages that work without readable data: Get data (to fetch or import again) and Methods."""
    specs = [BY_SLUG["get-data"], BY_SLUG["methods"]]
    pages = [st.Page(partial(_run_without_data, spec), title=spec.title, icon=spec.icon, url_path=spec.slug,
                     default=(i == 0)) for i, spec in enumerate(specs)]
    current = st.navigation(pages)
    return current, BY_TITLE[current.title]


def _run_without_data(spec: PageSpec) -> None:
    components.page_setup(spec.title)
    with components.guard(spec.title):
        spec.render(None, None)  # type: ignore[arg-type]
