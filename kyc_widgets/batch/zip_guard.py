"""Workbooks that are ZIP archives (XLSX, XLSM, ODS), checked before python-calamine opens them.

Why: python-calamine allocates what a file declares. One cell at
``XFD1048576`` in a 1.7 kB XLSX makes it ask for a 17-billion-cell grid and
abort the process (no exception: a notebook kernel just dies); a shared
strings table declaring two billion strings does the same; an ODS row
repeated a million times is unrolled into cells. So :func:`check_zip_workbook`
reads what the archive holds first, with its own bounded reads, and refuses
(:class:`~.sheet.CampaignReadError`) anything over the
:class:`~.limits.ReadLimits`:

1. the archive's directory: no more than ``max_zip_members`` parts (counted
   from the end record, before :mod:`zipfile` builds one object per part);
   declared sizes within ``max_uncompressed_bytes`` in all, and no part over
   1 MiB packed more than ``max_compression_ratio`` times; ``.xlsb`` refused;
2. every XML part, unpacked here chunk by chunk with :mod:`zlib` from the
   archive's own bytes: never more than it declared (a part that lies about
   its size is refused when it passes the declared size, so a zip bomb costs
   at most the limit); no DTD (``<!DOCTYPE``/``<!ENTITY``: no workbook needs
   one, and entity declarations expand a few bytes into gigabytes); a
   shared-strings count within ``max_cells``;
3. the sheet that will be read (XLSX) or every table (ODS): its declared
   ``<dimension>`` and the rows and columns its cells really reach (from their
   references; cells without one are counted as Excel places them), within
   ``max_rows``, ``max_columns`` and ``max_cells`` (a grid from A1 to the
   farthest cell is what the reader allocates).

The scan costs one decompression of the sheet (about 0.6 s for 100,000 rows
of 12 columns) and tells :mod:`.excel` whether the sheet has formulas at all.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, NamedTuple

from .limits import ReadLimits
from .sheet import SAVE_AS, XLSB_REFUSED, CampaignReadError

__all__ = ["SheetFacts", "check_zip_workbook", "column_number", "sheet_members"]

_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20
"""Parts smaller than this unpacked are not judged by their compression ratio."""
_XML_PARTS = (".xml", ".rels")
_DTD = (b"<!DOCTYPE", b"<!ENTITY")
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_DIMENSION = re.compile(rb"<" + _PREFIX + rb"dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_CELL_TAG = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_ROW_OF_REFERENCE = re.compile(rb' r="[A-Z]{1,3}([0-9]{1,7})"')
_COLUMN_OF_REFERENCE = re.compile(rb' r="([A-Z]{1,3})[0-9]{1,7}"')
_TAG = re.compile(rb"<" + _PREFIX + rb"(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_REF_ATTRIBUTE = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_REFERENCE = re.compile(r"([A-Za-z]{1,4})([0-9]{1,10})")
_SHARED_STRINGS = re.compile(rb"<" + _PREFIX + rb"sst\b([^>]*)>")
_STRING_ITEM = re.compile(rb"<" + _PREFIX + rb"si[\s/>]")
_SHARED_TYPE = re.compile(rb"\st\s*=\s*[\"']s[\"']")
_SHARED_INDEX = re.compile(
    rb"\st\s*=\s*[\"']s[\"'][^>]*>\s*<" + _PREFIX + rb"v>\s*([0-9]{1,10})\s*<"
)
_COUNTS = re.compile(rb"\b(?:count|uniqueCount)\s*=\s*[\"']\s*([0-9]+)")
_SMALL_PART = 16 << 20
"""The workbook's list of sheets and its relationships are parsed whole: at most this big."""
_ODS_TAG = re.compile(
    rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])"
    rb"((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>"
)
_ODS_REPEAT = re.compile(rb"number-(?:rows|columns)-repeated\s*=\s*[\"']\s*([0-9]+)")


class SheetFacts(NamedTuple):
    """What the checks learnt that the reader can use."""

    has_formulas: bool
    """The sheet read has ``<f>`` elements (XLSX): only then are formula cells looked up."""


