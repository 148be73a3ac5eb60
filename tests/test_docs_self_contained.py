"""What a user reads (README, docs, the app's pages, error hints) never sends them to files outside the
project: the method and the sources are in the project's own docs."""
from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|DATA\.md|STYLE\.md")


def test_user_facing_text_names_no_file_outside_the_project() -> None:
    texts = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")), *sorted((PROJECT / "app").rglob("*.py")),
             PROJECT / "dashboard.py"]
    hints = [p for p in sorted((PROJECT / "data").rglob("*.py")) + sorted((PROJECT / "analysis").rglob("*.py"))]
    found = []
    for path in texts:
        found += [f"{path.relative_to(PROJECT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                  if OUTSIDE.search(line)]
    for path in hints:  # code comments may cite the data notes; messages and hints shown to users may not
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE.search(line) and ("hint=" in line or "raise " in line or "st." in line):
                found.append(f"{path.relative_to(PROJECT)}:{n}")
    assert not found, found
