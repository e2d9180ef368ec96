"""Wire shapes shared by every domain: camelCase models, timestamps, envelopes and paging."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema, to_json
from starlette.responses import Response

from taskyard.errors import MAX_REPORTED_ERRORS


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the microsecond: what is stored is exactly what is shown,
    so newest-first order can be checked from the JSON alone. JavaScript's Date parses it."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")
]


# Text people type. What the OpenAPI document says about it is exactly what is checked: a length
# in characters as sent, no control characters, and at least the minimum length in characters
# that show (not white space or format characters), once surrounding white space is trimmed off.
# Unpaired UTF-16 surrogates (JSON can carry them, no encoding can store them) are refused too,
# by every request model; no pattern says so, as the regex engines that read the document (ECMA,
# Rust's) can't name them.
_SINGLE_LINE_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u2028\u2029"  # CR/LF would reach mail headers
_MULTILINE_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # tabs and newlines may stay
# Characters that show nothing, as Unicode classes them: Zs and Cf here; Zl and Zp (U+2028,
# U+2029) and Cc are forbidden, but for the tab and line breaks multi-line text may keep. Kept
# as ranges: computing them from `unicodedata` costs a third of a second at import, so
# tests/test_schemas.py checks that they agree with it.
INVISIBLE_RANGES = (
    r"\x20\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u1680\u180e"
    r"\u2000-\u200f\u202a-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
)
_MULTILINE_INVISIBLE = r"\t\n\r\u2028\u2029"
UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_pattern(forbidden: str, invisible: str, min_length: int) -> str:
    """Allowed characters only, and among them at least `min_length` that show."""
    if min_length == 0:
        return f"^[^{forbidden}]*$"
    visible = f"[^{forbidden}{invisible}]"
    return f"^(?:[{invisible}]*{visible}){{{min_length}}}[^{forbidden}]*$"


def refuse_unpaired_surrogates(value: Any) -> Any:
    """Any text in `value` (nested too) that no encoding can store is bad input, not a 500."""
    if isinstance(value, str):
        if UNPAIRED_SURROGATE.search(value):
            raise ValueError("Must be valid Unicode text (no unpaired surrogates)")
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_unpaired_surrogates(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unpaired_surrogates(key)
            refuse_unpaired_surrogates(item)
    return value


@dataclass(frozen=True, slots=True)
class TextRule:
    """`Annotated[str, TextRule(...)]`: a text field, named `label` in error messages, trimmed
    once it is valid."""

    label: str
    min_length: int
    max_length: int
    multiline: bool = False

    @property
    def _forbidden(self) -> str:
        return _MULTILINE_FORBIDDEN if self.multiline else _SINGLE_LINE_FORBIDDEN

    @property
    def _invisible(self) -> str:
        """The characters that show nothing and this field still allows."""
        return INVISIBLE_RANGES + (_MULTILINE_INVISIBLE if self.multiline else "")

    def check(self, value: str) -> str:
        if UNPAIRED_SURROGATE.search(value):
            raise ValueError(f"{self.label} must be valid Unicode text (no unpaired surrogates)")
        if re.search(f"[{self._forbidden}]", value):
            raise ValueError(f"{self.label} must not contain control characters")
        if len(value) > self.max_length:
            raise ValueError(f"{self.label} must be at most {self.max_length} characters")
        trimmed = value.strip()
        if self.min_length and len(_INVISIBLE.sub("", trimmed)) < self.min_length:
            raise ValueError(
                f"{self.label} must be at least {self.min_length} characters"
                + (" that show" if len(trimmed) >= self.min_length else "")
            )
        return trimmed

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        json_schema["pattern"] = _text_pattern(self._forbidden, self._invisible, self.min_length)
        if self.min_length:
            json_schema["minLength"] = self.min_length
        return json_schema


_INVISIBLE = re.compile(f"[{INVISIBLE_RANGES}{_MULTILINE_INVISIBLE}]")


class APIModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(APIModel):
    """Parsed from a request. Unknown fields are dropped; text may not carry NUL, which
    PostgreSQL cannot store, nor unpaired surrogates, which no encoding can."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_surrogates(cls, value: Any) -> Any:
        return refuse_unpaired_surrogates(value)

    @field_validator("*")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Must not contain NUL characters")
        return value


