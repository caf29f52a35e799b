"""``TextEnum``: the one base of this project's ``str`` enums (statuses, modes, codes).

Why one base: a status that is data (an enum member) must still read as the
plain word wherever text is expected (a CSV cell, a JSON value, an f-string,
a dict key that scripts look up with ``"created"``). Python 3.11's
``enum.StrEnum`` does most of this, but the package supports 3.10, and even
``StrEnum`` hashes a member by its *name*, so ``{"created": 1}[CREATED]``
fails. Each enum wrote the same three methods; here they are once.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["TextEnum"]


class TextEnum(str, Enum):
    """A ``str`` enum that equals, hashes, prints and formats as its value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    def __hash__(self) -> int:  # equal to its value, so it must hash like it too
        return hash(self.value)
