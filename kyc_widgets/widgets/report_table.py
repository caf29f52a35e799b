"""``ReportTable``: one page of a campaign report, with Previous/Next.

Why pages: a browser lays out a 100,000-row HTML table in many seconds and the
notebook saves all of it; an analyst reads a few hundred rows at a time anyway.
Only the rows of the page shown are turned into words and HTML
(:func:`~.report_html.readable`, :func:`~.report_html.html_table`),
so showing a page costs the same for 40 rows as for 100,000. The position
("Rows 1–200 of 100,000") is a polite live region: a screen reader hears
where Previous/Next went.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd

from kyc_widgets.widgets.report_html import html_table, readable, screen_messages

__all__ = ["PAGE_SIZE", "ReportTable"]

PAGE_SIZE = 200
"""Rows rendered at once."""


class ReportTable(W.VBox):
    """Report rows (``BatchReport.results``), ``page_size`` at a time; see :meth:`show`."""

    def __init__(self, page_size: int = PAGE_SIZE, **kwargs: Any) -> None:
        self.page_size = page_size
        self.rows: pd.DataFrame = pd.DataFrame()
        """The rows being paged through (after the status filter)."""
        self.problems: pd.DataFrame | None = None
        """The report's problems: a page's messages name the refused cells on screen."""
        self.start = 0
        """Position of the first row shown."""
        self.table = W.HTML()
        self.position = W.HTML()
        self.previous = W.Button(
            description="Previous", icon="chevron-left", tooltip="Show the previous rows",
            layout=W.Layout(width="auto"),
        )
        self.next = W.Button(
            description="Next", icon="chevron-right", tooltip="Show the next rows",
            layout=W.Layout(width="auto"),
        )
        self.previous.on_click(lambda _b: self.turn(-1))
        self.next.on_click(lambda _b: self.turn(1))
        self.position.layout.margin = "0 0.8em"
        self.pager = W.HBox(
            [self.previous, self.position, self.next],
            layout=W.Layout(display="none", align_items="center"),
        )
        super().__init__([self.table, self.pager], **kwargs)
        self.add_class("kyc-report-table")

    @property
    def value(self) -> str:
        """The HTML of the page shown."""
        return str(self.table.value)

    def show(
        self,
        results: pd.DataFrame,
        status: str | None = None,
        *,
        problems: pd.DataFrame | None = None,
    ) -> None:
        """Page through ``results`` (only the rows with ``status`` when given), from the first.

        With the report's ``problems``, the messages shown name the refused cells
        (:func:`~.report_html.screen_messages`: on screen only, never in a file).
        """
        self.rows = results if status is None else results[results["status"] == status]
        self.problems = problems
        self.start = 0
        self._draw()

    def turn(self, pages: int) -> None:
        """Move ``pages`` pages on (negative: back), staying within the rows."""
        last = max(0, (len(self.rows) - 1) // self.page_size * self.page_size)
        start = min(max(0, self.start + pages * self.page_size), last)
        if start != self.start:
            self.start = start
            self._draw()

    @property
    def position_text(self) -> str:
        """"Rows 1–200 of 100,000" (what the pager says)."""
        total = len(self.rows)
        if not total:
            return "No rows"
        stop = min(self.start + self.page_size, total)
        return f"Rows {self.start + 1:,}–{stop:,} of {total:,}"

    def _draw(self) -> None:
        page = self.rows.iloc[self.start : self.start + self.page_size]
        if self.problems is not None and "error_message" in page.columns:
            page = page.assign(
                error_message=screen_messages(self.problems, page.index).fillna(
                    page["error_message"]
                )
            )
        table = html_table(readable(page.drop(columns=["source_index"], errors="ignore")))
        # A wide report scrolls sideways inside its own region, which keyboard users can
        # reach (Tab) and scroll with the arrow keys (WCAG 2.1.1; axe scrollable-region-focusable).
        self.table.value = (
            '<div class="kyc-report-scroll" tabindex="0" role="region" '
            f'aria-label="Campaign report, {self.position_text}" '
            'style="overflow-x:auto; max-width:100%">' + table + "</div>"
        )
        self.position.value = f'<span role="status">{self.position_text}</span>'
        self.previous.disabled = self.start == 0
        self.next.disabled = self.start + self.page_size >= len(self.rows)
        self.pager.layout.display = None if len(self.rows) > self.page_size else "none"
