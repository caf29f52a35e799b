"""Hostile files: time and peak memory to the refusal, one process per file.

Run: ``.venv/bin/python benchmarks/bench_hostile.py [--only NAME ...] [--cap-gb 4]``

Every file of the hostile corpus (``tests/data/hostile/``, and the big ones
``tests/hostile_corpus.py`` generates into a temporary folder) is read in a
fresh process, the way a user's file is read (``read_campaign``, or
``CampaignMapping.load`` for a mapping file), with its address space capped
(``--cap-gb``, 4 by default: a regression shows up as a MemoryError here, not
as a stalled machine). For each file it prints:

* the outcome (read, or refused and where),
* the seconds from the call to the refusal (the interpreter's start and
  imports left out), and the processor seconds among them (what the file
  costs, however busy the machine is),
* the process's peak resident memory, and the same minus a process that only
  imported the readers (the baseline, printed first).

Target (issue 24): every file refused within 10 s and 1 GB. Figures are
printed, not asserted: ``tests/test_hostile_files.py`` asserts the outcomes
under a 1 GiB cap.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(TESTS))

import hostile_corpus as corpus  # noqa: E402  (the corpus lives with the tests)

TARGET_SECONDS = 10.0
TARGET_MB = 1000.0
_BASELINE = (
    "import resource, kyc_widgets.batch, kyc_widgets.batch.excel, yaml; "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def _capped(gigabytes: float) -> Any:
    limit = int(gigabytes * (1 << 30))

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def baseline_mb(cap_gb: float) -> float:
    """Peak memory of a process that only imported the readers."""
    done = subprocess.run(
        [sys.executable, "-c", _BASELINE], capture_output=True, text=True, check=True,
        preexec_fn=_capped(cap_gb),
    )
    return float(done.stdout.strip())


def measure(path: Path, cap_gb: float) -> dict[str, Any]:
    """Read one file in a fresh, capped process; its JSON outcome (or how the process ended)."""
    try:
        done = subprocess.run(
            [sys.executable, str(TESTS / "hostile_corpus.py"), "read", str(path)],
            capture_output=True, text=True, timeout=120, preexec_fn=_capped(cap_gb), check=False,
        )
    except subprocess.TimeoutExpired:
        return {"file": path.name, "outcome": "HUNG (over 120 s)"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"file": path.name, "outcome": f"CRASHED (exit {done.returncode})",
                "message": done.stderr[-300:]}
    outcome: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return outcome


def _where(outcome: dict[str, Any]) -> str:
    if outcome.get("outcome") != "refused":
        return ""
    for key in ("line", "row", "cell"):
        if outcome.get(key) is not None:
            return f"{key} {outcome[key]}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="measure only these files (by name)")
    parser.add_argument("--cap-gb", type=float, default=4.0, help="address-space cap per process")
    args = parser.parse_args()
    base = baseline_mb(args.cap_gb)
    print(f"baseline: a process that imported the readers peaks at {base:.0f} MB")
    print(
        f"{'file':42} {'outcome':9} {'where':14} {'s to refusal':>12} {'cpu s':>6} "
        f"{'peak MB':>8} {'over base':>9}"
    )
    worst_seconds = worst_mb = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        wanted = set(args.only or [])
        small = [corpus.CORPUS / name for name in sorted(corpus.SMALL)]
        generated = corpus.generate(Path(folder), sorted(wanted) if wanted else None)
        for path in [*small, *generated]:
            if wanted and path.name not in wanted:
                continue
            outcome = measure(path, args.cap_gb)
            seconds = float(outcome.get("seconds", float("nan")))
            peak = float(outcome.get("peak_rss_mb", float("nan")))
            worst_seconds, worst_mb = max(worst_seconds, seconds), max(worst_mb, peak)
            cpu = float(outcome.get("cpu_seconds", float("nan")))
            print(
                f"{path.name:42} {outcome['outcome']:9} {_where(outcome):14} {seconds:12.3f} "
                f"{cpu:6.2f} {peak:8.0f} {peak - base:9.0f}"
            )
    verdict = "within" if worst_seconds <= TARGET_SECONDS and worst_mb <= TARGET_MB else "OVER"
    print(
        f"worst: {worst_seconds:.2f} s, {worst_mb:.0f} MB peak: {verdict} the target "
        f"({TARGET_SECONDS:.0f} s, {TARGET_MB:.0f} MB)"
    )


if __name__ == "__main__":
    main()
