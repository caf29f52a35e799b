"""Which text encoding a CSV file is in, decided without guessing wrong silently.

The files people send come from Excel's save options: "CSV UTF-8" (UTF-8
with a byte-order mark), "CSV" (the Windows code page: Windows-1252 on
Western European machines), "Unicode text" (UTF-16 with a BOM, tab-separated),
or a script's plain UTF-8. The rule, in order:

1. an ``encoding`` given by the caller is used as is (strictly);
2. a byte-order mark decides: UTF-8 (``utf-8-sig``) or UTF-16 (``utf-16``);
3. UTF-8, strictly (any non-UTF-8 byte sequence fails: UTF-8 almost never
   decodes by accident);
4. NUL bytes without a BOM mean UTF-16 without a mark: refused, asking for the encoding;
5. Windows-1252, strictly, and only when the result reads as Western
   European text (:func:`_reads_as_western`, which judges letters, not
   punctuation: smart quotes, dashes and ``€`` are fine): every byte decodes in
   Windows-1252, so a Cyrillic (Windows-1251), Central European
   (Windows-1250), Chinese or Japanese file would otherwise become
   mojibake ("Àíäðåé" for "Андрей"). Those are refused with a message
   saying to save as "CSV UTF-8" or to pass the encoding.

The encoding assumed is returned (``read_campaign`` puts it in ``df.attrs["encoding"]``).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

__all__ = ["UndecodableError", "decode_text"]

WINDOWS_WESTERN = "cp1252"

_SAVE_AS = (
    "save it from Excel as 'CSV UTF-8' (or .xlsx), or give the encoding it was saved in "
    "(for example encoding='cp1251' for Cyrillic Windows)"
)


class UndecodableError(ValueError):
    """The bytes are not text in any encoding the reader may assume."""


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """``(text, encoding assumed)`` for a CSV file's bytes (see the module docstring)."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise UndecodableError(f"Unknown encoding {encoding!r}.") from exc
        if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise UndecodableError(
                f"The file is not valid {encoding} text (byte {exc.start + 1} cannot be read)."
            ) from exc
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise UndecodableError(
            "The file looks like UTF-16 text without a byte-order mark; "
            "save it from Excel as 'CSV UTF-8' or give the encoding (encoding='utf-16-le')."
        )
    try:
        text = data.decode(WINDOWS_WESTERN)
    except UnicodeDecodeError as exc:
        raise UndecodableError(
            f"The file is neither UTF-8 nor Windows-1252 text; {_SAVE_AS}."
        ) from exc
    if not _reads_as_western(text):
        raise UndecodableError(
            "The file is not UTF-8, and read as Windows-1252 (Western European) its names "
            f"would come out garbled, so it was not read; {_SAVE_AS}."
        )
    return text, WINDOWS_WESTERN


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UndecodableError(
            f"The file starts like {encoding} text but byte {exc.start + 1} cannot be read; "
            f"{_SAVE_AS}."
        ) from exc


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_BOUNDARY = re.compile(r"[\s,;\t\"|]")
_JUDGED = 100_000
"""Words with non-ASCII characters judged at most: enough to tell, and a 100 MB file costs
no more than a small one."""
_WORD_REACH = 64
"""How far around a non-ASCII character its word is looked for (a longer word is cut)."""

_PUNCTUATION = frozenset({"Pd", "Pe", "Pf", "Pi", "Ps", "Zs"})
"""Dashes, brackets and quotes (“Nordic”, O’Neil, « », –): punctuation people type."""

_HARMLESS = frozenset("€…•™‰†‡°\u00a0")
"""Windows-1252 symbols that other Windows code pages share (bytes 0x80-0x9F keep
their meaning in Windows-1250, -1251, -1253 and -1257), so they never signal mojibake:
``Agence €uro``, ``25°C``."""

_SENTENCE_OPENERS = frozenset("¡¿")
"""Spanish ``¿Qué?``: harmless where a word starts, not inside one."""


def _reads_as_western(text: str) -> bool:
    """Heuristic: would a person see words, not mojibake, in this Windows-1252 text?

    Judged on letters, not punctuation. Western European words are mostly
    ASCII letters with some accented ones. Text from another code page read
    as Windows-1252 gives words made only of accented letters (Cyrillic,
    Greek, CJK double bytes: ``Àíäðåé``) or Latin-1 symbols stuck before a
    letter (``£ukasz``, ``Ga³kowski``, ``¯aneta`` from Polish Windows-1250).
    Smart quotes, dashes, ``€`` and ``°`` are the same in every Windows code
    page, so they count as punctuation (``“Nordic”``, ``€uro``). When at least
    a fifth of the words with non-ASCII characters look garbled, the text is
    refused.
    """
    odd = tokens = 0
    word_end = 0
    for match in _NON_ASCII.finditer(text):
        if match.start() < word_end:
            continue  # in the word judged already
        token, word_end = _word_around(text, match.start(), match.end())
        tokens += 1
        if _looks_garbled(token):
            odd += 1
        if tokens >= _JUDGED:
            break
    return tokens == 0 or odd * 5 < tokens


def _word_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The word (between separators, spaces and quotes) holding ``text[start:end]``, and its end.

    Found from the non-ASCII run outwards, so ASCII text costs nothing (the
    runs are found in C): a mostly-English 100 MB file is judged in moments.
    """
    begin = start
    floor = max(0, start - _WORD_REACH)
    while begin > floor and _BOUNDARY.match(text, begin - 1) is None:
        begin -= 1
    after = _BOUNDARY.search(text, end, end + _WORD_REACH)
    stop = after.start() if after else min(len(text), end + _WORD_REACH)
    return text[begin:stop], stop


def _looks_garbled(token: str) -> bool:
    letters = [ch for ch in token if ch.isalpha()]
    if len(letters) >= 2 and not any(ch.isascii() for ch in letters):
        return True
    for position, (ch, following) in enumerate(zip(token, token[1:])):
        if following.isalpha() and _suspicious(ch, at_start=position == 0):
            return True
    return False


def _suspicious(ch: str, *, at_start: bool) -> bool:
    """A non-letter that mojibake puts before letters (see :func:`_reads_as_western`)."""
    if ch.isascii() or ch.isalpha() or ch in _HARMLESS:
        return False
    if at_start and ch in _SENTENCE_OPENERS:
        return False
    return unicodedata.category(ch) not in _PUNCTUATION
