"""Old Excel workbooks (``.xls``), checked before python-calamine opens them.

Why: an ``.xls`` file is a small file system (Microsoft's Compound File
Binary format) holding a ``Workbook`` stream of BIFF records, and
python-calamine allocates what those records declare. A ``DIMENSIONS``
record may declare four billion rows (its row fields are 32 bits wide) and
a cell record any column up to 65,535 (Excel's own limit is 256): a 5 kB file
then makes calamine ask for terabytes and abort the process, and a cell at
the last row and column of a real XLS grid costs 1.7 GB and 7 s.

:func:`check_xls_workbook` reads the compound file's directory and the
``Workbook`` (or Excel 5 ``Book``) stream with its own bounded reads (every
sector chain checked against the file's size, loops refused), walks its
records, and refuses (:class:`~.sheet.CampaignReadError`) a declared
dimension or a cell beyond :class:`~.limits.ReadLimits` ``max_rows``,
``max_columns`` or ``max_cells``. A file this reader cannot follow is
refused as damaged: it is not handed to a reader that would trust it.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import NamedTuple

from .limits import ReadLimits
from .sheet import SAVE_AS, CampaignReadError

__all__ = ["check_xls_workbook"]

_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
_STREAM_NAMES = ("workbook", "book")

_DIMENSIONS = 0x0200
_MULRK, _MULBLANK = 0x00BD, 0x00BE
_SST, _CONTINUE, _LABELSST = 0x00FC, 0x003C, 0x00FD
_CELL_RECORDS = frozenset(
    {
        0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006,  # BIFF2 cells and FORMULA (BIFF5/8)
        0x00D6, 0x00FD,  # RSTRING, LABELSST
        0x0201, 0x0203, 0x0204, 0x0205, 0x0206, 0x027E,  # BLANK NUMBER LABEL BOOLERR FORMULA RK
        0x0406,  # FORMULA (BIFF4)
    }
)
"""Records that start with the cell's row and column (two 16-bit numbers each)."""


def _damaged(why: str) -> CampaignReadError:
    return CampaignReadError(f"The .xls file is damaged ({why}); {SAVE_AS}.")


class _Compound(NamedTuple):
    data: bytes
    sector: int
    mini_sector: int
    mini_cutoff: int
    fat: list[int]


def check_xls_workbook(data: bytes, limits: ReadLimits) -> None:
    """Refuse an ``.xls`` whose declared or real grid, or its cell text, is over ``limits``.

    The grid: every ``DIMENSIONS`` record and every cell record (see the
    module docstring). The text: a shared string (``SST``) is copied into
    every ``LABELSST`` cell that uses it, so their lengths times their uses
    must stay within ``max_text_chars``.
    """
    stream = _workbook_stream(data)
    reach = [0, 0]
    uses: Counter[int] = Counter()
    shared: list[bytes] = []
    position, end, previous = 0, len(stream), -1
    while position + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        position = body + length
        if kind == _SST or (kind == _CONTINUE and previous in (_SST, _CONTINUE) and shared):
            shared.append(stream[body + (8 if kind == _SST else 0) : position])
        if kind != _CONTINUE:
            previous = kind
        if kind == _LABELSST and length >= 10:
            uses[struct.unpack_from("<I", stream, body + 6)[0]] += 1
        _reach(kind, length, stream, body, reach, limits)
    sizes = _shared_string_lengths(shared)
    total = sum(sizes[index] * count for index, count in uses.items() if index < len(sizes))
    if total > limits.max_text_chars:
        raise CampaignReadError(
            f"The .xls file repeats its shared strings into about {total:,} characters of cell "
            f"text, more than {limits.max_text_chars:,} (ReadLimits.max_text_chars): the reader "
            "copies a shared text into every cell that uses it. Split the campaign into smaller "
            "files, or pass larger limits."
        )


def _reach(kind: int, length: int, stream: bytes, body: int, reach: list[int], limits: ReadLimits) -> None:
    """Widen ``reach`` (rows, columns) by one record; refuse it past the limits."""
    if kind in _CELL_RECORDS and length >= 4:
        row, column = struct.unpack_from("<HH", stream, body)
        last = column
    elif kind in (_MULRK, _MULBLANK) and length >= 6:
        row, column = struct.unpack_from("<HH", stream, body)
        (last,) = struct.unpack_from("<H", stream, body + length - 2)
    elif kind == _DIMENSIONS and length >= 10:
        # BIFF8: rows are 32 bits (first, last + 1), columns 16 bits; BIFF5: all 16 bits.
        layout = "<IIHH" if length >= 14 else "<HHHH"
        _first_row, row, _first_column, last = struct.unpack_from(layout, stream, body)
        row, last = max(row - 1, 0), max(last - 1, 0)
    else:
        return
    reach[0], reach[1] = max(reach[0], row + 1), max(reach[1], last + 1)
    rows, columns = reach
    if rows > limits.max_rows or columns > limits.max_columns or rows * columns > limits.max_cells:
        raise CampaignReadError(
            f"The .xls file declares or holds cells up to row {rows:,} and column "
            f"{columns:,}: a grid of {rows * columns:,} cells, more than the limits "
            f"({limits.max_rows:,} rows, {limits.max_columns:,} columns, "
            f"{limits.max_cells:,} cells: ReadLimits.max_rows, max_columns, max_cells); "
            f"{SAVE_AS}."
        )


