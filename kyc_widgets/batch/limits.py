"""How big a file the readers accept: :class:`ReadLimits`, checked before anything is allocated.

Why: every campaign sheet and mapping file comes from outside, and a few
hundred bytes can ask a reader for any amount of memory. A 1.7 kB XLSX with
one cell at ``XFD1048576`` makes python-calamine ask for 512 GiB and abort
the process (no exception, a dead notebook kernel); a 10 MB XLSX can hold a
2 GB sheet; a CSV line can hold a million cells; a 470-byte YAML file can
expand into gigabytes through nested aliases. Each limit below is checked
from what a file *declares* or from a cheap scan (a ZIP's directory, a
sheet's ``<dimension>`` and cell references, an XLS file's records, a CSV's
separators), before the reader that would allocate runs, so a refused file
costs seconds and a bounded amount of memory (``benchmarks/bench_hostile.py``
measures it: every file of the hostile corpus is refused within 10 s and
1 GB).

The defaults hold any sheet Excel itself can save, up to :attr:`max_cells`
cells. Pass another :class:`ReadLimits` to
:func:`~.reading.read_campaign` (``limits=``) or
:meth:`~.mapping.CampaignMapping.load` to read a bigger file on a machine that
has the memory for it::

    read_campaign(path, limits=ReadLimits(max_cells=40_000_000))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DEFAULT_LIMITS", "EXCEL_MAX_COLUMNS", "EXCEL_MAX_ROWS", "ReadLimits"]

EXCEL_MAX_ROWS = 1_048_576
"""Rows of one Excel worksheet (XLSX); an XLS holds 65,536."""

EXCEL_MAX_COLUMNS = 16_384
"""Columns of one Excel worksheet (``A`` to ``XFD``)."""

EXCEL_MAX_CELL_CHARS = 32_767
"""Characters one Excel cell holds."""

_MIB = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """The most a campaign sheet or a mapping file may hold; anything beyond is refused.

    Sheets (CSV and workbooks): ``max_rows`` rows (title and blank rows
    included), ``max_columns`` columns, ``max_cells`` cells in the grid a
    reader would allocate (rows times columns, empty cells included),
    ``max_cell_chars`` characters in one cell and ``max_text_chars`` characters of
    text in all cells together (a workbook stores a repeated text once and the
    reader copies it into every cell that uses it: 60 kB of XLSX can hold a
    gigabyte of cell text). Files: ``max_file_bytes`` for a sheet file as
    stored. Workbooks (XLSX, XLSM, ODS are ZIP archives):
    ``max_uncompressed_bytes`` for all their parts once unpacked,
    ``max_compression_ratio`` for any part over 1 MiB, ``max_zip_members``
    parts. Mapping files: ``max_mapping_bytes``, and ``max_yaml_aliases``
    ``*alias`` references in a YAML one.

    The defaults keep a refused file under 1 GB of memory (a workbook's text
    is held twice while it is read, by python-calamine and by Python) and
    hold a campaign of 100,000 rows of 50 columns.
    """

    max_file_bytes: int = 128 * _MIB
    max_rows: int = EXCEL_MAX_ROWS
    max_columns: int = EXCEL_MAX_COLUMNS
    max_cells: int = 5_000_000
    max_cell_chars: int = EXCEL_MAX_CELL_CHARS
    max_text_chars: int = 64_000_000
    max_uncompressed_bytes: int = 256 * _MIB
    max_compression_ratio: float = 200.0
    max_zip_members: int = 10_000
    max_mapping_bytes: int = 1 * _MIB
    max_yaml_aliases: int = 20

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"ReadLimits.{field.name} must be a number of 0 or more.")


DEFAULT_LIMITS = ReadLimits()
"""The limits used when none are given."""
