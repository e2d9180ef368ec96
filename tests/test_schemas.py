"""The shared text rule: what the document says is what validation does, for every character."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from taskyard.schemas import _INVISIBLE, INVISIBLE_RANGES
from taskyard.tasks.schemas import Description, Title
from taskyard.users.schemas import PersonName

SHOW_NOTHING = {"Cf", "Zs", "Zl", "Zp"}


def test_the_invisible_ranges_are_unicode_s_own() -> None:
    """Kept as ranges for speed; they must be exactly Python's Unicode tables (a new Python
    with a newer Unicode fails here: regenerate them)."""
    listed = {
        chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(f"[{INVISIBLE_RANGES}]", chr(c))
    }
    expected = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in SHOW_NOTHING and chr(c) not in "\u2028\u2029"
    }
    assert listed == expected
    assert not _INVISIBLE.search("visible✓漢字")


def errors_of(adapter: TypeAdapter[Any], value: str) -> list[str]:
    try:
        adapter.validate_python(value)
    except ValidationError as error:
        return [str(entry["msg"]).removeprefix("Value error, ") for entry in error.errors()]
    return []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Buy milk", None),
        ("  ab c  ", None),
        ("a\u200bbc", None),
        ("\u200b\u200b\u200b", "Title must be at least 3 characters that show"),
        ("a b", "Title must be at least 3 characters that show"),
        ("\u00a0\u3000\ufeffab\u2060", "Title must be at least 3 characters that show"),
        ("ab", "Title must be at least 3 characters"),
        ("ab\ud800c", "Title must be valid Unicode text (no unpaired surrogates)"),
    ],
)
def test_a_title_needs_three_characters_that_show(text: str, problem: str | None) -> None:
    found = errors_of(TypeAdapter(Title), text)
    assert found == ([] if problem is None else [problem])


def test_the_documented_pattern_agrees_with_validation_character_by_character() -> None:
    """Every code point that shows nothing, and a sample of those that do, padded to the
    minimum: accepted by the OpenAPI pattern exactly when validation accepts it."""
    candidates = [chr(c) for c in range(0x3000)] + [chr(c) for c in range(0xE0000, 0xE0080)]
    cases = [(Title, 3), (PersonName, 2), (Description, 0)]
    for annotated, minimum in cases:
        adapter: TypeAdapter[Any] = TypeAdapter(annotated)
        # JSON Schema's `$` (ECMA-262) ends the text; Python's also matches before a last "\n".
        pattern = re.compile(adapter.json_schema()["pattern"].replace("$", r"\Z"))
        for character in candidates:
            for text in (character * max(minimum, 1), "ab" + character, character + "xyz"):
                if unicodedata.category(character) == "Cs":
                    continue  # refused before the pattern's rule applies; tested above
                valid = not errors_of(adapter, text)
                assert bool(pattern.search(text)) == valid, (annotated, repr(text))
