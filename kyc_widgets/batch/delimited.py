"""CSV text split into rows exactly, or refused naming the line that is wrong.

Why not pandas' parser: it reads a broken file as if it were fine. A row in
semicolons under a comma header becomes one cell and empty ones, a line break
inside an unquoted cell cuts a row in two, an unescaped quote swallows the
next separator, a missing closing quote raises a raw ``ParserError``, a cell
over 131,072 characters a raw ``_csv.Error``. Here Python's :mod:`csv` reads
the text in ``strict`` mode, fed line by line so that every line ending
(``\\n``, ``\\r\\n`` and a bare ``\\r``, mixed in one file) ends a row, and
every problem becomes a :class:`~.sheet.CampaignReadError` naming the line
a text editor shows and the row a spreadsheet shows:

* a quote inside a quoted cell that is not doubled, text after a closing
  quote, a quote that is never closed;
* a cell longer than :attr:`~.limits.ReadLimits.max_cell_chars` (Excel's
  32,767 characters), a line with more than ``max_columns`` cells (counted
  before the line is split, so a line of a million separators costs one
  ``str.count``), more than ``max_rows`` rows or ``max_cells`` cells
  (counted while reading, so nothing beyond the limit is kept);
* after the header is known (:class:`WidthCheck`): a row with a different
  number of cells than the header. Blank rows are gaps, and extra *empty*
  cells after the last column are the trailing separators Excel writes;
  anything else is a row cut short or run together (a line break in an
  unquoted cell, a row in another separator), so it is refused, naming the
  separator the row seems to use.

The rows come a chunk at a time (:func:`split_chunks`) with the line each
starts on, so that a reader turns each chunk into columns and keeps no more
than one chunk of Python lists: a million rows kept as lists of ``str`` cost
over a gigabyte. Limits are counted over all the chunks so far, and every
refusal names the same line and row as when the whole text is split at once
(:func:`split_records`, :func:`check_widths`).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

from .limits import ReadLimits
from .sheet import CampaignReadError

__all__ = [
    "SEPARATORS",
    "Records",
    "WidthCheck",
    "check_widths",
    "guess_separator",
    "split_chunks",
    "split_records",
]

SEPARATORS = (",", ";", "\t")
"""The separators Excel writes: comma, semicolon (European list separator), tab."""

_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
_QUOTED = re.compile(r'"[^"]*"')
_LISTED = 5
"""How many offending lines a refusal names."""


class Records(NamedTuple):
    """The rows of a CSV text, as split, with the line each starts on."""

    rows: list[list[str]]
    """One list of cells per row; ``[]`` for a blank line."""
    lines: list[int]
    """The line (counted from 1) each row starts on; a quoted cell may span lines."""


def guess_separator(text: str, lines: int = 30) -> str:
    """The one of ``,``, ``;`` and tab that splits the first ``lines`` most consistently.

    For each separator, the count most lines share (ignoring lines without it)
    and how many lines share it: the separator with the most such lines wins,
    then the higher count. A European file whose notes hold commas
    (``Name;Note`` / ``Zoë;25°C, m², red``) is split on semicolons, not on the
    commas one line has most of.
    """
    head = [line for line in _first_lines(text, lines) if line.strip()]
    best, best_score = ",", (0, 0)
    for sep in SEPARATORS:
        counts = Counter(line.count(sep) for line in head)
        counts.pop(0, None)
        if counts:
            common, lines_sharing = counts.most_common(1)[0]
            if (lines_sharing, common) > best_score:
                best, best_score = sep, (lines_sharing, common)
    return best


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
"""One line and its ending: ``\r\n``, a bare ``\r`` or ``\n`` (the last line may have none)."""


def _lines_of(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, without a copy of the text.

    (``io.StringIO`` would hold the text again at four bytes per character:
    420 MB more for a 100 MB file.)
    """
    for match in _LINE.finditer(text):
        yield match.group()


def _first_lines(text: str, count: int) -> Iterator[str]:
    for number, line in enumerate(_lines_of(text)):
        if number >= count:
            return
        yield line


class _TooWide(Exception):
    """A line with more cells than ``max_columns`` (raised by :func:`_checked_lines`)."""


_CHUNK = 10_000
"""Rows split at a time; their limits are checked together, in C."""


