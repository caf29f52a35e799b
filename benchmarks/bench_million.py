"""A million rows (issue 22): dry runs through the command line, sending, and the journal.

Run: ``.venv/bin/python benchmarks/bench_million.py`` (everything, about 15 minutes), or
``--sizes 100000`` / ``--formats csv`` / ``--send-sizes 50000,200000`` / ``--skip-send``.

1. **Dry runs**: ``kyc-widgets batch SHEET --campaign c --dry-run --report OUT.csv
   --quiet --max-cells N`` as its own process, for CSV and XLSX sheets of 12
   columns (the columns of ``tests/factories.campaign_frame`` and an analyst's
   e-mail; no ``kyc_case_id``, so every id derives from the campaign): wall
   time and peak resident memory, next to a bare ``pandas.read_csv(dtype=str)``
   of the same CSV file measured in the same run (the ratio is what the
   targets speak of: <= 10x at 1,000,000 CSV rows, <= 800 MB; XLSX <= 1 GB).
   Sheets are generated once into ``--cache`` (default: a folder in the temp
   directory, kept between runs: the 1,000,000-row XLSX takes minutes to write).
2. **Sending**: ``kyc-widgets batch SHEET --campaign ... --report OUT.csv --journal J``
   against ``kyc-widgets sandbox`` as its own process, at two sizes: peak memory of
   the batch process, what a process holds once it has read the sheet (imports and
   the sheet's own columns), the difference ("beyond the sheet"), and its slope per
   100,000 rows (target: <= 300 MB beyond the sheet's own columns, whatever its size).
3. **Journal**: :func:`kyc_widgets.batch.resume` reading a 1,000,000-line journal
   (target: seconds) and looking its rows up in a pre-flight of as many rows, as its own
   process: time, peak memory (``VmHWM``, reset before each step) and what it holds.

Peak memory is ``ru_maxrss`` of the finished child (``resource.RUSAGE_CHILDREN``
is a running maximum, so each child is measured by ``/usr/bin/time``-free
``os.wait4``). Figures are printed, not asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))  # run as a script or imported by a test
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_pacing import TOKEN, sandbox_process  # noqa: E402 - the sandbox as its own process
from factories import campaign_frame  # noqa: E402 - the campaign rows the tests use

MAX_CELLS = 20_000_000
"""``--max-cells`` for the dry runs: a 1,000,000-row, 12-column sheet is over the default."""


def campaign_sheet(n: int, prefix: str = "U") -> pd.DataFrame:
    """``tests/factories.campaign_frame`` (distinct names and user ids, repeated enums) and an
    analyst's e-mail: 12 columns as people type them."""
    return campaign_frame(n, prefix=prefix).assign(assigned_analyst_email="sam.analyst@example.org")


def write_csv_sheet(path: Path, n: int, prefix: str = "U") -> Path:
    if not path.exists():
        partial = path.with_suffix(".part")
        campaign_sheet(n, prefix).to_csv(partial, index=False)
        partial.rename(path)
    return path


def write_xlsx_sheet(path: Path, n: int) -> Path:
    """xlsxwriter in constant-memory mode, row by row (a million rows take minutes)."""
    import xlsxwriter

    if path.exists():
        return path
    partial = path.with_name(path.stem + ".part.xlsx")
    frame = campaign_sheet(n)
    with xlsxwriter.Workbook(str(partial), {"constant_memory": True}) as book:
        sheet = book.add_worksheet("campaign")
        sheet.write_row(0, 0, list(frame.columns))
        for number, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            sheet.write_row(number, 0, row)
    partial.rename(path)
    return path


