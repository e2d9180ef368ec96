"""A board's order: each task's `position` is a fractional-indexing key, so a move between two
tasks writes one row, the moved one's. Keys get a few random characters at the end, so that two
moves into the same gap at once (or two tasks created in the same microsecond) almost never
compute the same key; a unique index on (project, position) makes "almost" never."""

from __future__ import annotations

import secrets
import time

from fractional_indexing import BASE_62_DIGITS, generate_key_between

POSITION_MAX_LENGTH = 64
_DIGITS: str = BASE_62_DIGITS
# A key's integer part: "i" and nine digits, which count microseconds since 1970 until 2397.
_INTEGER_HEAD, _INTEGER_DIGITS = "i", 9


def _jitter() -> str:
    """Three random digits; a key's fraction may not end in "0"."""
    return "".join(secrets.choice(_DIGITS) for _ in range(2)) + secrets.choice(_DIGITS[1:])


def key_for_now() -> str:
    """A new task's place: after every task made before it (its column's end, as made)."""
    moment, digits = time.time_ns() // 1000, []
    for _ in range(_INTEGER_DIGITS):
        moment, digit = divmod(moment, len(_DIGITS))
        digits.append(_DIGITS[digit])
    return _INTEGER_HEAD + "".join(reversed(digits)) + _jitter()


def key_between(after: str | None, before: str | None) -> str:
    """A key strictly between `after` and `before` (None: no bound on that side)."""
    key: str = generate_key_between(after, before)
    jittered = key + _jitter()
    # The jitter keeps the order unless the key is a prefix of `before`; then go without.
    if before is None or jittered < before:
        return jittered
    return key


def is_key(value: object) -> bool:
    """Whether `value` could be a position (a cursor's key is checked against it)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= POSITION_MAX_LENGTH
        and all(character in _DIGITS for character in value)
    )
