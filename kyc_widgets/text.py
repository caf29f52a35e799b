"""Hostile text: the characters a case field refuses, and how hidden ones are shown.

Why: text pasted from mainframe exports, spreadsheets and web pages carries
characters nobody typed on purpose. Two kinds do harm in a KYC case:

* **Control characters** (C0 ``U+0000-U+001F``, ``DEL``, C1 ``U+0080-U+009F``,
  tab and line feed included): they are not part of a name, a team or an id;
  a spreadsheet cannot even store most of them, so the batch report of a
  campaign would fail to write.
* **Bidi embedding, override and isolate characters** (``U+202A-U+202E``,
  ``U+2066-U+2069``): they make a name *display* differently from what is
  stored (the "Trojan Source" trick), so a name that reads one way matches
  another.

:func:`clean_text` is the one rule for input: the contract models use it as a
pydantic validator on every free-text field of the create input, so the form,
the batch pre-flight (which validates with the model's own field types) and
the sandbox refuse the same characters with the same message. Characters
that scripts need stay allowed: ZERO WIDTH (NON-)JOINER in Persian and Indic
names, combining marks. Text is NFC-normalised first (:func:`nfc`), so a name
typed with a decomposed accent on one system and a composed one on another is
the same value (the derived case ids hash it the same way too).

:func:`reveal` is the one rule for display: anything invisible or
direction-changing that got in anyway (an existing case on a real API, an
ignored sheet column) is drawn as ``⟨U+202E⟩`` instead of being obeyed. Every
HTML renderer calls :func:`reveal_html`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

__all__ = [
    "FORBIDDEN_CHARACTERS",
    "FORBIDDEN_RANGES",
    "WHITESPACE",
    "WHITESPACE_RANGES",
    "character_name",
    "clean_text",
    "forbidden_character_problem",
    "marker",
    "nfc",
    "reveal",
    "reveal_html",
]

WHITESPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
    (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000),
)
"""Unicode ``White_Space``: exactly what pydantic's ``strip_whitespace`` trims.

Not ``str.strip()``'s set, which also trims U+001C..U+001F: :func:`clean_text`
trims this set too, so it never accepts (after trimming) what the published
patterns in :mod:`kyc_widgets.models` refuse.
"""

WHITESPACE = "".join(chr(c) for lo, hi in WHITESPACE_RANGES for c in range(lo, hi + 1))
"""The characters trimmed from both ends of every text value."""

FORBIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x1F), (0x7F, 0x9F),  # C0 controls, DEL, C1 controls
    (0x202A, 0x202E), (0x2066, 0x2069),  # bidi embeddings, overrides, isolates
)
"""The code points :func:`clean_text` refuses (the models publish them in their patterns)."""

FORBIDDEN_CHARACTERS = re.compile(
    "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in FORBIDDEN_RANGES) + "]"
)
"""C0 and C1 controls, ``DEL``, and the bidi embedding/override/isolate characters."""

_CONTROL_NAMES: dict[str, str] = {
    **{
        chr(code): name
        for code, name in enumerate(
            (
                "NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT",
                "END OF TRANSMISSION", "ENQUIRY", "ACKNOWLEDGE", "ALERT", "BACKSPACE",
                "CHARACTER TABULATION", "LINE FEED", "LINE TABULATION", "FORM FEED",
                "CARRIAGE RETURN", "SHIFT OUT", "SHIFT IN", "DATA LINK ESCAPE",
                "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE",
                "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE",
                "END OF TRANSMISSION BLOCK", "CANCEL", "END OF MEDIUM", "SUBSTITUTE",
                "ESCAPE", "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE",
                "INFORMATION SEPARATOR TWO", "INFORMATION SEPARATOR ONE",
            )
        )
    },
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
"""Unicode's name aliases for controls (``unicodedata.name`` has none for them)."""

_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
"""ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER: Persian and Indic names need them."""

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def nfc(text: str) -> str:
    """``text`` in Unicode NFC (composed) form; ASCII is returned as is, without the work."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def character_name(char: str) -> str:
    """``"\\u202e"`` -> ``"U+202E RIGHT-TO-LEFT OVERRIDE"``; controls get their alias."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "CONTROL CHARACTER")
    return f"U+{ord(char):04X} {name}"


def forbidden_character_problem(text: str) -> str | None:
    """What is wrong with ``text`` under the input rule, or ``None`` when nothing is.

    Names the first forbidden character and its position, counted from 1
    (``"contains U+202E RIGHT-TO-LEFT OVERRIDE at position 4"``), never the
    text itself: messages end up in logs and API answers.
    """
    if text.isprintable():  # C-level fast path: every forbidden character is non-printable
        return None
    found = FORBIDDEN_CHARACTERS.search(text)
    if found is None:
        return None
    return (
        f"contains {character_name(found.group())} at position {found.start() + 1} "
        "(control and text-direction characters are not allowed)"
    )


def clean_text(value: Any) -> Any:
    """The input rule as a pydantic ``BeforeValidator``: NFC, strip, refuse forbidden characters.

    Surrounding whitespace (:data:`WHITESPACE`, a trailing line feed from a
    paste included) is removed first, as everywhere else; what remains must hold no
    :data:`FORBIDDEN_CHARACTERS`, and positions count in that stripped text.
    Non-text values pass through for the field's own type check.
    """
    if not isinstance(value, str):
        return value
    # Inlined rather than calling nfc() and forbidden_character_problem(): the batch
    # pre-flight runs this once per distinct cell value, and a call costs as much as the work.
    text = (value if value.isascii() else unicodedata.normalize("NFC", value)).strip(WHITESPACE)
    if text.isprintable():
        return text
    problem = forbidden_character_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def marker(char: str) -> str:
    """The visible stand-in for a hidden character: ``⟨U+202E⟩``."""
    return f"⟨U+{ord(char):04X}⟩"


def _hidden(char: str) -> bool:
    return char not in _KEPT_FORMAT_CHARACTERS and unicodedata.category(char) in _HIDDEN_CATEGORIES


def reveal(text: str, *, keep_line_breaks: bool = False) -> str:
    """``text`` with every invisible or direction-changing character drawn as :func:`marker`.

    Controls, format characters (bidi overrides, isolates and marks, zero
    width space, BOM...), lone surrogates and line/paragraph separators are
    shown, not obeyed; ZWJ/ZWNJ and combining marks stay, as scripts need them.
    ``keep_line_breaks`` leaves ``\n`` alone, for multi-line text we wrote
    ourselves (support details in a ``<pre>``).
    """
    if text.isprintable():
        return text
    if keep_line_breaks:
        return "\n".join(reveal(line) for line in text.split("\n"))
    return "".join(marker(char) if _hidden(char) else char for char in text)


def reveal_html(value: object, *, keep_line_breaks: bool = False) -> str:
    """``value`` as text for HTML: :func:`reveal`, then escaped (markup stays inert)."""
    return html.escape(reveal(str(value), keep_line_breaks=keep_line_breaks))