def _shared_string_lengths(segments: list[bytes]) -> list[int]:
    """Each shared string's length in characters, walked through its ``CONTINUE`` records.

    A string's characters may go on in the next record, which then starts
    with a new flags byte (8-bit or 16-bit characters); formatting runs and
    phonetic data after the characters are skipped. A damaged table ends the
    walk: the reader refuses it in its turn.
    """
    lengths: list[int] = []
    segment, at = 0, 0
    while segment < len(segments):
        data = segments[segment]
        if at + 3 > len(data):
            segment, at = segment + 1, 0
            continue
        count, flags = struct.unpack_from("<HB", data, at)
        at += 3
        runs = struct.unpack_from("<H", data, at)[0] if flags & 0x8 and at + 2 <= len(data) else 0
        at += 2 if flags & 0x8 else 0
        extra = struct.unpack_from("<I", data, at)[0] if flags & 0x4 and at + 4 <= len(data) else 0
        at += 4 if flags & 0x4 else 0
        left, width = count, 2 if flags & 0x1 else 1
        while left:
            take = min(left, max(0, len(segments[segment]) - at) // width)
            left, at = left - take, at + take * width
            if left:
                segment, at = segment + 1, 1  # the next record starts with a flags byte
                if segment >= len(segments):
                    break
                width = 2 if segments[segment][0] & 0x1 else 1
        lengths.append(count)
        segment, at = _skip(segments, segment, at, 4 * runs + extra)
    return lengths


def _skip(segments: list[bytes], segment: int, at: int, size: int) -> tuple[int, int]:
    """Move ``size`` bytes on through the records (formatting runs and phonetic data)."""
    while size and segment < len(segments):
        step = min(size, len(segments[segment]) - at)
        size, at = size - step, at + step
        if size:
            segment, at = segment + 1, 0
    return segment, at


def _workbook_stream(data: bytes) -> bytes:
    """The ``Workbook`` stream's bytes, read through the compound file's tables."""
    if len(data) < 512 or not data.startswith(_SIGNATURE):
        raise _damaged("not a compound file")
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise _damaged("unknown sector size")
    fat_sectors, directory_start = struct.unpack_from("<II", data, 0x2C)
    (mini_cutoff,) = struct.unpack_from("<I", data, 0x38)
    mini_fat_start, _mini_fat_count, difat_start, difat_count = struct.unpack_from("<IIII", data, 0x3C)
    sector = 1 << sector_shift
    total = len(data) // sector
    if fat_sectors > total or difat_count > total:
        raise _damaged("its tables are larger than the file")
    compound = _Compound(data, sector, 1 << mini_shift, mini_cutoff, [])
    locations = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, seen = difat_start, 0
    while next_difat not in (_END_OF_CHAIN, _FREE) and seen < difat_count:
        block = _sector(compound, next_difat)
        values = struct.unpack(f"<{sector // 4}I", block)
        locations += values[:-1]
        next_difat, seen = values[-1], seen + 1
    for location in locations[:fat_sectors]:
        compound.fat.extend(struct.unpack(f"<{sector // 4}I", _sector(compound, location)))
    directory = _chain(compound, directory_start, None)
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        raise _damaged("no directory")
    root = entries[0]
    for entry in entries:
        if entry[66] == 2 and _entry_name(entry) in _STREAM_NAMES:
            start, size = struct.unpack_from("<II", entry, 0x74)
            if size > len(data):
                raise _damaged("a stream larger than the file")
            if size < compound.mini_cutoff:
                return _mini_stream_part(compound, root, mini_fat_start, start, size)
            return _chain(compound, start, size)
    names = {_entry_name(entry) for entry in entries}
    if "encryptedpackage" in names:  # an .xlsx saved with a password is a compound file
        raise CampaignReadError("The workbook is password-protected; save a copy without a password.")
    raise CampaignReadError(f"The file has no workbook in it; {SAVE_AS}.")


def _entry_name(entry: bytes) -> str:
    (length,) = struct.unpack_from("<H", entry, 64)
    return entry[: max(0, min(length, 64) - 2)].decode("utf-16-le", "replace").lower()


def _sector(compound: _Compound, number: int) -> bytes:
    offset = (number + 1) * compound.sector
    if number >= _FREE - 5 or offset + compound.sector > len(compound.data):
        raise _damaged("a sector outside the file")
    return compound.data[offset : offset + compound.sector]


def _chain(compound: _Compound, start: int, size: int | None) -> bytes:
    """A chain of sectors through the FAT; refused when it loops or leaves the file."""
    fat = compound.fat
    parts: list[bytes] = []
    number, steps = start, 0
    while number != _END_OF_CHAIN:
        if number >= len(fat) or steps > len(fat):
            raise _damaged("a broken sector chain")
        parts.append(_sector(compound, number))
        number, steps = fat[number], steps + 1
    data = b"".join(parts)
    return data if size is None else data[:size]


def _mini_stream_part(
    compound: _Compound, root: bytes, mini_fat_start: int, start: int, size: int
) -> bytes:
    """A small stream, kept in 64-byte sectors inside the root entry's mini stream."""
    (root_start,) = struct.unpack_from("<I", root, 0x74)
    mini_stream = _chain(compound, root_start, None)
    table = _chain(compound, mini_fat_start, None)
    mini_fat = list(struct.unpack(f"<{len(table) // 4}I", table))
    parts: list[bytes] = []
    number, steps = start, 0
    while number != _END_OF_CHAIN:
        offset = number * compound.mini_sector
        if number >= len(mini_fat) or steps > len(mini_fat) or offset >= len(mini_stream):
            raise _damaged("a broken sector chain")
        parts.append(mini_stream[offset : offset + compound.mini_sector])
        number, steps = mini_fat[number], steps + 1
    return b"".join(parts)[:size]
