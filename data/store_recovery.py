"""Finish or undo the writes a killed writer left half done (run under the writer lock).

A stop-and-search write leaves, at worst, its hidden temporary `<force>/.<YYYY-MM>.parquet.<random>.tmp`:
- killed before its manifest entry was written: the temporary is stale and the old file and entry agree;
  it is deleted;
- killed after (the commit point) but before the rename: the entry already describes the temporary (same
  sha256), so the rename is finished.
A temporary of the manifest itself (`.manifest.json.<random>.tmp`, or of a new journal,
`.manifest.journal.<random>.tmp`) is always stale: the journal is renamed into place with its first line.
Until the next writer settles a committed temporary, readers (Store._committed_path) and verify take it
for its month's file.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from data import read_copy
from data.errors import StoreError

if TYPE_CHECKING:
    from data.store import Store

log = logging.getLogger(__name__)

TEMPORARY = re.compile(r"^\.(?P<target>.+)\.[^.]+\.tmp$")


def temporaries(store: Store) -> list[Path]:
    """Hidden temporaries of the stop-and-search part of the store (manifest, data files, read copy)."""
    found = [p for p in (store.root.glob(".*.tmp") if store.root.is_dir() else ()) if p.is_file()]
    for folder in (store.data_dir, store.cache_path.parent):
        if folder.is_dir():
            found += [p for p in folder.rglob(".*.tmp") if p.is_file()]
    return sorted(found)


def settle(store: Store, tmp: Path) -> str:
    """Finish (rename into place) or delete one temporary; return a line saying which."""
    match = TEMPORARY.match(tmp.name)
    target = tmp.with_name(match.group("target")) if match else None
    if target is not None and target.suffix == ".parquet" and tmp.parent.parent == store.data_dir:
        entry = store._manifest.get(tmp.parent.name, target.stem)  # noqa: SLF001 - the store's own recovery
        if entry is not None and entry.checksum and entry.status in ("ok", "empty"):
            try:
                read_copy.check_file(entry, target)
                current = True
            except StoreError:
                current = False
            if not current and read_copy.sha256_file(tmp) == entry.checksum:
                os.replace(tmp, target)
                read_copy.fsync_dir(target.parent)
                return f"{target}: finished a write interrupted after its manifest entry was written."
    tmp.unlink(missing_ok=True)
    return f"{tmp}: removed a stale temporary file left by an interrupted write."


def finish_interrupted_writes(store: Store) -> list[str]:
    """Settle every temporary of the store's data folder and manifest (the caller holds the writer lock)."""
    done = []
    for tmp in temporaries(store):
        if tmp.parent == store.cache_path.parent:
            continue  # the read copy is written by readers, who do not take the writer lock
        try:
            done.append(settle(store, tmp))
        except OSError as exc:
            log.warning("could not settle %s: %s", tmp, exc)
    for line in done:
        log.info("%s", line)
    return done
