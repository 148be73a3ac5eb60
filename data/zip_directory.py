"""The zip format, read through a `read_at(start, end)` callable: over HTTP Range requests
(data.archive_remote) or from a local file, with the same checks either way.

The End of Central Directory (and the ZIP64 end record when its locator is there) is found in the tail,
then the central directory is parsed; a member is read from its local header and compressed bytes,
inflated, and its size and CRC-32 checked against the directory. Limits on size and compression ratio
are the bulk import's (data.archive)."""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from data.archive import _RATIO_FLOOR, MAX_COMPRESSION_RATIO, MAX_MEMBER_BYTES
from data.errors import BadFile

EOCD, EOCD64, LOCATOR64 = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"
CENTRAL, LOCAL = b"PK\x01\x02", b"PK\x03\x04"
TAIL_BYTES = 22 + 0xFFFF + 20 + 56  # EOCD with the longest comment, the ZIP64 locator and record
MAX_DIRECTORY_BYTES = 64 << 20       # a 36-month archive's directory is ~1 MB
LOCAL_SLACK = 256                    # local extra fields may be longer than the central ones


@dataclass(frozen=True)
class Member:
    """One entry of a zip's central directory (sizes and offset already resolved through ZIP64 extras)."""

    name: str
    method: int
    flags: int
    crc: int
    compress_size: int
    file_size: int
    header_offset: int
    extra_length: int


ReadAt = Callable[[int, int], bytes]  # (start, end inclusive) -> bytes


class ZipReader:
    """A zip read through `read_at(start, end)`: over HTTP Range requests, or a local file."""

    def __init__(self, name: str, read_at: ReadAt, size: int, tail: bytes | None = None, *,
                 close: Callable[[], None] | None = None) -> None:
        self.name, self.read_at, self.size = name, read_at, size
        self._tail = tail
        self._close = close
        try:
            self.members: list[Member] = self._directory()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def _directory(self) -> list[Member]:
        tail = self._tail if self._tail is not None else self.read_at(max(0, self.size - TAIL_BYTES), self.size - 1)
        base = self.size - len(tail)
        at = tail.rfind(EOCD)
        while at >= 0 and at + 22 + struct.unpack_from("<H", tail, at + 20)[0] > len(tail):
            at = tail.rfind(EOCD, 0, at)  # a signature inside the comment's bytes: look further back
        if at < 0:
            raise BadFile(f"{self.name}: no zip End of Central Directory in the last {len(tail):,} bytes; not a zip "
                          "archive (or a truncated one).", hint="Check the archive address and try again later.")
        _, _, _, count, cd_size, cd_offset, _ = struct.unpack_from("<HHHHIIH", tail, at + 4)
        if at >= 20 and tail[at - 20:at - 16] == LOCATOR64:  # ZIP64: its end record has the real figures
            (eocd64_at,) = struct.unpack_from("<Q", tail, at - 12)
            record = (tail[eocd64_at - base:eocd64_at - base + 56] if eocd64_at >= base
                      else self.read_at(eocd64_at, eocd64_at + 55))
            if record[:4] != EOCD64:
                raise BadFile(f"{self.name}: the ZIP64 end record is not where its locator says; damaged archive.")
            count, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
        if cd_size > MAX_DIRECTORY_BYTES or cd_offset + cd_size > self.size:
            raise BadFile(f"{self.name}: a central directory of {cd_size:,} bytes at {cd_offset:,} does not fit "
                          f"a {self.size:,}-byte archive; damaged or not a data.police.uk zip.")
        data = (tail[cd_offset - base:cd_offset - base + cd_size] if cd_offset >= base
                else self.read_at(cd_offset, cd_offset + cd_size - 1) if cd_size else b"")
        members, pos = [], 0
        while pos + 46 <= len(data) and data[pos:pos + 4] == CENTRAL:
            (_, _, _, flags, method, _, _, crc, csize, usize, n, m, k, _, _, _,
             offset) = struct.unpack_from("<IHHHHHHIIIHHHHHII", data, pos)
            name = data[pos + 46:pos + 46 + n].decode("utf-8" if flags & 0x800 else "cp437")
            extra = data[pos + 46 + n:pos + 46 + n + m]
            usize, csize, offset = _zip64(extra, usize, csize, offset)
            members.append(Member(name, method, flags, crc, csize, usize, offset, m))
            pos += 46 + n + m + k
        if len(members) != count and count != 0xFFFF:
            raise BadFile(f"{self.name}: the central directory lists {len(members)} entries, not {count}; "
                          "damaged archive.", hint="Try again later.")
        return members

    def read(self, member: Member, *, max_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_COMPRESSION_RATIO,
             ) -> bytes:
        """The member's uncompressed bytes; BadFile when they fail the CRC-32 or size check."""
        where = f"{self.name}:{member.name}"
        if member.flags & 0x1:
            raise BadFile(f"{where}: the member is encrypted; refused.")
        if member.file_size > max_bytes:
            raise BadFile(f"{where}: the member would unpack to {member.file_size:,} bytes, over the limit of "
                          f"{max_bytes:,}; refused.")
        if member.file_size > _RATIO_FLOOR and member.file_size / max(member.compress_size, 1) > max_ratio:
            raise BadFile(f"{where}: the member expands more than {max_ratio:g} times (a zip bomb?); refused.")
        guess = 30 + len(member.name.encode()) + member.extra_length + LOCAL_SLACK + member.compress_size
        head = self.read_at(member.header_offset, min(self.size, member.header_offset + guess) - 1)
        if head[:4] != LOCAL:
            raise BadFile(f"{where}: no local file header at offset {member.header_offset:,}; damaged archive.",
                          hint="Try again later; if it persists the archive itself is damaged.")
        n, m = struct.unpack_from("<HH", head, 26)
        start = 30 + n + m
        data = head[start:start + member.compress_size]
        if len(data) < member.compress_size:
            more = member.header_offset + start + len(data)
            data += self.read_at(more, member.header_offset + start + member.compress_size - 1)
        return inflate(data, member, where=where)


def inflate(data: bytes, member: Member, *, where: str) -> bytes:
    """Decompress (stored or deflate) and check the size and the CRC-32 the directory gives."""
    if member.method == 0:
        out = data
    elif member.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(data, member.file_size + 1)
        except zlib.error as exc:
            raise BadFile(f"{where}: the compressed bytes are damaged ({exc}); not stored.",
                          hint="Run the fetch again later; if it persists the archive itself is damaged.") from exc
    else:
        raise BadFile(f"{where}: compression method {member.method} is not supported (only stored and deflate).")
    if len(out) != member.file_size:
        raise BadFile(f"{where}: unpacks to {len(out):,} bytes, not the {member.file_size:,} the directory gives; "
                      "not stored.", hint="Run the fetch again later; the transfer or the archive is damaged.")
    crc = zlib.crc32(out)
    if crc != member.crc:
        raise BadFile(f"{where}: CRC-32 mismatch (the directory says {member.crc:08x}, the bytes give {crc:08x}); "
                      "not stored.", hint="Run the fetch again later; if it persists the archive itself is damaged.")
    return out


def _zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from a ZIP64 extended-information field (id 1) where the 32-bit ones are 0xFFFFFFFF."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if kind == 1:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + length
    return usize, csize, offset
