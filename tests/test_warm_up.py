"""app.warm_up's head start before the first page: after it, the first page's chart imports nothing more
from plotly (plotly imports each layout property's class the first time it is set: 0.13 s of the first
page's run at ten years, measured with pyinstrument in the server)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, logging, sys
warnings = []
logging.basicConfig(level=logging.WARNING)
logging.getLogger().addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: warnings.append(r.getMessage())})())
from app import warm_up
warm_up._import(warm_up.FIRST_PAGE)
if sys.argv[1] == "warm":
    warm_up._chart_once()
before = set(sys.modules)
from analysis import export
from analysis.figures.group_charts import rates_figure
from analysis.rates import rates
from analysis.selection import Selection, select
from data.demo import demo_records
records = demo_records()
selection = Selection.build(["kent", "essex"], "2024-04", "2024-09")
table = rates(select(records, selection), selection)
later = set(sys.modules)
export.screen(rates_figure(table))
print(json.dumps({"new": sorted(m for m in set(sys.modules) - later if m.startswith("plotly")),
                  "warnings": warnings}))
"""


def _plotly_imports_of_the_first_chart(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=PROJECT, capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_after_the_warm_up_the_first_pages_chart_imports_nothing_more_from_plotly() -> None:
    cold = _plotly_imports_of_the_first_chart("cold")
    assert cold["new"], "without the warm-up chart, the first chart imports plotly's layout classes"
    warm = _plotly_imports_of_the_first_chart("warm")
    assert warm == {"new": [], "warnings": []}


RACE = """
import time
from app import warm_up
real = warm_up._server_listening
def late(timeout=30.0):   # the thread asks for Streamlit's runtime a moment after it starts
    time.sleep(float(__import__("sys").argv[1]))
    return real(0.01)
warm_up._server_listening = late
warm_up._import = lambda names: None
warm_up.before_first_page()
from streamlit.web import cli   # as app.__main__ does next, on the main thread
print("started")
"""


def test_the_warm_up_thread_and_streamlits_command_line_never_import_streamlit_against_each_other() -> None:
    # before the fix, the command line's import failed with "cannot import name 'Runtime' from partially
    # initialized module 'streamlit.runtime'" whenever the thread began importing it first: no server
    for delay in ("0", "0.002", "0.01"):
        done = subprocess.run([sys.executable, "-c", RACE, delay], cwd=PROJECT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == "started", (delay, done.stderr[-800:])


FROZEN = """
import gc
from app import warm_up
warm_up._server_listening = lambda timeout=30.0: None   # no server in this test
before = gc.get_freeze_count()
warm_up._first_page()
print(before, gc.get_freeze_count())
"""


def test_the_warm_up_freezes_what_it_imported_out_of_full_garbage_collections() -> None:
    # unfrozen, a full collection walking ~150,000 import-time objects fell inside the first page's run and
    # held the interpreter ~0.15 s (py-spy --gil); frozen, Python's collector never walks them again
    done = subprocess.run([sys.executable, "-c", FROZEN], cwd=PROJECT, capture_output=True, text=True,
                          timeout=300, check=True)
    before, after = (int(n) for n in done.stdout.split()[-2:])
    assert before == 0 and after > 50_000
