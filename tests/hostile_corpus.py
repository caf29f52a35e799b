"""The hostile-file corpus: broken and hostile sheets and mapping files, and how each is read.

Why: every file the toolkit reads comes from outside. Each file here is a
way a real file goes wrong (a row in another separator, a quote never
closed, a Windows-1252 export with smart quotes) or a way a small file asks
for unbounded time or memory (a cell at ``XFD1048576``, a zip bomb, a DTD, a
YAML alias bomb). Its expected outcome, exact cells or the refusal's words,
is in ``tests/data/hostile/expected.json``.

* Small files are committed in ``tests/data/hostile/`` and written by
  :data:`SMALL` (``python tests/hostile_corpus.py write tests/data/hostile``
  writes them again, byte for byte).
* Big ones (a 10^6-column CSV, a 600 MB sheet packed into 600 kB...) are
  never committed: :data:`GENERATED` builds them into a temporary folder.
* ``python tests/hostile_corpus.py read FILE...`` reads each file the way a
  user's file is read (:func:`~kyc_widgets.batch.read_campaign`, or
  :meth:`~kyc_widgets.batch.CampaignMapping.load` for mapping files) and
  prints one JSON line per file: what was read, or the refusal. The tests
  and ``benchmarks/bench_hostile.py`` run it in a subprocess with an
  address-space limit, so a reader that asks for too much memory fails
  there, not in the test process.
"""

from __future__ import annotations

import io
import json
import math
import resource
import struct
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CORPUS = HERE / "data" / "hostile"
EXPECTED = CORPUS / "expected.json"


# --------------------------------------------------------------------------- XLSX parts

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}<workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>{more}</Relationships>'
)
_SHARED_STRINGS_RELATION = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main">{dimension}<sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
_BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


def inline(reference: str, text: str) -> str:
    """An inline-string cell."""
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER_ROW = '<row r="1">' + inline("A1", "user_internal_id") + inline("B1", "legal_last_name") + "</row>"
DATA_ROW = '<row r="2">' + inline("A2", "00123") + inline("B2", "Müller") + "</row>"


def xlsx(
    rows: str,
    *,
    dimension: str = "",
    doctype: str = "",
    shared_strings: str | None = None,
    sheet_name: str = "Cases",
) -> bytes:
    """A minimal XLSX whose one sheet's ``<sheetData>`` is ``rows`` (raw XML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _xlsx_parts(rows, dimension, doctype, shared_strings, sheet_name):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def _xlsx_parts(
    rows: str, dimension: str, doctype: str, shared_strings: str | None, sheet_name: str
) -> list[tuple[str, str]]:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _RELS),
        ("xl/workbook.xml", _WORKBOOK.format(doctype=doctype, name=sheet_name)),
        ("xl/_rels/workbook.xml.rels",
         _WORKBOOK_RELS.format(more=_SHARED_STRINGS_RELATION if shared_strings else "")),
        ("xl/worksheets/sheet1.xml", _SHEET_START.format(dimension=declared) + rows + _SHEET_END),
    ]
    if shared_strings is not None:
        parts.append(("xl/sharedStrings.xml", shared_strings))
    return parts


def xlsx_with_sheet_stream(pieces: Callable[[], Iterator[bytes]], *, declared_size: int | None = None) -> bytes:
    """An XLSX whose sheet XML is streamed from ``pieces()`` and deflated.

    ``declared_size`` makes the archive's directory lie about the sheet's
    unpacked size, as a zip bomb that hides from a size check does.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _xlsx_parts("", "", "", None, "Cases"):
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for piece in pieces():
                sheet.write(piece)
    data = buffer.getvalue()
    return data if declared_size is None else _declare_size(data, "xl/worksheets/sheet1.xml", declared_size)


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite a member's unpacked size in the archive's central directory (what readers trust)."""
    out = bytearray(data)
    name = member.encode()
    position = out.find(b"PK\x01\x02")
    while position >= 0:
        (name_length,) = struct.unpack_from("<H", out, position + 28)
        if out[position + 46 : position + 46 + name_length] == name:
            struct.pack_into("<I", out, position + 24, size)
            return bytes(out)
        position = out.find(b"PK\x01\x02", position + 4)
    raise ValueError(member)


def ods(body: str) -> bytes:
    """A minimal ODS whose one table holds ``body`` (raw ``table:table-row`` XML)."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
        'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
        'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
        'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
        'names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
        'xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Cases">'
        + body
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text, method in (
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
            ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
            ("content.xml", content, zipfile.ZIP_DEFLATED),
        ):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, text)
    return buffer.getvalue()