def _checked_lines(text: str, sep: str, limit: int, state: list[int], start: int = 0) -> Iterator[str]:
    """The lines for :mod:`csv` from offset ``start``, each refused before it is split when it
    holds too many cells. ``state[0]`` is where the next line starts."""
    for match in _LINE.finditer(text, start):
        line = match.group()
        # A cheap upper bound first; quoted separators are not cells, so count again without them.
        if line.count(sep) >= limit and _QUOTED.sub("", line).count(sep) >= limit:
            raise _TooWide
        state[0] = match.end()
        yield line


def _reader(text: str, sep: str, limits: ReadLimits, state: list[int], start: int = 0) -> Any:
    return _csv_reader(_checked_lines(text, sep, limits.max_columns, state, start), sep)


def _csv_reader(lines: Iterator[str], sep: str) -> Any:
    return csv.reader(lines, delimiter=sep, quotechar='"', doublequote=True, strict=True)


_SLAB = 1 << 16
"""Characters of text cut into lines at once by :class:`_Slabs` (about 500 lines of a
campaign sheet: fewer separators than ``max_columns``, so one ``str.count`` clears them)."""


class _Slabs:
    """The lines of a text for :mod:`csv`, cut a slab of :data:`_SLAB` characters at a time
    in C, for the chunks of :func:`split_chunks`. (:func:`_checked_lines` yields them one
    by one in Python: a third of the time of reading a million rows.)

    A slab ends at a line's end, never between the ``\r`` and ``\n`` of a ``\r\n``, so the
    lines are those :func:`_checked_lines` yields. A slab holding a line with more than
    ``limit`` cells raises :class:`_TooWide` before its first line is read (possibly rows
    before that line): :func:`split_chunks` then splits its chunk again row by row, which
    names the first thing wrong, as ever.
    """

    def __init__(self, text: str, sep: str, limit: int) -> None:
        self.text, self.sep, self.limit = text, sep, limit
        self.start = 0
        """Where the current slab starts in the text."""
        self.lines: list[str] = []
        """The current slab's lines."""
        self.first = 0
        """How many lines come before the current slab's."""

    def __iter__(self) -> Iterator[str]:
        text, sep, limit, size = self.text, self.sep, self.limit, len(self.text)
        start = 0
        while start < size:
            end = start + _SLAB
            if end >= size:
                end = size
            elif text[end - 1] == "\r" and text[end] == "\n":
                end += 1
            else:
                match = _LINE.match(text, end)  # the rest of the line `end` falls in
                end = match.end() if match else size
            lines = _LINE.findall(text, start, end)
            if text.count(sep, start, end) >= limit and any(
                line.count(sep) >= limit and _QUOTED.sub("", line).count(sep) >= limit
                for line in lines
            ):
                raise _TooWide
            self.first += len(self.lines)
            self.start, self.lines = start, lines
            yield from lines
            start = end

    def offset(self, line: int) -> int:
        """Where the line after the first ``line`` lines starts (the current slab's lines or
        the one after them)."""
        return self.start + sum(map(len, self.lines[: line - self.first]))


def split_records(text: str, sep: str, limits: ReadLimits) -> Records:
    """Every row of ``text`` split on ``sep``, all at once (see :func:`split_chunks`)."""
    rows: list[list[str]] = []
    lines: list[int] = []
    for chunk in split_chunks(text, sep, limits):
        rows.extend(chunk.rows)
        lines.extend(chunk.lines)
    return Records(rows, lines)


