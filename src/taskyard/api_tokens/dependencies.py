from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.api_tokens.repository import ApiTokenRepository
from taskyard.api_tokens.service import ApiTokenService
from taskyard.auth.repository import AuthRepository
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServicesDep


async def get_api_token_service(services: ServicesDep, session: DbSession) -> ApiTokenService:
    return ApiTokenService(
        tokens=ApiTokenRepository(session),
        auth=AuthRepository(session),
        identity=services.identity,
        # A revoked login outlives its access tokens in the store; the database answers after.
        revoked_ttl_seconds=services.require_accounts().tokens.access_ttl_seconds,
        feed=services.account_feed(EventPublisher(session, services.wake_relays)),
    )


ApiTokenServiceDep = Annotated[ApiTokenService, Depends(get_api_token_service)]
