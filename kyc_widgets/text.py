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
* **Line and paragraph separators** (``U+2028``, ``U+2029``): line breaks
  like the line feed, refused inside a value (trimmed at its ends, as all
  whitespace is).

Identifiers (an external case id) are stricter: nothing invisible at all.
:data:`IDENTIFIER_INVISIBLE_RANGES` adds Unicode's default-ignorable code
points (:data:`DEFAULT_IGNORABLE_RANGES`: zero-width characters, variation
selectors, Hangul fillers, tags...) and blank-looking symbols (the braille
blank) to whitespace, controls and format characters: ``SPOOF-1`` followed by
U+3164 HANGUL FILLER would otherwise be a second case that looks like the
first. :func:`identifier_problem` names the first one found.

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
    "BLANK_LOOKING_RANGES",
    "DEFAULT_IGNORABLE_RANGES",
    "FORBIDDEN_CHARACTERS",
    "FORBIDDEN_RANGES",
    "FORMAT_RANGES",
    "IDENTIFIER_INVISIBLE_RANGES",
    "WHITESPACE",
    "WHITESPACE_RANGES",
    "character_name",
    "clean_text",
    "forbidden_character_problem",
    "identifier_problem",
    "is_utf8",
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
    (0x2028, 0x2029),  # LINE SEPARATOR, PARAGRAPH SEPARATOR: line breaks
    (0x202A, 0x202E), (0x2066, 0x2069),  # bidi embeddings, overrides, isolates
)
"""The code points :func:`clean_text` refuses (the models publish them in their patterns)."""

FORBIDDEN_CHARACTERS = re.compile(
    "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in FORBIDDEN_RANGES) + "]"
)
"""C0 and C1 controls, ``DEL``, line and paragraph separators, and the bidi
embedding/override/isolate characters."""

FORMAT_RANGES: tuple[tuple[int, int], ...] = (
    (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F),
    (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
"""Format characters (general category ``Cf``, Unicode 15.1): soft hyphen, zero-width and
joiner characters, bidi marks and controls, BOM, interlinear annotation, tags..."""

DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..AA
    (0x180B, 0x180D),  # MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180E, 0x180E),  # MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),  # MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x2064),  # WORD JOINER..INVISIBLE PLUS
    (0x2065, 0x2065),  # <reserved>
    (0x2066, 0x206F),  # LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE (byte-order mark)
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # <reserved>
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0000),  # <reserved>
    (0xE0001, 0xE0001),  # LANGUAGE TAG
    (0xE0002, 0xE001F),  # <reserved>
    (0xE0020, 0xE007F),  # TAG SPACE..CANCEL TAG
    (0xE0080, 0xE00FF),  # <reserved>
    (0xE0100, 0xE01EF),  # VARIATION SELECTOR-17..256
    (0xE01F0, 0xE0FFF),  # <reserved>
)
"""Unicode's ``Default_Ignorable_Code_Point`` property: what a renderer draws as nothing.

Copied from ``DerivedCoreProperties.txt`` (Unicode 15.1; the list is the same
since 14.0 added U+180F), because Python's :mod:`unicodedata` has categories
but not this property. Half of it is not a format character: the Hangul
fillers are letters (``Lo``), the variation selectors, U+034F and the Khmer
inherent vowels are marks (``Mn``), so a check by category misses them. The
reserved code points the standard lists are kept, so a character assigned
there later is refused already (``tests/test_hostile_files_ids.py`` checks the
table against :mod:`unicodedata`)."""

BLANK_LOOKING_RANGES: tuple[tuple[int, int], ...] = (
    (0x2800, 0x2800),  # BRAILLE PATTERN BLANK: a symbol (So) drawn as an empty cell
)
"""Visible-width characters drawn as empty space that are neither whitespace nor
default-ignorable: they make an id look like another as well."""

IDENTIFIER_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    *WHITESPACE_RANGES,
    (0x00, 0x1F), (0x7F, 0x9F),  # controls
    (0x2028, 0x2029),  # line and paragraph separators
    (0xD800, 0xDFFF),  # lone surrogates
    *FORMAT_RANGES,
    *DEFAULT_IGNORABLE_RANGES,
    *BLANK_LOOKING_RANGES,
)
"""What an identifier must not hold: whitespace, controls, surrogates, format characters,
default-ignorable code points and blank-looking symbols (see the module docstring)."""

_IDENTIFIER_INVISIBLE = re.compile(
    "["
    + "".join(
        f"{chr(lo)}-{chr(hi)}" if lo != hi else re.escape(chr(lo))
        for lo, hi in IDENTIFIER_INVISIBLE_RANGES
    )
    + "]"
)

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


def is_utf8(text: str) -> bool:
    """False for a text holding a lone surrogate (``"\\ud800"``, which JSON can spell):
    such a text is not UTF-8, and neither Arrow nor a file written as UTF-8 can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
        "(control, line-break and text-direction characters are not allowed)"
    )


def identifier_problem(text: str) -> str | None:
    """The first invisible character of an identifier, named with its position; else ``None``.

    ``"SPOOF-1\u3164"`` -> ``"contains U+3164 HANGUL FILLER at position 8"``.
    Never the text itself: messages end up in logs and API answers.
    """
    if text.isascii() and text.isprintable() and " " not in text:
        return None  # most ids: C-level checks only
    found = _IDENTIFIER_INVISIBLE.search(text)
    if found is None:
        return None
    return f"contains {character_name(found.group())} at position {found.start() + 1}"


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