def measured(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak resident MB and exit code of ``command`` as its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        assert process.stderr is not None
        print(process.stderr.read().decode()[-2000:], file=sys.stderr)
    if process.stderr is not None:
        process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024, process.returncode


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kyc_widgets", *args]


def bare_read_csv(path: Path) -> tuple[float, float]:
    code = f"import pandas as pd; pd.read_csv({str(path)!r}, dtype=str)"
    seconds, peak, _ = measured([sys.executable, "-c", code])
    return seconds, peak


def dry_runs(cache: Path, sizes: list[int], formats: list[str]) -> None:
    print("== dry run --report OUT.csv (the CLI as its own process) ==")
    print(f"{'sheet':>22} | {'seconds':>8} {'x read_csv':>10} | {'peak MB':>8} | "
          f"{'read_csv s':>10} {'MB':>6} | exit")
    for n in sizes:
        csv_path = write_csv_sheet(cache / f"campaign-{n}.csv", n)
        base_s, base_mb = bare_read_csv(csv_path)
        for kind in formats:
            sheet = csv_path if kind == "csv" else write_xlsx_sheet(cache / f"campaign-{n}.xlsx", n)
            with tempfile.TemporaryDirectory() as folder:
                report = Path(folder) / "report.csv"
                seconds, peak, code = measured(cli(
                    "batch", str(sheet), "--campaign", "c", "--dry-run", "--report", str(report),
                    "--quiet", "--max-cells", str(MAX_CELLS),
                ))
            print(f"{n:>12,} rows {kind:>4} | {seconds:8.1f} {seconds / base_s:9.1f}x | "
                  f"{peak:8.0f} | {base_s:10.2f} {base_mb:6.0f} | {code}", flush=True)


def sending(cache: Path, sizes: list[int]) -> None:
    print("== sending (journal + report) against the sandbox as its own process ==")
    print("   'sheet' is what a process holds once it has imported kyc_widgets and read the")
    print("   sheet (resident MB; the Arrow columns' own bytes beside it); 'beyond' is the")
    print("   run's peak minus that: the target is <= 300 MB whatever the sheet's size")
    beyond: list[tuple[int, float]] = []
    for n in sizes:
        sheet = write_csv_sheet(cache / f"send-{n}.csv", n, prefix=f"S{n}-")
        held, columns_mb = sheet_footprint(sheet)
        with sandbox_process() as url, tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "KYC_API_BASE_URL": url, "KYC_API_TOKEN": TOKEN}
            seconds, peak, code = measured(cli(
                "batch", str(sheet), "--campaign", f"send-{n}", "--quiet",
                "--report", str(Path(folder) / "report.csv"),
                "--journal", str(Path(folder) / "run.journal"), "--max-cells", str(MAX_CELLS),
            ), env=env)
        beyond.append((n, peak - held))
        print(f"{n:>9,} rows: {seconds:7.1f} s ({n / seconds:6.0f} rows/s), peak {peak:6.0f} MB, "
              f"sheet {held:5.0f} MB ({columns_mb:4.0f} MB of columns), "
              f"beyond {peak - held:5.0f} MB, exit {code}", flush=True)
    if len(beyond) >= 2:
        (n1, b1), (n2, b2) = beyond[0], beyond[-1]
        slope = (b2 - b1) / (n2 - n1) * 100_000
        print(f"slope beyond the sheet: {slope:.1f} MB per 100,000 rows")


def sheet_footprint(path: Path) -> tuple[float, float]:
    """``(resident MB, columns MB)`` of a process that imported kyc_widgets and read ``path``
    as the command line reads it: what a run holds before it does anything."""
    code = (
        "import sys, pyarrow as pa\n"
        "from kyc_widgets.batch import read_campaign\n"
        "from kyc_widgets.cli.batch import _read_limits\n"
        "from kyc_widgets.batch.memory import give_back_memory\n"
        f"frame = read_campaign({str(path)!r}, limits=_read_limits({MAX_CELLS}))\n"
        "give_back_memory()\n"
        "pages = int(open('/proc/self/statm').read().split()[1])\n"
        "size = sum(pa.array(frame[c].array).nbytes for c in frame.columns)\n"
        "print(pages * 4096 / 2**20, size / 2**20)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    resident, columns = out.stdout.split()
    return float(resident), float(columns)


def journal_resume(lines: int) -> None:
    """A resume's reading of a journal of ``lines`` outcomes, as its own process: the read's
    time, its peak memory and what the journal's columns hold after it; then the claimed
    rows looked up against a pre-flight of as many rows (its ids: a categorical of Arrow
    text, what :func:`kyc_widgets.batch.preflight` makes), their time and memory. The
    look-ups on the API that follow are one ``GET`` per row, paced like the sends."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.journal"
        write_big_journal(path, lines)
        size = path.stat().st_size / 2**20
        out = subprocess.run([sys.executable, "-c", JOURNAL_CHILD, str(path), str(lines)],
                             capture_output=True, text=True, check=True)
    figures = dict(item.split("=") for item in out.stdout.split())
    print(f"== journal: {lines:,} lines ({size:.0f} MB) read in {figures['read_s']} s "
          f"({figures['read_cpu']} s CPU), peak +{figures['read_peak']} MB, "
          f"held {figures['held']} MB ({figures['entries']} entries, {figures['ignored']} "
          f"ignored; its ids' UTF-8 {figures['ids']} MB) ==")
    print(f"   claimed {figures['claimed']} of {lines:,} pre-flight rows in "
          f"{figures['claim_s']} s, peak +{figures['claim_peak']} MB (the journal's columns "
          f"included); a resume then holds {figures['resume_held']} MB beyond the pre-flight",
          flush=True)


JOURNAL_CHILD = """
import sys, time
import numpy as np, pandas as pd, pyarrow as pa
from kyc_widgets.batch.columns import ARROW_TEXT, compact_distinct
from kyc_widgets.batch.journal import Journal
from kyc_widgets.batch.memory import give_back_memory
from kyc_widgets.batch.resume import _claimed

def status(key):  # MB
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith(key + ":"))

