"""Stop and search disproportionality dashboard (England and Wales): the screen, described page by page.

Run it with `bash dev.sh run`. The sidebar holds the selection; every page reads it; the whole view
lives in the URL (the page in the path, the selection in the query string), so a copied link reproduces it.
"""
from __future__ import annotations

import streamlit as st

from app import components, dataset, navigation, prefetch, sidebar, state, warm_up

st.set_page_config(page_title="Stop and search disproportionality", page_icon=navigation.APP_ICON,
                   layout="wide")
prefetch.run_started()  # the user's run has the interpreter: background table work waits
state.seed_from_url()
link_notes = st.container()

data = components.attempt(dataset.load, "loading the data")
if data is None:
    # The store could not be read: offer the pages that can repair it (Get data) or explain it (Methods).
    page, spec = navigation.choose_without_data()
    page.run()
else:
    with components.guard("dashboard"):
        selection, coverage = sidebar.controls(data)
        page, spec = navigation.choose(data, selection, coverage)
        page.run()
        state.publish(spec.slug)
        prefetch.after_run(data, selection, page=spec.slug)  # the other pages' tables, while the user reads
with link_notes:
    components.link_notes(state.link_notes())
warm_up.after_first_page()
