"""`/api/v1/auth/tokens`: a person's personal API tokens. Only a login manages them: a token's
scopes never reach these routes (`identity.scopes.scope_needed`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from taskyard.api_tokens.dependencies import ApiTokenServiceDep
from taskyard.api_tokens.schemas import TokenCreate, TokenCreated, TokenOut
from taskyard.api_tokens.service import token_out
from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import DataEnvelope, MessageEnvelope, MessageOnly

router = APIRouter(prefix="/auth/tokens", tags=["auth"])
TokenId = Annotated[uuid.UUID, Path(alias="id", description="The token's id")]


@router.post("", status_code=status.HTTP_201_CREATED, responses=documented_errors(400, 401, 403))
async def create_token(
    body: TokenCreate, principal: CurrentPrincipal, service: ApiTokenServiceDep
) -> MessageEnvelope[TokenCreated]:
    token, secret = await service.issue(principal, body)
    created = TokenCreated.model_validate(token_out(token, {"token": secret}))
    return MessageEnvelope(
        message="Token created: copy it now, it won't be shown again", data=created
    )


@router.get("", responses=documented_errors(401, 403))
async def list_tokens(
    principal: CurrentPrincipal, service: ApiTokenServiceDep
) -> DataEnvelope[list[TokenOut]]:
    tokens = await service.of(principal)
    return DataEnvelope(data=[TokenOut.model_validate(token_out(token)) for token in tokens])


@router.delete("/{id}", responses=documented_errors(400, 401, 403, 404))
async def revoke_token(
    token_id: TokenId, principal: CurrentPrincipal, service: ApiTokenServiceDep
) -> MessageOnly:
    await service.revoke(principal, token_id)
    return MessageOnly(message="Token revoked")
