"""What a bulk import reports: each force-month stored, each file refused, and the summary lines."""
from __future__ import annotations

from dataclasses import dataclass, field

from data.errors import printable


@dataclass(frozen=True)
class MonthResult:
    """One force-month read from a file and stored."""

    force: str
    month: str
    status: str        # 'ok' or 'empty'
    records: int
    source: str        # file name, or 'archive.zip:member/path.csv'

    def __post_init__(self) -> None:  # names inside a zip are untrusted: no control character gets out
        object.__setattr__(self, "source", printable(self.source, limit=500))


@dataclass(frozen=True)
class Problem:
    """A file or member that was not imported; no stored record changed because of it (a file refused at the
    door is noted as a failure in its force-month's manifest entry)."""

    where: str
    message: str

    def __post_init__(self) -> None:  # messages quote file names and content: no control character gets out
        object.__setattr__(self, "where", printable(self.where, limit=500))
        object.__setattr__(self, "message", printable(self.message, limit=2000))


@dataclass
class ImportSummary:
    imported: list[MonthResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped_members: int = 0                               # street / outcomes / other members of zips
    other_lines: list[str] = field(default_factory=list)   # what the handler of other files reported
    unrecognised: list[str] = field(default_factory=list)  # files nobody recognised
    worker_cpu_seconds: float = 0.0  # CPU time of worker processes that normalised batches (data.import_pool)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def records(self) -> int:
        return sum(r.records for r in self.imported)

    def latest(self) -> list[MonthResult]:
        """One result per force-month (a month given twice: the last one counts), sorted."""
        last = {(r.force, r.month): r for r in self.imported}
        return [last[key] for key in sorted(last)]

    def closing_line(self, *, seconds: float | None = None) -> str:
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        return (f"{len(self.imported)} force-months imported ({self.records:,} records){took}; "
                f"{self.skipped_members} other zip members skipped; {len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}.")

    def lines(self, *, seconds: float | None = None) -> list[str]:
        """The summary as the command line and the app show it: per force-month, then totals and problems."""
        lines = [f"{r.force} {r.month}: {r.status}, {r.records:,} records ({r.source})" for r in self.latest()]
        lines += [*self.other_lines, *self.unrecognised, self.closing_line(seconds=seconds)]
        lines += [f"error: {p.message}" for p in self.problems]
        # file names and quoted file content are untrusted: no control character reaches a terminal
        return [printable(line, limit=2000) for line in lines]


