"""Store health on the Data quality page: the result of `python -m data verify`, shown as plain text."""
from __future__ import annotations

import streamlit as st

from app.dataset import Dataset
from data.store import Store, manifest_signature
from data.verify import VerifyReport, verify


@st.cache_data(show_spinner="Checking every stored file against the manifest...", ttl=300)
def report(root: str, signature: str, full: bool) -> VerifyReport:
    # signature (the manifest's stat) makes a new write re-run the check; ttl catches damage between writes
    return verify(Store(root), wait=0, quick=not full)


def render(dataset: Dataset) -> None:
    st.subheader("Store health")
    if dataset.demo:
        st.text("Synthetic demo data: there is no local store to check yet.")
        return
    full = st.toggle("Hash every file (as `python -m data verify`: seconds for ten national years)",
                     key="health_full", help="Off: every file's size and time are compared with the manifest, "
                     "as every read does, and a file that differs is hashed.")
    found = report(dataset.root, manifest_signature(dataset.root), full)  # manifest.json and its journal
    st.text(("Intact: " if found.ok else "Attention: ") + found.summary())  # text, never Markdown
    if found.problems:  # untrusted text (file names, labels): shown as text, never as Markdown
        st.code("\n".join(f.line() for f in found.problems), language=None)
        st.text("Run `python -m data verify --repair`: damaged months are marked failed, and the next fetch or "
                "import restores them.")
