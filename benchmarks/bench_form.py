"""How long building and displaying the 15-field case form takes, against a baseline.

Run: ``.venv/bin/python benchmarks/bench_form.py [N]``

"Display" is measured as what the kernel does when a widget is shown: the
``_repr_mimebundle_`` of the form plus serialising the state of every widget
model it created (``Widget.get_manager_state``, what a front end or "save
widget state" receives). The baseline is the cheapest hand-written equivalent
measured in the same run: a VBox of 15 ``Text`` widgets with descriptions.
The target is "well under 100 ms" per build + display.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import ipywidgets as W

from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput


def baseline() -> W.Widget:
    return W.VBox([W.Text(description=f"Field {i}") for i in range(15)])


def case_form() -> W.Widget:
    return SchemaForm(KycCaseCreateInput)


def measure(build: Callable[[], W.Widget], n: int) -> tuple[float, float, int]:
    """Median ms to build, median ms to display (bundle + state), widget models per build."""
    builds: list[float] = []
    displays: list[float] = []
    models = 0
    for _ in range(n):
        W.Widget.close_all()
        t0 = time.perf_counter()
        widget = build()
        t1 = time.perf_counter()
        widget._repr_mimebundle_()
        state = W.Widget.get_manager_state(drop_defaults=True)
        t2 = time.perf_counter()
        builds.append((t1 - t0) * 1000)
        displays.append((t2 - t1) * 1000)
        models = len(state["state"])
    W.Widget.close_all()
    return statistics.median(builds), statistics.median(displays), models


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    t0 = time.perf_counter()
    SchemaForm(KycCaseCreateInput)  # first build: model introspection, then cached
    first_ms = (time.perf_counter() - t0) * 1000
    measure(baseline, 3)  # warm-up
    base = measure(baseline, n)
    form = measure(case_form, n)
    print(f"runs per case: {n} (medians)")
    print(f"first SchemaForm build (cold introspection): {first_ms:7.2f} ms")
    for name, (b, d, m) in (("baseline VBox of 15 Text", base), ("SchemaForm(case input)", form)):
        print(
            f"{name:26s} build {b:7.2f} ms  display {d:7.2f} ms  total {b + d:7.2f} ms  models {m}"
        )
    print(
        f"ratio SchemaForm / baseline: build x{form[0] / base[0]:.1f}, "
        f"build+display x{(form[0] + form[1]) / (base[0] + base[1]):.1f}"
    )
    print(f"budget: {form[0] + form[1]:.1f} ms of 100 ms")


if __name__ == "__main__":
    main()