class _Reach:
    """The farthest row and column some cells reach; refused as soon as it is over the limits."""

    def __init__(self, what: str, limits: ReadLimits) -> None:
        self.what, self.limits = what, limits
        self.rows = self.columns = 0

    def add(self, rows: int, columns: int) -> None:
        self.rows, self.columns = max(self.rows, rows), max(self.columns, columns)
        limits = self.limits
        if (
            self.rows > limits.max_rows
            or self.columns > limits.max_columns
            or self.rows * self.columns > limits.max_cells
        ):
            raise CampaignReadError(
                f"{self.what} reaches row {self.rows:,} and column {self.columns:,}: a grid of "
                f"{self.rows * self.columns:,} cells, more than the limits ({limits.max_rows:,} "
                f"rows, {limits.max_columns:,} columns, {limits.max_cells:,} cells: "
                "ReadLimits.max_rows, max_columns, max_cells). Delete the empty rows and columns "
                f"past the table, or {SAVE_AS}."
            )


def column_number(letters: str) -> int:
    """``"A"`` is 1, ``"XFD"`` is 16,384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_zip_workbook(
    source: str | os.PathLike[str] | io.BytesIO, sheet: str | None, limits: ReadLimits
) -> SheetFacts:
    """Refuse a ZIP workbook over ``limits`` before it is opened (see the module docstring)."""
    handle: IO[bytes] = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
    try:
        _check_member_count(handle, limits)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise CampaignReadError(f"The file is not a readable workbook ({exc}); {SAVE_AS}.") from None
        with archive:
            return _check_archive(archive, handle, sheet, limits)
    finally:
        if handle is not source:
            handle.close()
        else:
            handle.seek(0)


def _check_archive(
    archive: zipfile.ZipFile, handle: IO[bytes], sheet: str | None, limits: ReadLimits
) -> SheetFacts:
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "xl/workbook.bin" in names:
        raise CampaignReadError(f"The file is {XLSB_REFUSED}")
    _check_declared_sizes(infos, limits)
    parts = [info for info in infos if info.filename.lower().endswith(_XML_PARTS)]

    def read_part(info: zipfile.ZipInfo) -> Iterator[bytes]:
        return _checked_chunks(handle, info, limits)

    if "xl/workbook.xml" not in names:  # ODS, or not a workbook (the reader says so)
        for info in parts:  # every XML part: its true size, and no DTD
            if info.filename != "content.xml":
                _drain(info, read_part(info))
        if "content.xml" in names:
            _scan_ods(read_part(archive.getinfo("content.xml")), limits)
        return SheetFacts(has_formulas=False)
    members = sheet_members(archive, lambda info: b"".join(read_part(info)))
    targets = _targets(members, sheet, names)
    for info in parts:  # the parts not scanned below: their true size, and no DTD
        if info.filename not in (*targets, "xl/sharedStrings.xml"):
            _drain(info, read_part(info))
    sizes: list[int] = []
    if "xl/sharedStrings.xml" in names:
        sizes = _shared_string_sizes(read_part(archive.getinfo("xl/sharedStrings.xml")), limits)
    formulas = False
    for member in targets:
        chunks = partial(read_part, archive.getinfo(member))
        scan = _scan_sheet(chunks, member, limits)
        formulas |= scan.formulas
        _check_repeated_text(chunks, sizes, scan.cells, member, limits)
    return SheetFacts(has_formulas=formulas)


def _targets(members: list[tuple[str, str, bool]], sheet: str | None, names: set[str]) -> list[str]:
    """The sheet calamine will read; every worksheet when the workbook cannot say which."""
    if sheet is not None:
        found = [member for name, member, _ in members if name == sheet]
        return found if found or not members else []  # unknown name: refused by the reader
    worksheets = [member for _, member, is_worksheet in members if is_worksheet]
    if worksheets:
        return worksheets[:1]
    return sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))


# -- the archive's directory -------------------------------------------------------------------


def _check_member_count(handle: IO[bytes], limits: ReadLimits) -> None:
    """Count the parts from the end-of-directory record, before zipfile reads the directory."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - 65_557))
    tail = handle.read()
    handle.seek(0)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return  # zipfile refuses it as not a ZIP archive
    (count,) = struct.unpack_from("<H", tail, end + 10)
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", tail, locator + 8)
        handle.seek(offset)
        record = handle.read(56)
        handle.seek(0)
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            (count,) = struct.unpack_from("<Q", record, 32)
    if count > limits.max_zip_members:
        raise CampaignReadError(
            f"The workbook is an archive of {count:,} parts, more than "
            f"{limits.max_zip_members:,} (ReadLimits.max_zip_members); {SAVE_AS}."
        )


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise CampaignReadError(
            f"The workbook unpacks to {total:,} bytes, more than "
            f"{limits.max_uncompressed_bytes:,} (ReadLimits.max_uncompressed_bytes); split the "
            "campaign into smaller files, or pass larger limits."
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
            raise CampaignReadError(
                f"The workbook's part {info.filename!r} unpacks to {ratio:,.0f} times its packed "
                f"size, more than {limits.max_compression_ratio:,.0f} "
                "(ReadLimits.max_compression_ratio): a file built to exhaust memory, or a sheet "
                f"of empty cells stretched far past the table; {SAVE_AS}."
            )


def _checked_chunks(handle: IO[bytes], info: zipfile.ZipInfo, limits: ReadLimits) -> Iterator[bytes]:
    """A part's bytes, unpacked here, refused past its declared size or with a DTD."""
    declared = info.file_size
    seen, overlap = 0, b""
    for chunk in _inflate(handle, info):
        seen += len(chunk)
        if seen > declared:
            raise CampaignReadError(
                f"The workbook's part {info.filename!r} unpacks to more than the {declared:,} "
                f"bytes its archive declares: the file is damaged or built to exhaust memory; {SAVE_AS}."
            )
        window = overlap + chunk
        if any(marker in window for marker in _DTD):
            raise CampaignReadError(
                f"The workbook's part {info.filename!r} declares a DTD (<!DOCTYPE> or <!ENTITY>), "
                "which no workbook needs: entity declarations can expand a few bytes into "
                f"gigabytes, so the file was not read; {SAVE_AS}."
            )
        overlap = window[-16:]
        yield chunk


def _inflate(handle: IO[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's data from the archive's own bytes (stored or deflated), in bounded chunks."""
    if info.flag_bits & 0x1:
        raise CampaignReadError("The workbook is encrypted; save a copy without a password.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise CampaignReadError(
            f"The workbook's part {info.filename!r} is packed in a way workbooks are not "
            f"(method {info.compress_type}); {SAVE_AS}."
        )
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise CampaignReadError(f"The file is not a readable workbook (damaged archive); {SAVE_AS}.")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    left = info.compress_size
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    while left > 0:
        packed = handle.read(min(_CHUNK, left))
        if not packed:
            break
        left -= len(packed)
        if inflater is None:
            yield packed
            continue
        try:
            data = inflater.decompress(packed, _CHUNK)
            while data:
                yield data
                data = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        except zlib.error:
            raise CampaignReadError(
                f"The workbook's part {info.filename!r} is damaged; {SAVE_AS}."
            ) from None
        if inflater.eof:
            break


def _drain(info: zipfile.ZipInfo, chunks: Iterator[bytes]) -> None:
    for _chunk in chunks:
        pass


def _number(digits: bytes) -> int:
    """An attribute's number; a run of more than 15 digits counts as 10**15 (Python refuses to
    convert very long ones, and no limit comes near)."""
    return int(digits) if len(digits) <= 15 else 10**15


def _shared_string_sizes(chunks: Iterator[bytes], limits: ReadLimits) -> list[int]:
    """Each shared string's size in the XML (at least its length in characters), checking the
    declared and the real count against ``max_cells``."""
    starts: list[int] = []
    offset, tail, head_checked = 0, b"", False
    for chunk in chunks:
        data = tail + chunk
        cut = data.rfind(b">") + 1
        data, tail = data[:cut], data[cut:]
        if not head_checked and (found := _SHARED_STRINGS.search(data)):
            head_checked = True
            for count in _COUNTS.findall(found.group(1)):
                _check_string_count(_number(count), limits)
        starts += [offset + match.start() for match in _STRING_ITEM.finditer(data)]
        _check_string_count(len(starts), limits)
        offset += len(data)
    ends = [*starts[1:], offset + len(tail)]
    return [end - start for start, end in zip(starts, ends)]


def _check_string_count(count: int, limits: ReadLimits) -> None:
    if count > limits.max_cells:
        raise CampaignReadError(
            f"The workbook declares or holds {count:,} shared strings, more than "
            f"{limits.max_cells:,} cells (ReadLimits.max_cells); {SAVE_AS}."
        )


def _check_repeated_text(
    chunks: Callable[[], Iterator[bytes]], sizes: list[int], cells: int, member: str, limits: ReadLimits
) -> None:
    """Refuse a sheet whose cells repeat shared strings into more than ``max_text_chars``.

    The reader copies a shared string into every cell that uses it. Most
    sheets are cleared at once (cells times the longest shared string is
    within the limit); otherwise the sheet's shared-string cells are counted
    by index (in C) and the total is exact. A cell the count cannot read
    (a comment between the tags) makes the bound the pessimistic one.
    """
    longest = max(sizes, default=0)
    if cells * longest <= limits.max_text_chars:
        return
    counts: Counter[bytes] = Counter()
    typed = 0
    for chunk in _whole_tags(chunks()):
        counts.update(_SHARED_INDEX.findall(chunk))
        typed += len(_SHARED_TYPE.findall(chunk))
    total = sum(sizes[int(index)] * n for index, n in counts.items() if int(index) < len(sizes))
    if sum(counts.values()) < typed:
        total = max(total, typed * longest)
    if total > limits.max_text_chars:
        raise CampaignReadError(
            f"The sheet ({member}) repeats its shared strings into about {total:,} characters of "
            f"cell text, more than {limits.max_text_chars:,} (ReadLimits.max_text_chars): the "
            "reader copies a shared text into every cell that uses it. Split the campaign into "
            "smaller files, or pass larger limits."
        )


def _whole_tags(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks re-cut after their last ``>``, so that no tag is split between two."""
    tail = b""
    for chunk in chunks:
        data = tail + chunk
        cut = data.rfind(b">") + 1
        yield data[:cut]
        tail = data[cut:]
    if tail:
        yield tail


# -- which part holds which sheet --------------------------------------------------------------


def sheet_members(
    archive: zipfile.ZipFile, read: Callable[[zipfile.ZipInfo], bytes] | None = None
) -> list[tuple[str, str, bool]]:
    """``(sheet name, ZIP member, is a worksheet)`` for each sheet of an XLSX, in workbook order.

    Read through ``xl/workbook.xml`` and its relationships with :mod:`defusedxml`
    (no DTD, no entities); ``[]`` when the workbook does not say.
    """
    from defusedxml import ElementTree as SafeTree
    from defusedxml.common import DefusedXmlException

    names = set(archive.namelist())
    if not {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"} <= names:
        return []
    read = read or (lambda info: archive.read(info))
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if archive.getinfo(part).file_size > _SMALL_PART:
            raise CampaignReadError(
                f"The workbook's part {part!r} is over {_SMALL_PART >> 20} MiB: no list of "
                f"sheets is that long; {SAVE_AS}."
            )
    try:
        workbook = SafeTree.fromstring(read(archive.getinfo("xl/workbook.xml")))
        relations = SafeTree.fromstring(read(archive.getinfo("xl/_rels/workbook.xml.rels")))
    except (SafeTree.ParseError, DefusedXmlException) as exc:
        raise CampaignReadError(
            f"The workbook's list of sheets cannot be read ({type(exc).__name__}); {SAVE_AS}."
        ) from None
    targets = {
        element.get("Id"): (element.get("Target", ""), element.get("Type", ""))
        for element in relations.iter()
        if element.tag.endswith("}Relationship")
    }
    members = []
    for element in workbook.iter():
        if not element.tag.endswith("}sheet"):
            continue
        relation = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
        target, kind = targets.get(relation, ("", ""))
        if not target:
            continue
        member = posixpath.normpath(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
        if member in names:
            members.append((element.get("name", ""), member, kind.endswith("/worksheet")))
    return members


# -- how far a sheet's cells reach ---------------------------------------------------------------


class _SheetScan(NamedTuple):
    formulas: bool
    """An ``<f`` somewhere: the sheet may hold formulas."""
    cells: int
    """How many cell tags the sheet has."""


def _scan_sheet(chunks: Callable[[], Iterator[bytes]], member: str, limits: ReadLimits) -> _SheetScan:
    """Refuse a sheet whose declared or real extent is over the limits.

    The fast pass reads the cells' references (`` r="B7"``) with two regular
    expressions per chunk: their letters, and their row numbers. Every tag
    that starts with ``c`` must have given one (compared by counting, in C);
    otherwise (a cell without a reference, or one the expressions cannot
    read) the sheet goes to :func:`_scan_sheet_by_position`, which counts
    rows and cells as Excel places them.
    """
    reach = _Reach(f"The sheet ({member})", limits)
    formulas = in_data = False
    cells = 0
    for data in _whole_tags(chunks()):
        if not in_data:
            begins = data.find(b"sheetData")
            in_data = begins >= 0
            if found := _DIMENSION.search(data, 0, begins if in_data else len(data)):
                _check_dimension(found.group(1).decode("ascii", "replace"), member, limits)
        formulas = formulas or b"<f" in data or b":f" in data
        rows = _ROW_OF_REFERENCE.findall(data)
        if data.count(b"<c") + data.count(b":c") != len(rows) and len(_CELL_TAG.findall(data)) != len(
            rows
        ):
            # the careful pass does not look for formulas: let the reader look
            return _SheetScan(True, _scan_sheet_by_position(chunks(), reach))
        if rows:
            cells += len(rows)
            columns = max(map(_column_bytes, set(_COLUMN_OF_REFERENCE.findall(data))))
            reach.add(max(map(int, rows)), columns)
    return _SheetScan(formulas, cells)


def _column_bytes(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


def _check_dimension(text: str, member: str, limits: ReadLimits) -> None:
    """The sheet's declared ``<dimension ref="A1:XFD1048576">`` (its last cell)."""
    last = text.rpartition(":")[2]
    match = _REFERENCE.fullmatch(last.replace("$", ""))
    if match is None:
        return  # not a reference: the reader ignores it too
    reach = _Reach(f"The sheet ({member}) declares cells up to {last}: it", limits)
    reach.add(int(match.group(2)), column_number(match.group(1)))


def _scan_sheet_by_position(chunks: Iterator[bytes], reach: _Reach) -> int:
    """Rows and cells counted as Excel places them: a row or cell without ``r`` follows the last.
    Returns how many cells there are."""
    row = column = cells = 0
    for data in _whole_tags(chunks):
        for match in _TAG.finditer(data):
            name, attributes = match.groups()
            found = _REF_ATTRIBUTE.search(attributes)
            text = found.group(1).decode("ascii", "replace").strip() if found else ""
            if name == b"row":
                if text and not (text.isdigit() and len(text) <= 10):
                    raise _bad_reference("row number", text)
                row, column = (int(text) if text else row + 1), 0
                continue
            cells += 1
            if not text:
                reach.add(max(row, 1), column + 1)
                column += 1
                continue
            reference = _REFERENCE.fullmatch(text)
            if reference is None:
                raise _bad_reference("cell reference", text)
            column = column_number(reference.group(1))
            reach.add(int(reference.group(2)), column)
    return cells


def _bad_reference(what: str, text: str) -> CampaignReadError:
    shown = text if len(text) <= 20 else text[:20] + "..."
    return CampaignReadError(f"The sheet holds the {what} {shown!r}, which is not one; {SAVE_AS}.")


class _OdsRow:
    """The row being read: where its cells reach, and the text they hold (repeats included)."""

    def __init__(self, repeated: int) -> None:
        self.repeated, self.column, self.last, self.text = repeated, 0, 0, 0
        self.open_cell: tuple[int, int] | None = None  # (where its content starts, its repeats)


def _scan_ods(chunks: Iterator[bytes], limits: ReadLimits) -> None:
    """Every table of an ODS: repeated rows and cells unrolled as the reader would.

    Only cells that hold something count for the extent (repeats of empty
    cells are how ODS ends a table); their text counts once per repeat, as
    the reader copies it into every cell (``max_text_chars``).
    """
    reach = _Reach("A table of the workbook", limits)
    row, text, offset = 0, 0, 0
    current = _OdsRow(1)
    for data in _whole_tags(chunks):
        for match in _ODS_TAG.finditer(data):
            closing, name, attributes, empty = match.groups()
            if current.open_cell is not None:  # the tag after a cell's start ends its content
                begins, repeats = current.open_cell
                current.text += (offset + match.start() - begins) * repeats
                current.open_cell = None
            if name == b"table":
                row = 0
            elif name == b"table-row" and closing:
                if current.last:  # the row held something: every repeat of it does
                    reach.add(row + current.repeated, current.last)
                    text += current.text * current.repeated
                    _check_text(text, "A table of the workbook", limits)
                row += current.repeated
            elif name == b"table-row":
                current = _OdsRow(_repeat(attributes))
                if empty:  # <table:table-row/>: an empty row, repeated or not
                    row += current.repeated
            elif not closing:
                repeats = _repeat(attributes)
                current.column += repeats
                if not empty or b"value-type" in attributes:
                    current.last = current.column
                    reach.add(row + 1, current.column)
                    current.text += len(attributes) * repeats
                if not empty:
                    current.open_cell = (offset + match.end(), repeats)
        offset += len(data)


def _check_text(total: int, what: str, limits: ReadLimits) -> None:
    if total > limits.max_text_chars:
        raise CampaignReadError(
            f"{what} holds about {total:,} characters of cell text once its repeated cells are "
            f"unrolled, more than {limits.max_text_chars:,} (ReadLimits.max_text_chars). Split "
            "the campaign into smaller files, or pass larger limits."
        )


def _repeat(attributes: bytes) -> int:
    found = _ODS_REPEAT.search(attributes)
    return max(1, _number(found.group(1))) if found else 1
