"""How long SchemaForm takes to build, display and validate, against baselines in the same run.

Run: ``.venv/bin/python benchmarks/bench_form.py [N]``

Two forms:

- the 15-field case form (``KycCaseCreateInput``), against the cheapest
  hand-written equivalent: a VBox of 15 ``Text`` widgets with descriptions.
  Target: "well under 100 ms" per build + display.
- a nested model of 200 fields in 10 groups (each group a nested model of 20
  fields: text, numbers, dates, choices, optional text), against a VBox of
  200 ``Text`` widgets in 10 VBoxes. Targets: build well under a second,
  validate in milliseconds. Validation is timed twice: a filled, valid form
  (``validate()`` returns the model) and the first ``validate()`` of an empty
  one (every required field gets its message and ARIA), against pydantic's
  ``model_validate`` of the same values alone.

"Display" is measured as what the kernel does when a widget is shown: the
``_repr_mimebundle_`` of the form plus serialising the state of every widget
model it created (``Widget.get_manager_state``, what a front end or "save
widget state" receives). Figures are medians; ratios are against the
baseline measured in the same run, so they hold on any machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import ipywidgets as W
from pydantic import BaseModel, Field, create_model

from kyc_widgets.form.schema_form import SchemaForm
from kyc_widgets.models import KycCaseCreateInput

GROUPS = 10
PER_GROUP = 20


def _group_model(index: int) -> type[BaseModel]:
    """One group of 20 fields of the kinds a KYC contract has."""
    fields: dict[str, Any] = {}
    for i in range(PER_GROUP):
        kind = i % 5
        name = f"field_{i:02d}"
        if kind == 0:
            fields[name] = (str, Field(min_length=1, description="Free text, required."))
        elif kind == 1:
            fields[name] = (int, Field(ge=0))
        elif kind == 2:
            fields[name] = (date, ...)
        elif kind == 3:
            fields[name] = (Literal["LOW", "MEDIUM", "HIGH"], ...)
        else:
            fields[name] = (Decimal | None, None)
    return create_model(f"Group{index}", **fields)


_GROUPS: dict[str, Any] = {f"group_{g}": (_group_model(g), ...) for g in range(GROUPS)}
BigModel: type[BaseModel] = create_model("BigModel", **_GROUPS)


def big_values() -> dict[str, Any]:
    """A valid value for every one of the 200 fields."""
    group = {}
    for i in range(PER_GROUP):
        kind = i % 5
        group[f"field_{i:02d}"] = ("text", 7, date(2024, 1, 2), "HIGH", Decimal("1.5"))[kind]
    return {f"group_{g}": dict(group) for g in range(GROUPS)}


def baseline() -> W.Widget:
    return W.VBox([W.Text(description=f"Field {i}") for i in range(15)])


def big_baseline() -> W.Widget:
    return W.VBox(
        [W.VBox([W.Text(description=f"Field {i}") for i in range(PER_GROUP)]) for _ in range(GROUPS)]
    )


def case_form() -> W.Widget:
    return SchemaForm(KycCaseCreateInput)


def big_form() -> W.Widget:
    return SchemaForm(BigModel)


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


def measure_validate(n: int) -> tuple[float, float, float, int]:
    """Median ms: validate() of the filled form, the first validate() of a fresh empty form
    (every required field gets its message and ARIA), pydantic alone; messages shown."""
    form = SchemaForm(BigModel, values=big_values())
    values = big_values()
    filled_ms, empty_ms, pydantic_ms = [], [], []
    shown = 0
    for _ in range(n):
        empty = SchemaForm(BigModel)  # not timed: each run refuses a fresh form
        t0 = time.perf_counter()
        assert form.validate() is not None
        t1 = time.perf_counter()
        assert empty.validate() is None
        t2 = time.perf_counter()
        BigModel.model_validate(values)
        t3 = time.perf_counter()
        filled_ms.append((t1 - t0) * 1000)
        empty_ms.append((t2 - t1) * 1000)
        pydantic_ms.append((t3 - t2) * 1000)
        shown = len(empty.field_errors)
    W.Widget.close_all()
    return (
        statistics.median(filled_ms), statistics.median(empty_ms), statistics.median(pydantic_ms), shown
    )


def _row(name: str, figures: tuple[float, float, int]) -> str:
    b, d, m = figures
    return f"{name:30s} build {b:8.2f} ms  display {d:8.2f} ms  total {b + d:8.2f} ms  models {m}"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    t0 = time.perf_counter()
    SchemaForm(KycCaseCreateInput)  # first build: model introspection, then cached
    first_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    SchemaForm(BigModel)
    big_first_ms = (time.perf_counter() - t0) * 1000
    measure(baseline, 3)  # warm-up
    base, form = measure(baseline, n), measure(case_form, n)
    big_n = max(3, n // 5)
    big_base, big = measure(big_baseline, big_n), measure(big_form, big_n)
    filled_ms, empty_ms, pydantic_ms, shown = measure_validate(big_n)

    print(f"runs: {n} (flat), {big_n} (200 fields); medians")
    print(f"first build (cold introspection): case form {first_ms:7.2f} ms, "
          f"200-field form {big_first_ms:7.2f} ms")
    print(_row("baseline VBox of 15 Text", base))
    print(_row("SchemaForm(case input)", form))
    print(f"  ratio to baseline: build x{form[0] / base[0]:.1f}, "
          f"build+display x{(form[0] + form[1]) / (base[0] + base[1]):.1f}; "
          f"budget {form[0] + form[1]:.1f} ms of 100 ms")
    print(_row("baseline 10 VBoxes of 20 Text", big_base))
    print(_row(f"SchemaForm({GROUPS}x{PER_GROUP} nested)", big))
    print(f"  ratio to baseline: build x{big[0] / big_base[0]:.1f}, "
          f"build+display x{(big[0] + big[1]) / (big_base[0] + big_base[1]):.1f}; "
          f"budget {big[0] + big[1]:.0f} ms of 1000 ms")
    print(f"validate, 200 fields: filled and valid {filled_ms:.2f} ms; empty, first refusal "
          f"({shown} messages shown) {empty_ms:.2f} ms; pydantic model_validate alone "
          f"{pydantic_ms:.3f} ms (filled x{filled_ms / pydantic_ms:.0f})")


if __name__ == "__main__":
    main()