def ods_cell(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeated}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


# --------------------------------------------------------------------------- XLS (BIFF8)


def _record(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def compound_file(stream: bytes, name: str = "Workbook") -> bytes:
    """A minimal compound file (version 3, 512-byte sectors) holding one stream (up to ~7 MB)."""
    stream = stream.ljust(max(4096, math.ceil(len(stream) / 512) * 512), b"\x00")
    count = len(stream) // 512
    fats = 1
    while fats * 128 < fats + 1 + count:
        fats += 1
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    first = fats + 1  # sectors: the FAT, the directory, then the stream
    fat = [fat_sector] * fats + [end] + [first + 1 + i if i < count - 1 else end for i in range(count)]
    fat += [free] * (fats * 128 - len(fat))
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, fats, fats, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, *range(fats), *([free] * (109 - fats)))

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = label.encode("utf-16-le") + b"\x00\x00" if label else b""
        out = bytearray(128)
        out[: len(raw)] = raw
        struct.pack_into("<HBB", out, 64, len(raw), kind, 1)
        struct.pack_into("<III", out, 68, free, free, child)
        struct.pack_into("<II", out, 0x74, start, size)
        return bytes(out)

    directory = entry("Root Entry", 5, 1, end, 0) + entry(name, 2, free, first, len(stream))
    directory += entry("", 0, free, 0, 0) * 2
    return bytes(header) + struct.pack(f"<{len(fat)}I", *fat) + directory + stream


def xls_shared_string(text: str, uses: int) -> bytes:
    """A BIFF8 workbook whose one shared string (in ``CONTINUE`` records past 8,224 bytes) fills
    ``uses`` cells: what a reader copies into each of them."""
    data = text.encode("latin-1")
    first, rest = data[: 8224 - 11], data[8224 - 11 :]
    records = _record(0x00FC, struct.pack("<IIHB", uses, 1, len(text), 0) + first)
    while rest:
        records += _record(0x003C, b"\x00" + rest[:8223])
        rest = rest[8223:]
    bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6))
    sheet_bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
    name, end = b"Cases", _record(0x000A)
    cells = b"".join(
        _record(0x00FD, struct.pack("<HHHI", row, column, 0, 0))
        for row in range(uses // 10) for column in range(10)
    )
    dimension = _record(0x0200, struct.pack("<IIHHH", 0, uses // 10, 0, 10, 0))
    boundsheet_length = 4 + 8 + len(name)
    position = len(bof) + len(records) + boundsheet_length + len(end)
    boundsheet = _record(0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 0) + name)
    return compound_file(bof + records + boundsheet + end + sheet_bof + dimension + cells + end)


def xls(
    rows: list[list[str]],
    encode: Callable[[str], tuple[bytes, int, int]] | None = None,
    *,
    dimension: tuple[int, int] | None = None,
    far_cell: tuple[int, int] | None = None,
) -> bytes:
    """A BIFF8 workbook with one sheet ("Cases") of text (LABEL) cells.

    ``encode(text)`` gives a string's bytes, its high-byte flag and its
    character count (default: Latin-1, 8-bit); ``dimension`` overrides the
    declared ``(rows, columns)``; ``far_cell`` adds a cell at that (row,
    column), counted from 0.
    """
    encode = encode or (lambda text: (text.encode("latin-1"), 0, len(text)))
    bof_globals = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6))
    codepage = _record(0x0042, struct.pack("<H", 1200))
    end = _record(0x000A)
    name = b"Cases"

    def boundsheet(position: int) -> bytes:
        return _record(0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 0) + name)

    def label(row: int, column: int, text: str) -> bytes:
        data, high, count = encode(text)
        return _record(0x0204, struct.pack("<HHHHB", row, column, 0, count, high) + data)

    cells = [label(r, c, text) for r, row in enumerate(rows) for c, text in enumerate(row)]
    if far_cell is not None:
        cells.append(label(*far_cell, "x"))
    declared = dimension or (len(rows), max(map(len, rows)))
    sheet = (
        _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
        + _record(0x0200, struct.pack("<IIHHH", 0, declared[0], 0, declared[1], 0))
        + b"".join(cells)
        + end
    )
    globals_length = len(bof_globals) + len(codepage) + len(boundsheet(0)) + len(end)
    return compound_file(bof_globals + codepage + boundsheet(globals_length) + end + sheet)


