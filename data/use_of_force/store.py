"""The use-of-force part of the local store: tidy Parquet per source and year, and its manifest."""
from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data.atomic import atomic_write_bytes, atomic_write_parquet, atomic_write_text
from data.errors import StoreError
from data.use_of_force.names import financial_year, year_slug

SUBDIR = "use_of_force"
DATASETS = ("home_office_tables", "home_office_open_data", "met")
STATUSES = ("ok", "empty", "not_published", "failed")
_LOCK = threading.Lock()


def store_root() -> Path:
    """The store folder: data.store.store_root() when that module exists, else $STOPSEARCH_DATA_DIR or ./store."""
    try:
        from data.store import store_root as shared_root  # another module; may not exist yet
    except ImportError:
        env = os.environ.get("STOPSEARCH_DATA_DIR")
        return Path(env) if env else Path(__file__).resolve().parents[2] / "store"
    return Path(shared_root())


@dataclass(frozen=True)
class ManifestEntry:
    dataset: str
    year: str
    status: str
    rows: int
    source: str
    retrieved_at: str
    checksum: str
    reason: str
    files: tuple[str, ...] = ()


class UseOfForceStore:
    """<root>/use_of_force/<dataset>/<YYYY-YY>.<part>.parquet, raw/<file>, manifest.json."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else store_root()
        self.folder = self.root / SUBDIR

    def writing(self, *, wait: float | None = None) -> contextlib.AbstractContextManager[None]:
        """Hold the store's writer lock (data.store_lock, shared with the stop-and-search store in the same root)
        for a whole import or fetch; every write below takes it too, and nested holders share it."""
        from data.store import Store

        return Store(self.root).writing(wait=wait)

    # -- manifest -------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def _load(self) -> dict[str, dict]:
        if not self.manifest_path.exists():
            return {}
        try:
            return json.loads(self.manifest_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"The use-of-force manifest {self.manifest_path} is unreadable: {exc}.",
                             hint="Move it aside and import or fetch again.", file=str(self.manifest_path)) from exc

    def _record(self, entry: ManifestEntry) -> ManifestEntry:
        with self.writing(), _LOCK:
            data = self._load()
            data[f"{entry.dataset}/{entry.year}"] = {**asdict(entry), "files": list(entry.files)}
            atomic_write_text(self.manifest_path, json.dumps(data, indent=1, sort_keys=True))
        return entry

    def entry(self, dataset: str, year: str) -> ManifestEntry | None:
        item = self._load().get(f"{dataset}/{financial_year(year)}")
        return ManifestEntry(**{**item, "files": tuple(item.get("files", ()))}) if item else None

    def manifest(self) -> pd.DataFrame:
        rows = list(self._load().values())
        columns = list(ManifestEntry.__dataclass_fields__)
        return pd.DataFrame(rows, columns=columns).sort_values(["dataset", "year"]).reset_index(drop=True)

    # -- data -----------------------------------------------------------------------------------
    def path(self, dataset: str, year: str, part: str) -> Path:
        return self.folder / dataset / f"{year_slug(year)}.{part}.parquet"

    def write(self, dataset: str, year: str, parts: dict[str, pd.DataFrame], *, source: str,
              rows: int | None = None) -> ManifestEntry:
        """Write every part of one dataset-year atomically, then record it 'ok' (or 'empty')."""
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
        year = financial_year(year)
        n = rows if rows is not None else max((len(f) for f in parts.values()), default=0)
        with self.writing():  # the parts and their manifest entry in one critical section
            checksums, files = [], []
            for part, frame in parts.items():
                target = self.path(dataset, year, part)
                table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
                checksums.append(atomic_write_parquet(target, table))
                files.append(str(target.relative_to(self.root)))
            return self._record(ManifestEntry(dataset=dataset, year=year, status="ok" if n else "empty",
                                              rows=int(n), source=source, retrieved_at=_now(),
                                              checksum=",".join(checksums), reason="", files=tuple(files)))

    def record_failure(self, dataset: str, year: str, *, source: str, reason: str) -> ManifestEntry:
        """Record a failed import or download; existing ok data stay in place and stay readable."""
        year = financial_year(year)
        with self.writing():
            return self._record_failure(dataset, year, source=source, reason=reason)

    def _record_failure(self, dataset: str, year: str, *, source: str, reason: str) -> ManifestEntry:
        previous = self.entry(dataset, year)
        if previous is not None and previous.status == "ok":
            # keep the good entry's files and rows, but say the latest attempt failed
            return self._record(ManifestEntry(dataset=dataset, year=year, status="failed", rows=previous.rows,
                                              source=source, retrieved_at=_now(), checksum=previous.checksum,
                                              reason=reason, files=previous.files))
        return self._record(ManifestEntry(dataset=dataset, year=year, status="failed", rows=0, source=source,
                                          retrieved_at=_now(), checksum="", reason=reason))

    def save_raw(self, name: str, payload: bytes) -> Path:
        target = self.folder / "raw" / Path(name).name
        with self.writing():
            atomic_write_bytes(target, payload)
        return target

    def years(self, dataset: str) -> list[str]:
        """Years with data on disk for a dataset (whatever the latest attempt's status)."""
        folder = self.folder / dataset
        if not folder.is_dir():
            return []
        stems = {p.name.split(".")[0] for p in folder.glob("*.parquet")}
        return sorted(financial_year(s) for s in stems)

    def read(self, dataset: str, year: str, part: str) -> pd.DataFrame:
        target = self.path(dataset, year, part)
        if not target.exists():
            raise StoreError(f"No {dataset} {part} for {financial_year(year)} in {self.folder}.",
                             hint="Run `python -m data import FILE` or `python -m data fetch-use-of-force`.",
                             dataset=dataset, year=year)
        return pq.read_table(target).to_pandas()

    def has(self, dataset: str, year: str, part: str) -> bool:
        return self.path(dataset, year, part).exists()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
