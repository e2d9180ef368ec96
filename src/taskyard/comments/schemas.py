from __future__ import annotations

from typing import Annotated, Any

from taskyard.comments.models import COMMENT_MAX_LENGTH
from taskyard.schemas import Resource, StrictInput, TextRule, Timestamp
from taskyard.users.schemas import UserRef

CommentBody = Annotated[
    str, TextRule("Body", min_length=1, max_length=COMMENT_MAX_LENGTH, multiline=True)
]


class CommentInput(StrictInput):
    body: CommentBody


class CommentOut(Resource):
    body: str
    author: UserRef
    created_at: Timestamp
    updated_at: Timestamp


def comment_out(comment: Any, author: Any) -> CommentOut:
    return CommentOut.model_validate(
        {
            "id": comment.id,
            "body": comment.body,
            "author": author,
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
        }
    )
