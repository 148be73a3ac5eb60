"""Start the dashboard: `python -m app [streamlit options]` is `streamlit run dashboard.py [options]`, with the
first page's libraries imported while the server starts and the browser loads (app.warm_up), and plotly's
script loaded by the browser with the page rather than after the first chart arrives (app.page_head).

`bash dev.sh run` starts it this way. Measured with benchmarks/cold_start: see app/warm_up.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

from app import page_head, warm_up

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard.py"


def main(argv: list[str]) -> None:
    warm_up.before_first_page()
    page_head.serve_plotly_early()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(DASHBOARD), *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
