from __future__ import annotations

from typing import Annotated

from pydantic import Field

from taskyard.schemas import PatchInput, Resource, StrictInput, TextRule, Timestamp

LabelName = Annotated[str, TextRule("Name", min_length=1, max_length=50)]
Color = Annotated[str, Field(pattern="^#[0-9a-fA-F]{6}$", description="`#rrggbb`")]


class LabelCreate(StrictInput):
    name: LabelName
    color: Color


class LabelUpdate(PatchInput):
    name: LabelName | None = None
    color: Color | None = None


class LabelOut(Resource):
    name: str
    color: str
    created_at: Timestamp
