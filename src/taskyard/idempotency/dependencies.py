from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from taskyard.access_tokens import claims_in
from taskyard.db import DbSession
from taskyard.errors import ValidationFailed
from taskyard.idempotency.repository import IdempotencyRepository
from taskyard.idempotency.service import Idempotency
from taskyard.services import ServicesDep

# What clients send in practice (UUIDs, ULIDs, random tokens): printable ASCII, no spaces.
KEY_PATTERN = re.compile(r"^[!-~]{1,255}$")


def _scope(request: Request) -> str:
    claims = claims_in(request.scope)
    if claims is not None:
        return f"user:{claims.user_id}"
    return f"address:{request.client.host if request.client else 'unknown'}"


async def get_idempotency(
    request: Request,
    services: ServicesDep,
    session: DbSession,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string (a UUID): a retry with the same key and body gets "
            "the first response and writes nothing new; keys are kept 24 hours",
            json_schema_extra={"pattern": KEY_PATTERN.pattern, "minLength": 1, "maxLength": 255},
        ),
    ] = None,
) -> Idempotency:
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(
            "Idempotency-Key", "Must be 1 to 255 printable characters without spaces"
        )
    return Idempotency(
        repository=IdempotencyRepository(session),
        seal=services.response_seal,
        scope=_scope(request),
        key=key,
        method=request.method,
        path=request.url.path,
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
