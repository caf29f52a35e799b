"""Batch case creation from DataFrames and spreadsheets: no widgets here.

Small modules, one concept each:

- :mod:`.reading`: :func:`read_campaign` (CSV/XLSX/XLS/ODS as text, sheet row numbers as
  index), with :mod:`.encoding` (which text encoding a CSV is in), :mod:`.delimited`
  (CSV split exactly or refused by line), :mod:`.excel` (workbooks read fast with
  python-calamine, cells as typed) and :class:`ReadLimits` (:mod:`.limits`: what a file may
  hold, checked before allocation by :mod:`.zip_guard` and :mod:`.xls_guard`)
- :mod:`.fields`: the field vocabulary (names, titles, header aliases, enum members), a leaf
- :mod:`.preflight`: normalise and validate every row before anything is sent; what fails
  is a table (:mod:`.problems`: one row per failing sheet row and field); its values are
  compact columns (:mod:`.columns`: a code per row, each distinct value once, read row by
  row with :func:`plain_records`)
- :mod:`.mapping`: :class:`CampaignMapping` (a source system's headers, constants and
  values) and :func:`suggest_mapping`, which reads headers (:mod:`.synonyms`) and values
  (:mod:`.value_evidence`); files read strictly by :mod:`.mapping_file`, remembered per
  user by :mod:`.saved_mappings`
- :mod:`.template`: :func:`write_template`, an XLSX that reads back with no mapping
- :mod:`.identity`: stable external ids for rows without ``kyc_case_id``
- :mod:`.status`: :class:`RowStatus`, every row status and its facts
- :mod:`.options`: :class:`BatchOptions`, a run's settings validated once
- :mod:`.sending`: :func:`abatch_create` / :func:`batch_create`; one run's workers are
  :mod:`.run`, a row's request and its meaning :mod:`.outcomes`, stopping :mod:`.stop`
- :mod:`.journal`: append-only outcomes for resuming after a crash, confirmed on the API
  before they are trusted (:mod:`.resume`)
- :mod:`.results` and :mod:`.report`: :class:`BatchReport` (the data, then what one does
  with it); :mod:`.exports` writes it safely, :mod:`.takeaway` gives the files as bytes
- :mod:`.fixes`: problem rows corrected in place (``report.apply_fixes``)
- :mod:`.existing`: the dry run that asks the API (``mode="check_api"``)
- :mod:`.subjects`: the same customer and reason twice under different ids
- :mod:`.evidence`: the hash-chained evidence record and :func:`verify_evidence`, read
  strictly (:mod:`.evidence_format`, :mod:`.json_shapes`), signed (:mod:`.signing`) and
  compared with the API (:mod:`.evidence_api`); :func:`~.evidence.write_report_evidence`
  writes it as its entries are made
- :mod:`.memory`: freed memory handed back after a large step (a million-row sheet)
- :mod:`.plan` and :mod:`.plan_file`: maker-checker plans, approved before sending

The notebook UI over these, :class:`~kyc_widgets.widgets.batch_creator.BatchCreator`,
lives with the other widgets.
"""

from .columns import plain, plain_records
from .evidence import EvidenceCheck, verify_evidence, write_report_evidence
from .fixes import FixError
from .identity import IDENTITY_FIELDS, CampaignRequiredError, derive_case_id
from .journal import Journal, JournalEntry
from .limits import ReadLimits
from .mapping import CampaignMapping, MappingError, suggest_mapping
from .options import BatchMode, BatchOptions, OnConflict
from .preflight import CampaignColumnsError, Preflight, preflight
from .reading import CampaignReadError, SheetNotFoundError, read_campaign
from .report import (
    ATTENTION_STATUSES,
    DONE_STATUSES,
    RESULT_COLUMNS,
    STATUS_LABELS,
    STATUSES,
    BatchReport,
)
from .sending import DEFAULT_CONCURRENCY, BatchProgress, abatch_create, batch_create
from .status import RowStatus
from .template import write_template

__all__ = [
    "ATTENTION_STATUSES",
    "DEFAULT_CONCURRENCY",
    "DONE_STATUSES",
    "IDENTITY_FIELDS",
    "RESULT_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "BatchMode",
    "BatchOptions",
    "BatchProgress",
    "BatchReport",
    "CampaignColumnsError",
    "CampaignMapping",
    "CampaignReadError",
    "CampaignRequiredError",
    "EvidenceCheck",
    "FixError",
    "Journal",
    "JournalEntry",
    "MappingError",
    "OnConflict",
    "Preflight",
    "ReadLimits",
    "RowStatus",
    "SheetNotFoundError",
    "abatch_create",
    "batch_create",
    "derive_case_id",
    "plain",
    "plain_records",
    "preflight",
    "read_campaign",
    "suggest_mapping",
    "verify_evidence",
    "write_report_evidence",
    "write_template",
]