def utf16_in_8bit(text: str) -> tuple[bytes, int, int]:
    """UTF-16 bytes in a string flagged 8-bit, with a byte count: what some writers store."""
    data = text.encode("utf-16-le")
    return data, 0, len(data)


XLS_ROWS = [["Titel", "Name", "Kunde"], ["Herr", "Zoë", "00123"], ["Frau", "Łucja", "00456"]]


def _xls_ascii(text: str) -> tuple[bytes, int, int]:
    return text.encode("latin-1", "replace"), 0, len(text)


# --------------------------------------------------------------------------- the corpus

_WESTERN = "legal_first_name;legal_last_name;agency_name;regulated_provider_name\r\n"
_ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + n)}: &{chr(98 + n)} [" + ",".join([f"*{chr(97 + n)}"] * 9) + "]"
        for n in range(8)
    ]
    + ["constants: {agency_name: *i}"]
) + "\n"

SMALL: dict[str, Callable[[], bytes]] = {
    # -- CSV: read exactly, or refused naming the line
    "mixed_delimiters.csv": lambda: (
        "user_internal_id,legal_first_name,legal_last_name\r\n00001,Zoë,Müller\r\n"
        "00002;Ann;Lee\r\n00003\tBob\tKing\r\n"
    ).encode(),
    "newline_in_unquoted_cell.csv": lambda: "id,first,last\n1,Zo\në,Müller\n2,Ann,Lee\n".encode(),
    "unescaped_inner_quote.csv": lambda: 'id,name,city\n1,"Zoë "the boss" Müller",Paris\n'.encode(),
    "missing_closing_quote.csv": lambda: 'id,name,city\n1,"Zoë,Paris\n2,Ann,Rome\n'.encode(),
    "missing_quote_then_a_quote.csv": lambda: 'id,name,city\n1,"Zoë,Paris\n2,Ann,Rome\n3,"Bob",Oslo\n'.encode(),
    "more_cells_than_header.csv": lambda: "id,name\n1,Zoë,Paris\n2,Ann\n".encode(),
    "mixed_line_endings.csv": lambda: "id,name\n1,Zoë\r\n2,Ann\r3,Bob\n".encode(),
    "windows1252_smart_quotes.csv": lambda: (
        _WESTERN + "Zoë;O’Neil;“Nordic” Agency;Agence €uro\r\nJosé;Núñez–Díaz;Agency — One;Provider™\r\n"
    ).encode("cp1252"),
    "header_bom_and_spaces.csv": lambda: "\ufeff id , name ,\ufeffcity\n1,Zoë,Paris\n".encode(),
    "cyrillic_cp1251.csv": lambda: "Имя;Фамилия\r\nАндрей;Иванов\r\nОльга;Петрова\r\n".encode("cp1251"),
    "utf16_without_bom.csv": lambda: "id\tname\r\n1\tZoë\r\n".encode("utf-16-le"),
    "title_rows_above_header.csv": lambda: (
        b"Campaign export\nRun 2025-03-01,,\n\nuser_internal_id,legal_last_name,legal_first_name\n"
        b"001,Lee,Ann\n"
    ),
    "empty.csv": lambda: b"",
    "only_a_header.csv": lambda: b"id,name\r\n",
    "trailing_separators.csv": lambda: "id;name;;\r\n1;Zoë;;\r\n".encode("utf-8-sig"),
    # -- XLSX / ODS: what they declare and hold, checked before the reader allocates
    "cell_at_XFD1048576.xlsx": lambda: xlsx(
        HEADER_ROW + '<row r="1048576">' + inline("XFD1048576", "x") + "</row>"
    ),
    "dimension_A1_XFD1048576.xlsx": lambda: xlsx(HEADER_ROW + DATA_ROW, dimension="A1:XFD1048576"),
    "cells_without_references_past_XFD.xlsx": lambda: xlsx(
        HEADER_ROW + "<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 16_385 + "</row>"
    ),
    "grid_over_ten_million_cells.xlsx": lambda: xlsx(
        HEADER_ROW.replace("</row>", inline("K1", "notes") + "</row>")
        + '<row r="1048576">' + inline("A1048576", "x") + "</row>"
    ),
    "shared_strings_count_2e9.xlsx": lambda: xlsx(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        shared_strings='<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" count="2000000000" '
        'uniqueCount="2000000000"><si><t>id</t></si></sst>',
    ),
    "entity_expansion_dtd.xlsx": lambda: xlsx(HEADER_ROW, doctype=_BILLION_LAUGHS, sheet_name="&lol9;"),
    "binary_workbook_inside.xlsx": lambda: _zip({"[Content_Types].xml": _CONTENT_TYPES,
                                                 "xl/workbook.bin": "\x83\x01\x00"}),
    "campaign.xlsb": lambda: _zip({"xl/workbook.bin": "\x83\x01\x00"}),
    "not_a_workbook.xlsx": lambda: "id,name\n1,Zoë\n".encode(),
    "cell_over_32767_characters.xlsx": lambda: xlsx(
        HEADER_ROW + '<row r="2">' + inline("A2", "00123") + inline("B2", "x" * 40_000) + "</row>"
    ),
    "title_row_above_header.xlsx": lambda: xlsx(
        '<row r="1">' + inline("A1", "Core banking export") + "</row>"
        + HEADER_ROW.replace('r="1"', 'r="2"').replace("A1", "A2").replace("B1", "B2")
        + DATA_ROW.replace('r="2"', 'r="3"').replace("A2", "A3").replace("B2", "B3")
    ),
    "shared_string_in_30000_cells.xlsx": lambda: xlsx(
        "".join(
            f'<row r="{row}">' + "".join(f'<c r="{c}{row}" t="s"><v>0</v></c>' for c in "ABCDEFGHIJ")
            + "</row>"
            for row in range(1, 3_001)
        ),
        shared_strings='<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" count="30000" uniqueCount="1"><si><t>'
        + "x" * 32_000 + "</t></si></sst>",
    ),
    "repeated_long_text.ods": lambda: ods(
        "<table:table-row>" + ods_cell("id") + ods_cell("name") + "</table:table-row>"
        + '<table:table-row table:number-rows-repeated="10">' + ods_cell("x" * 32_000, 1000)
        + "</table:table-row>"
    ),
    "repeated_rows_of_values.ods": lambda: ods(
        "<table:table-row>" + ods_cell("id") + ods_cell("name") + "</table:table-row>"
        + '<table:table-row table:number-rows-repeated="1000000">' + ods_cell("x", 1000)
        + "</table:table-row>"
    ),
    "trailing_empty_repeats.ods": lambda: ods(
        "<table:table-row>" + ods_cell("id") + ods_cell("name")
        + '<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
        + "<table:table-row>" + ods_cell("00123") + ods_cell("Zoë")
        + '<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
        + '<table:table-row table:number-rows-repeated="1048574">'
        + '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    ),
    # -- XLS: declared dimensions and cells, read from the records before the reader
    "dimension_4_billion_rows.xls": lambda: xls(
        [["id", "name"], ["1", "Zoe"]], _xls_ascii, dimension=(0xFFFFFFF0, 0xFF00)
    ),
    "cell_at_last_row_and_column.xls": lambda: xls(
        [["id", "name"], ["1", "Zoe"]], _xls_ascii, far_cell=(65_535, 255)
    ),
    "cell_in_column_65536.xls": lambda: xls(
        [["id", "name"], ["1", "Zoe"]], _xls_ascii, far_cell=(10, 65_535)
    ),
    "utf16_strings_flagged_8bit.xls": lambda: xls(XLS_ROWS, utf16_in_8bit),
    "shared_string_in_3000_cells.xls": lambda: xls_shared_string("x" * 32_000, 3_000),
    "nul_in_text.xls": lambda: xls([["Titel", "Name"], ["Herr", "Zoë\x00"]]),
    "password_protected.xlsx": lambda: compound_file(b"\x00" * 4096, name="EncryptedPackage"),
    # -- mapping files: typed strictly, bounded
    "yaml_alias_bomb.yaml": lambda: _ALIAS_BOMB.encode(),
    "constants_not_text.yaml": lambda: (
        b"constants:\n  programme_name: 010\n  agency_name: [Prog One]\n  assigned_team: {a: b}\n"
        b"  regulated_provider_name: true\n  case_priority: .nan\n"
    ),
    "value_keys_collide.json": lambda: (
        b'{"values": {"current_status": {"Draft": "DRAFT", "draft ": "PENDING"}}}\n'
    ),
    "duplicate_keys.json": lambda: (
        b'{"constants": {"agency_name": "Agency One", "agency_name": "Agency Two"}}\n'
    ),
    "duplicate_keys.yaml": lambda: b"constants:\n  agency_name: Agency One\n  agency_name: Agency Two\n",
    "confidence_key.json": lambda: b'{"columns": {"Surname": "legal_last_name"}, "confidence": {"Surname": 0.5}}\n',
}
"""The committed files, by name: each function returns the file's bytes."""


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


_MIB = 1 << 20


def _spaces(megabytes: int) -> Callable[[], Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        yield _SHEET_START.format(dimension="").encode()
        block = b" " * _MIB
        for _ in range(megabytes):
            yield block
        yield _SHEET_END.encode()

    return pieces


def _sparse(path: Path, size: int) -> None:
    """A file of ``size`` bytes that takes no disk space (a size check must refuse it unread)."""
    with path.open("wb") as handle:
        handle.truncate(size)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _many_members(path: Path) -> None:
    parts = {"xl/workbook.xml": _WORKBOOK.format(doctype="", name="Cases")}
    parts.update({f"xl/media/image{n}.png": "" for n in range(20_001)})
    _write(path, _zip(parts))


def _rows_csv(path: Path, rows: int, line: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(b",".join(b"c%d" % n for n in range(line.count(b",") + 1)) + b"\n")
        block = line * 10_000
        for _ in range(rows // 10_000):
            handle.write(block)


GENERATED: dict[str, Callable[[Path], None]] = {
    "million_columns.csv": lambda path: _write(
        path, (",".join(f"c{n}" for n in range(1_000_000)) + "\n1\n").encode()
    ),
    "cell_of_32767_characters.csv": lambda path: _write(path, ("id,name\n1," + "x" * 32_767 + "\n").encode()),
    "cell_of_32768_characters.csv": lambda path: _write(path, ("id,name\n1," + "x" * 32_768 + "\n").encode()),
    "unclosed_quote_before_10_MB.csv": lambda path: _write(
        path, b'id,name\n1,"Zo\n' + b"2,Ann,Lee\n" * 1_000_000
    ),
    "over_a_million_rows.csv": lambda path: _rows_csv(path, 1_050_000, b"1\n"),
    "eleven_million_cells.csv": lambda path: _rows_csv(path, 900_000, b"1,2,3,4,5,6,7,8,9,10,11,12\n"),
    "over_128_MiB.csv": lambda path: _sparse(path, 128 * _MIB + 1),
    "sheet_of_600_MB.xlsx": lambda path: _write(path, xlsx_with_sheet_stream(_spaces(600))),
    "sheet_packed_1000_times.xlsx": lambda path: _write(path, xlsx_with_sheet_stream(_spaces(100))),
    "sheet_lying_about_its_size.xlsx": lambda path: _write(
        path, xlsx_with_sheet_stream(_spaces(100), declared_size=1_000)
    ),
    "twenty_thousand_parts.xlsx": _many_members,
    "mapping_of_100_MB.json": lambda path: _sparse(path, 100 * _MIB),
}
"""Files too big to commit, by name: each function writes the file at ``path``."""


def write_small(folder: Path) -> list[Path]:
    """Write every :data:`SMALL` file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SMALL.items():
        path = folder / name
        path.write_bytes(build())
        paths.append(path)
    return paths


def generate(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Write :data:`GENERATED` files (all, or ``names``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in GENERATED.items():
        if names is None or name in names:
            build(folder / name)
            paths.append(folder / name)
    return paths


def expected() -> dict[str, dict[str, Any]]:
    """Each file's expected outcome (``tests/data/hostile/expected.json``)."""
    data: dict[str, dict[str, Any]] = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- reading one file

MAPPING_SUFFIXES = (".json", ".yaml", ".yml")


def read_one(path: Path) -> dict[str, Any]:
    """Read ``path`` as a user's file is read; what came out, or the refusal, as JSON data."""
    from kyc_widgets.batch import CampaignMapping, CampaignReadError, MappingError, read_campaign

    start, cpu = time.perf_counter(), time.process_time()
    outcome: dict[str, Any] = {"file": path.name}
    try:
        if path.suffix.lower() in MAPPING_SUFFIXES:
            mapping = CampaignMapping.load(path)
            outcome.update(outcome="read", mapping=mapping.to_dict())
        else:
            frame = read_campaign(path)
            outcome.update(outcome="read", **_frame_facts(frame))
    except (CampaignReadError, MappingError) as exc:
        outcome.update(
            outcome="refused",
            error=type(exc).__name__,
            message=str(exc),
            **{key: getattr(exc, key, None) for key in ("line", "row", "cell")},
        )
    except Exception as exc:  # what must never happen: recorded, and the test fails on it
        outcome.update(outcome="error", error=type(exc).__name__, message=str(exc)[:500])
    outcome["seconds"] = round(time.perf_counter() - start, 3)
    outcome["cpu_seconds"] = round(time.process_time() - cpu, 3)
    outcome["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return outcome


def _frame_facts(frame: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "columns": list(frame.columns),
        "row_count": len(frame),
        "attrs": {
            key: frame.attrs.get(key)
            for key in ("header_row", "rows_above_header", "encoding", "utf16_cells")
        },
    }
    if len(frame) <= 50:
        facts["rows"] = {
            str(row): {
                column: (None if value is None or value != value else value)
                for column, value in record.items()
            }
            for row, record in frame.astype(object).where(frame.notna(), None).to_dict("index").items()
        }
    return facts


def main(argv: list[str]) -> int:
    """``write FOLDER`` (the committed files), ``generate FOLDER [NAME...]``, ``read FILE...``."""
    command, *rest = argv
    if command == "write":
        for path in write_small(Path(rest[0])):
            print(path)
    elif command == "generate":
        for path in generate(Path(rest[0]), rest[1:] or None):
            print(path)
    elif command == "read":
        for name in rest:
            print(json.dumps(read_one(Path(name)), ensure_ascii=False), flush=True)
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
