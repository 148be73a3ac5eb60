"""Import the bulk files users download from data.police.uk: zip archives, loose CSVs, and folders of them."""
from __future__ import annotations

import functools
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from data import normalise  # noqa: F401 - callers reach it as archive.normalise
from data.errors import BadFile, StopSearchDataError, printable
from data.import_batch import _Batch, _File  # noqa: F401 - _Batch and _File are used by data.archive_fetch
from data.import_results import ImportSummary, MonthResult, Problem  # noqa: F401 - re-exported
from data.months import normalise_month
from data.reference_data import check_force
from data.store import Store

log = logging.getLogger(__name__)

# '2024-08-avon-and-somerset-stop-and-search.csv' (the folder part of a zip member does not matter)
STOP_SEARCH_NAME = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-stop-and-search\.csv$", re.IGNORECASE)
OTHER_POLICE_UK_NAME = re.compile(r"^\d{4}-\d{2}-.+-(street|outcomes)\.csv$", re.IGNORECASE)
MAX_MEMBER_BYTES = 2 * 1024**3     # no stop-and-search CSV comes near this (the Met's largest month is ~5 MB)
MAX_COMPRESSION_RATIO = 200        # CSV deflates ~5-15x; a far higher ratio is a zip bomb
_RATIO_FLOOR = 1 << 20             # tiny members can legitimately compress very well

OtherHandler = Callable[[Path], "list[str] | None"]


def parse_name(name: str) -> tuple[str, str] | None:
    """'.../2024-08-kent-stop-and-search.csv' -> ('kent', '2024-08'); None for any other file name.

    Raises UnknownForce (with suggestions) for a well-formed name whose force id is not known, and
    BadMonthRange for an impossible month."""
    match = STOP_SEARCH_NAME.match(PurePosixPath(name.replace("\\", "/")).name)
    if not match:
        return None
    return _known_force(match.group("force")), normalise_month(match.group("month"))


@functools.lru_cache(maxsize=1024)
def _known_force(force: str) -> str:
    """check_force once per id (it reads the reference table: ~0.5 ms, 3 s over a ten-year import's names)."""
    return check_force(force)


def _escapes(name: str) -> bool:
    """True for member names that would land outside a folder they were extracted into."""
    posix = name.replace("\\", "/")
    return (posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) is not None
            or any(part == ".." for part in posix.split("/")))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, where: str, max_bytes: int,
                 max_ratio: float) -> bytes:
    if info.file_size > max_bytes:
        raise BadFile(f"{where}: the member would unpack to {info.file_size:,} bytes, over the limit of "
                      f"{max_bytes:,}; refused.", hint="Check the file came from data.police.uk.", file=where)
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR and ratio > max_ratio:
        raise BadFile(f"{where}: the member expands {ratio:,.0f} times (a zip bomb?); refused.",
                      hint="Check the file came from data.police.uk.", file=where)
    chunks, total = [], 0
    try:
        with archive.open(info) as handle:  # zipfile stops at the declared size; read in bounded chunks anyway
            while chunk := handle.read(1 << 20):
                total += len(chunk)
                if total > max_bytes:
                    raise BadFile(f"{where}: the member unpacks to more than {max_bytes:,} bytes; refused.",
                                  hint="Check the file came from data.police.uk.", file=where)
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise BadFile(f"{where}: the member cannot be unpacked ({exc}).",
                      hint="The archive is damaged or truncated: download it again from data.police.uk.",
                      file=where) from exc
    return b"".join(chunks)


def import_zip(path: Path, *, batch: _Batch, max_member_bytes: int = MAX_MEMBER_BYTES,
               max_ratio: float = MAX_COMPRESSION_RATIO) -> None:
    """Every `*-stop-and-search.csv` member of a data.police.uk zip, read straight from the archive."""
    path, summary = Path(path), batch.summary
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        summary.problems.append(Problem(str(path), str(BadFile(
            f"{path}: not a readable zip archive ({exc}).",
            hint="Download it again from data.police.uk (a half-finished download is the usual cause)."))))
        return
    found = skipped = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            where = printable(f"{path.name}:{info.filename}", limit=500)  # member names are untrusted
            if _escapes(info.filename):
                summary.problems.append(Problem(where, f"{where}: the member's path leaves the archive "
                                                       "(absolute or '..'); refused."))
                continue
            try:
                key = parse_name(info.filename)
            except StopSearchDataError as exc:
                summary.problems.append(Problem(where, f"{where}: {exc}"))
                continue
            if key is None:
                skipped += 1
                continue
            found += 1
            force, month = key
            try:
                payload = _read_member(archive, info, where=where, max_bytes=max_member_bytes, max_ratio=max_ratio)
            except StopSearchDataError as exc:
                summary.problems.append(Problem(where, str(exc)))
                continue
            batch.add(_File(force=force, month=month, source=where, where=where, payload=payload))
    summary.skipped_members += skipped
    if not found and not any(p.where.startswith(printable(f"{path.name}:", limit=500)) for p in summary.problems):
        summary.problems.append(Problem(str(path), f"{path}: the archive holds no stop-and-search files "
                                        f"({skipped} other members skipped). When downloading "
                                        "from data.police.uk, tick 'Include stop and search data'."))