def _document_input(schema: dict[str, Any], model: type[Any]) -> None:
    """Let the JSON schema say what the validators enforce (see `StrictInput.document`)."""
    model.document(schema)


class StrictInput(RequestModel):
    """A request body that refuses fields it does not know (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_input)
    # Fields that may not be sent together (by their names on the wire).
    exclusive_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def document(cls, schema: dict[str, Any]) -> None:
        if cls.exclusive_fields:
            schema["not"] = {"required": list(cls.exclusive_fields)}

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        """Only the first unknown fields are validated (and so reported): enough to refuse, and
        a body of 90,000 unknown keys doesn't cost a second of validation."""
        if not isinstance(data, dict) or len(data) <= MAX_REPORTED_ERRORS:
            return data
        known = set(cls.model_fields) | {
            field.alias for field in cls.model_fields.values() if field.alias
        }
        kept: dict[str, Any] = {}
        unknown = 0
        for key, value in data.items():
            if key not in known:
                unknown += 1
                if unknown > MAX_REPORTED_ERRORS:
                    continue
            kept[key] = value
        return kept


class PatchInput(StrictInput):
    """A partial update: absent fields stay; null is refused unless the field may be cleared."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError("This field cannot be null")
        return value

    @model_validator(mode="after")
    def _require_a_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Provide at least one field to update")
        return self

    @classmethod
    def document(cls, schema: dict[str, Any]) -> None:
        """Absent fields stay as they are, so none is null unless it can be cleared, and at
        least one must be sent."""
        super().document(schema)
        schema["minProperties"] = 1
        for name, field in cls.model_fields.items():
            prop = schema.get("properties", {}).get(field.alias or name)
            if prop is None:
                continue
            prop.pop("default", None)
            if name in cls.nullable_fields or "anyOf" not in prop:
                continue
            kinds = [kind for kind in prop["anyOf"] if kind.get("type") != "null"]
            if len(kinds) == 1:
                del prop["anyOf"]
                prop.update(kinds[0])
            else:
                prop["anyOf"] = kinds

    def changes(self) -> dict[str, Any]:
        """The fields the client actually sent, by their Python names."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Resource(APIModel):
    """Read from an ORM object; carries its id twice: `id`, and `_id` as the original clients
    read it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mongo_id: uuid.UUID = Field(validation_alias="id", serialization_alias="_id")


T = TypeVar("T")


class DataEnvelope(BaseModel, Generic[T]):
    success: bool = True
    data: T


class MessageEnvelope(BaseModel, Generic[T]):
    success: bool = True
    message: str
    data: T


class MessageOnly(BaseModel):
    success: bool = True
    message: str


class ListEnvelope(BaseModel, Generic[T]):
    success: bool = True
    count: int
    total: int
    page: int | None  # None when the page was reached by cursor
    pages: int
    data: list[T]

    @classmethod
    def build(cls, items: list[T], *, total: int, page: int | None, limit: int) -> Self:
        return cls(
            count=len(items),
            total=total,
            page=page,
            pages=math.ceil(total / limit) if total else 0,
            data=items,
        )


class CursorListEnvelope(ListEnvelope[T], Generic[T]):
    """A list that can also be walked by keyset: `nextCursor` is null on the last page."""

    next_cursor: str | None = Field(default=None, serialization_alias="nextCursor")

    @staticmethod
    def json_bytes(
        items: list[dict[str, Any]],
        *,
        total: int,
        page: int | None,
        limit: int,
        next_cursor: str | None,
    ) -> bytes:
        """The envelope's JSON, built from items already in wire shape (no model per item)."""
        return to_json(
            {
                "success": True,
                "count": len(items),
                "total": total,
                "page": page,
                "pages": math.ceil(total / limit) if total else 0,
                "data": items,
                "nextCursor": next_cursor,
            }
        )


MAX_PAGE_SIZE = 100
# Keeps OFFSET inside 64-bit range on every backend; deeper paging is what cursors are for.
MAX_PAGE = 1_000_000


class PageQuery(RequestModel):
    """`page` and `limit`, shared by every list endpoint; unknown parameters are ignored."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    limit: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def envelope_response(
    envelope: BaseModel, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    """An envelope as the JSON FastAPI would send for it (by alias), as a finished response: for
    a route that must hold the exact bytes it answers with (an idempotent replay stores them)."""
    return Response(
        envelope.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