def split_chunks(text: str, sep: str, limits: ReadLimits) -> Iterator[Records]:
    """The rows of ``text`` split on ``sep``, :data:`_CHUNK` at a time (see the module docstring
    for what is refused).

    The hot path of a CSV read: each chunk's limits are checked at once, counting the rows
    and the widest row of the chunks before it; a chunk that breaks one (or that :mod:`csv`
    refuses) is split again row by row (:func:`_refuse`), which raises the refusal naming
    the exact line and row. A chunk at a time, so that the reader keeps only one chunk of
    Python lists alive (a million rows of lists cost a gigabyte); the generator lets go of
    ``text`` once it is exhausted.
    """
    if csv.field_size_limit() <= limits.max_cell_chars:
        # Raised, never lowered: the limit is process-wide. Longer cells are refused below.
        csv.field_size_limit(limits.max_cell_chars + 1)
    slabs = _Slabs(text, sep, limits.max_columns)
    reader = _csv_reader(iter(slabs), sep)
    done = widest = 0
    while True:
        offset, lines_before = slabs.offset(reader.line_num), reader.line_num
        try:
            chunk = list(itertools.islice(reader, _CHUNK))
        except (csv.Error, _TooWide):
            _refuse(text, sep, limits, offset, lines_before, done, widest)
            raise _unexplained(lines_before) from None
        if not chunk:
            return
        total = done + len(chunk)
        chunk_widest = max(map(len, chunk))
        longest = max(map(len, itertools.chain.from_iterable(chunk)), default=0)
        if (
            longest > limits.max_cell_chars
            or total > limits.max_rows
            or total * max(widest, chunk_widest) > limits.max_cells
        ):
            _refuse(text, sep, limits, offset, lines_before, done, widest)
            raise _unexplained(lines_before)
        widest = max(widest, chunk_widest)
        if reader.line_num - lines_before == len(chunk):  # one line per row: the usual case
            starts = list(range(lines_before + 1, reader.line_num + 1))
        else:
            starts = _row_starts(chunk, lines_before + 1)
        done = total
        yield Records(chunk, starts)
        del chunk, starts  # before the next chunk is split: one chunk of lists alive, not two


def _unexplained(lines_before: int) -> CampaignReadError:
    """What is raised if the row-by-row pass finds nothing wrong where a chunk did (never, in
    the tests): still a refusal, never a parser's own exception."""
    return CampaignReadError("the lines after this one cannot be read as CSV.", line=lines_before + 1)


def _row_starts(chunk: list[list[str]], line: int) -> list[int]:
    """The line each row starts on, when quoted cells hold line breaks."""
    starts = []
    for row in chunk:
        starts.append(line)
        line += 1 + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in row)
    return starts


def _refuse(
    text: str, sep: str, limits: ReadLimits, offset: int, read: int, done: int, widest: int
) -> None:
    """Split the text again row by row from ``offset`` (line ``read + 1``, row ``done + 1``),
    and raise the refusal a chunk ran into, naming its line and row."""
    reader = _reader(text, sep, limits, [offset], offset)
    line = read
    try:
        for row in reader:
            number, start = done + 1, line + 1
            if row and max(map(len, row)) > limits.max_cell_chars:
                raise _too_long(start, number, limits, row, read + reader.line_num > start)
            widest = max(widest, len(row))
            if number > limits.max_rows or number * widest > limits.max_cells:
                raise _too_many(start, number, widest, limits)
            done, line = number, read + reader.line_num
    except csv.Error as exc:
        raise _parse_error(str(exc), line + 1, read + reader.line_num, done + 1, limits) from None
    except _TooWide:
        raise CampaignReadError(
            f"more than {limits.max_columns:,} cells on one line (ReadLimits.max_columns); "
            "a campaign sheet has one column per field.",
            line=read + reader.line_num + 1,
        ) from None


def _too_many(line: int, row: int, widest: int, limits: ReadLimits) -> CampaignReadError:
    over = (
        f"more than {limits.max_rows:,} rows (ReadLimits.max_rows)"
        if row > limits.max_rows
        else f"more than {limits.max_cells:,} cells (ReadLimits.max_cells: rows times "
        f"the widest row, {widest:,} cells)"
    )
    return CampaignReadError(
        f"the sheet has {over}; split the campaign into smaller files.", line=line, row=row
    )


def _too_long(
    line: int, row: int, limits: ReadLimits, cells: list[str] | None = None, spans_lines: bool = True
) -> CampaignReadError:
    longest = max(map(len, cells)) if cells else 0
    column = next((i for i, cell in enumerate(cells or (), 1) if len(cell) == longest), None)
    where = f"cell {column} of this row" if column is not None else "a cell of this row"
    quote = (
        "; a quote that is never closed makes one cell of the lines after it" if spans_lines else ""
    )
    return CampaignReadError(
        f"{where} is longer than {limits.max_cell_chars:,} characters (ReadLimits.max_cell_chars, "
        f"what one Excel cell holds){quote}.",
        line=line,
        row=row,
    )