def import_csv(path: Path, *, batch: _Batch) -> None:
    """One loose `YYYY-MM-<force>-stop-and-search.csv`."""
    path = Path(path)
    try:
        try:
            key = parse_name(path.name)
        except StopSearchDataError as exc:  # a bad month or an unknown force in the name: say which file
            raise type(exc)(f"{path}: {exc.message}", hint=exc.hint, file=str(path)) from exc
        if key is None:
            raise BadFile(f"{path}: the name does not look like YYYY-MM-<force>-stop-and-search.csv.",
                          hint="Keep the names data.police.uk gives its files: force and month come from them.",
                          file=str(path))
        force, month = key
        batch.add(_File(force=force, month=month, source=printable(path.name, limit=500), where=printable(path, limit=500),
                        payload=path.read_bytes()))
    except StopSearchDataError as exc:
        batch.summary.problems.append(Problem(str(path), str(exc)))
    except OSError as exc:
        batch.summary.problems.append(Problem(str(path), f"{path}: cannot be read ({exc.strerror or exc})."))


def _files(path: Path) -> Iterator[tuple[Path, bool]]:
    """(file, given explicitly) for a path; folders are walked recursively in name order."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                yield child, False
    else:
        yield path, True


def is_stop_search_file(path: Path) -> bool:
    """A zip, or a CSV named like a data.police.uk stop-and-search file (force and month in the name)."""
    name = Path(path).name
    return name.lower().endswith(".zip") or STOP_SEARCH_NAME.match(name) is not None


def import_paths(store: Store, paths: Iterable[Path | str], *, other: OtherHandler | None = None,
                 max_member_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_COMPRESSION_RATIO,
                 allow_empty: bool = False, workers: int | None = None) -> ImportSummary:
    """Import zips, CSVs and folders (recursively) into the store.

    A broken file or member is reported in `summary.problems` and leaves its force-month untouched;
    the others are still imported. Files that are not stop-and-search files go to `other(path)`, which
    returns summary lines or None when it does not recognise them either (the CLI passes the
    use-of-force importer).

    Records are checked at the door (data.validate): a file holding anything data.police.uk does not publish
    is refused whole, recorded as failed in the manifest (stored data kept) and reported. A file with no
    records does not replace stored records unless `allow_empty`. `workers`: processes that normalise
    (data.import_batch._Batch; None = by the import's size)."""
    summary = ImportSummary()
    batch = _Batch(store, summary, allow_empty=allow_empty, background=True, workers=workers)
    with store.batch():
        try:
            for given in paths:
                given = Path(given)
                if not given.exists():
                    summary.problems.append(Problem(str(given), f"{given}: no such file or folder."))
                    continue
                for path, explicit in _files(given):
                    if path.name.lower().endswith(".zip"):
                        import_zip(path, batch=batch, max_member_bytes=max_member_bytes, max_ratio=max_ratio)
                    elif STOP_SEARCH_NAME.match(path.name):
                        import_csv(path, batch=batch)
                    else:
                        _other(path, explicit=explicit, other=other, summary=summary)
            batch.flush()
            batch.wait()
        finally:
            batch.shutdown()
    return summary


def _other(path: Path, *, explicit: bool, other: OtherHandler | None, summary: ImportSummary) -> None:
    if OTHER_POLICE_UK_NAME.match(path.name):  # street crime / outcomes files: not ours, nobody else's
        summary.unrecognised.append(printable(f"{path}: street-crime or outcomes file; skipped.", limit=2000))
        return
    lines = None
    if other is not None:
        try:
            lines = other(path)
        except StopSearchDataError as exc:
            summary.problems.append(Problem(str(path), str(exc)))
            return
    if lines is not None:
        summary.other_lines.extend(lines)
        return
    message = (f"{path}: neither a stop-and-search file (named YYYY-MM-<force>-stop-and-search.csv, or a "
               "data.police.uk zip) nor a use-of-force file.")
    if explicit and path.suffix.lower() == ".csv":
        summary.problems.append(Problem(str(path), message + " Keep the name data.police.uk gave it."))
    elif explicit:
        summary.problems.append(Problem(str(path), message))
    else:
        summary.unrecognised.append(printable(message + " Skipped.", limit=2000))