def reset_peak():  # the peak (VmHWM) from now on; Linux >= 4.0
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

path, n = sys.argv[1], int(sys.argv[2])
ids = pa.array([f"CMP-c-{i:016x}" for i in range(n)], pa.large_string())
pre_ids = compact_distinct(pd.array(ids, dtype=ARROW_TEXT), np.arange(n), pd.RangeIndex(n))
id_bytes = ids.nbytes / 2**20
del ids
give_back_memory()
base = status("VmRSS")
reset_peak()
started, cpu = time.perf_counter(), time.process_time()
contents = Journal(path).read()
read_s, read_cpu = time.perf_counter() - started, time.process_time() - cpu
give_back_memory()
held, read_peak = status("VmRSS") - base, status("VmHWM") - base
reset_peak()
started = time.perf_counter()
claimed, rows = _claimed(np.arange(n), pre_ids.array, contents.entries)
claim_s = time.perf_counter() - started
claim_peak = status("VmHWM") - base
give_back_memory()
print(f"read_s={read_s:.2f} read_cpu={read_cpu:.2f} read_peak={read_peak:.0f} held={held:.0f} "
      f"entries={len(contents.entries):,} ignored={contents.ignored} ids={id_bytes:.0f} "
      f"claimed={len(claimed):,} claim_s={claim_s:.2f} claim_peak={claim_peak:.0f} "
      f"resume_held={status('VmRSS') - base:.0f}")
"""
"""The measuring process of :func:`journal_resume`: ``python -c JOURNAL_CHILD PATH LINES``."""


def write_big_journal(path: Path, lines: int) -> None:
    """A header and ``lines`` outcome lines as a run of that many created rows writes them:
    derived ids (``CMP-c-`` and 16 hex digits, as :mod:`kyc_widgets.batch.identity` makes
    them), the sandbox's case ids (a UUID) and request ids, one outcome a millisecond."""
    import json

    from kyc_widgets.batch.journal import JournalHeader

    def dumps(data: dict[str, object]) -> str:  # as Journal.append writes a line
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"

    run = "2026-01-01T00:00:00.000Z"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(dumps(JournalHeader("http://127.0.0.1:1", "c", "bench", run).line()))
        for i in range(lines):
            seconds, ms = divmod(i, 1000)
            minutes, seconds = divmod(seconds, 60)
            handle.write(dumps({
                "kyc_case_id": f"CMP-c-{i:016x}", "status": "created",
                "case_id": f"{i:08x}-85d9-467a-9bfb-{i:012x}", "request_id": f"req_{i:024x}",
                "http_status": 201, "at": f"2026-01-01T{minutes // 60:02d}:{minutes % 60:02d}:"
                f"{seconds:02d}.{ms:03d}+00:00", "campaign": "c", "run": run,
                "principal": "analyst@bank",
            }))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--send-sizes", default="50000,200000")
    parser.add_argument("--skip-send", action="store_true")
    parser.add_argument("--journal-lines", type=int, default=1_000_000)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "kyc-bench-million"))
    args = parser.parse_args(argv)
    cache = Path(args.cache)
    cache.mkdir(exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; sheets in {cache}")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    dry_runs(cache, sizes, [f for f in args.formats.split(",") if f])
    if not args.skip_send:
        sending(cache, [int(s) for s in args.send_sizes.split(",") if s])
    if args.journal_lines:
        journal_resume(args.journal_lines)


if __name__ == "__main__":
    main()