def _parse_error(
    message: str, start: int, current: int, row: int, limits: ReadLimits
) -> CampaignReadError:
    """:mod:`csv`'s error as a refusal naming where the row started (and where it broke)."""
    if "field larger than field limit" in message:
        return _too_long(start, row, limits)
    if "unexpected end of data" in message:
        return CampaignReadError(
            "a quote opened in this row is never closed (every quote inside a quoted cell is "
            'written twice: "").',
            line=start,
            row=row,
        )
    if "expected after" in message:
        span = f" and goes on to line {current}" if current != start else ""
        return CampaignReadError(
            f"a quoted cell that starts in this row{span} has text after its closing quote: "
            'a quote inside the cell that is not doubled (write ""), or a closing quote missing.',
            line=start,
            row=row,
        )
    return CampaignReadError(f"the line cannot be read as CSV ({message}).", line=current, row=row)


def check_widths(records: Records, header_index: int, sep: str) -> None:
    """Refuse rows under the header whose cell count differs from the header's (all rows at
    once; see :class:`WidthCheck`)."""
    check = WidthCheck(records.rows[header_index], header_index, sep)
    start = header_index + 1
    check.feed(records.rows[start:], records.lines[start:], start)
    check.close()


class WidthCheck:
    """Rows under the header whose cell count differs from the header's, checked as the
    chunks arrive; :meth:`close` refuses them.

    Blank rows and extra empty cells at the end are allowed (see the module
    docstring). The refusal names the first such row, the separator it
    seems to use when that is what went wrong, and the next few: only the
    first row is kept, and only the line numbers of the ones after it, so a
    file of a million bad rows costs no more than a good one.
    """

    def __init__(self, header: list[str], header_index: int, sep: str) -> None:
        self.width = len(header)
        self.header_index = header_index
        self.sep = sep
        self.first: tuple[list[str], int, int] | None = None
        """The first bad row: its cells, the line it starts on and its position (from 0)."""
        self.others: list[int] = []
        """The lines of the next :data:`_LISTED` bad rows."""
        self.more = 0
        """How many bad rows there are after those."""

    @property
    def clean(self) -> bool:
        """No bad row so far (the rows fed can be kept)."""
        return self.first is None

    def feed(self, rows: list[list[str]], lines: list[int], position: int) -> bool:
        """Check ``rows`` (starting on ``lines``; ``position`` is the first one's, from 0, in
        the file); :attr:`clean` is returned."""
        width = self.width
        lengths = list(map(len, rows))
        if lengths.count(width) == len(lengths):  # the usual chunk: every row as wide (in C)
            return self.first is None
        for index, length in enumerate(lengths):
            if length == width:
                continue
            row = rows[index]
            if not any(row) or (length > width and not any(row[width:])):
                continue  # a blank row, or trailing separators
            if self.first is None:
                self.first = (row, lines[index], position + index)
            elif len(self.others) < _LISTED:
                self.others.append(lines[index])
            else:
                self.more += 1
        return self.first is None

    def close(self) -> None:
        """Raise the refusal for the rows fed, if one was bad."""
        if self.first is None:
            return
        row, line, position = self.first
        width, sep = self.width, self.sep
        hint = _separator_hint(row, sep, width) or (
            ": a line break inside a cell that is not in quotes cuts a row in two"
            if len(row) < width
            else f": {_NAMES[sep]} inside a cell that is not in quotes split it"
        )
        reason = (
            f"{len(row)} cell(s) where the header (row {self.header_index + 1}) has {width}{hint}. "
        )
        if self.others:
            more = f" and {self.more} more" if self.more else ""
            reason += f"Other rows like it start on line(s) {', '.join(map(str, self.others))}{more}. "
        reason += "Nothing was read: fix the file, or save it again from Excel."
        raise CampaignReadError(reason, line=line, row=position + 1)


def _separator_hint(row: list[str], sep: str, width: int) -> str:
    text = sep.join(row)
    for other in SEPARATORS:
        if other != sep and other in text:
            try:
                cells = next(csv.reader([text], delimiter=other))
            except csv.Error:  # a line break in a cell: no hint, the refusal stands
                continue
            if len(cells) == width:
                return f": this row is separated by {_NAMES[other]}, the header by {_NAMES[sep]}"
    return ""
