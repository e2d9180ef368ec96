from __future__ import annotations

from fastapi import APIRouter, Request, status

from taskyard.auth.dependencies import AuthServiceDep, CurrentPrincipal, CurrentUser
from taskyard.auth.schemas import (
    AuthPayload,
    LoginInput,
    MePayload,
    MeUpdate,
    RefreshInput,
    RegisterInput,
    TokenPair,
)
from taskyard.auth.service import IssuedTokens
from taskyard.schemas import DataEnvelope, MessageEnvelope, MessageOnly
from taskyard.users.schemas import UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


def _auth_payload(issued: IssuedTokens) -> AuthPayload:
    return AuthPayload(
        user=UserOut.model_validate(issued.user),
        token=issued.token,
        refresh_token=issued.refresh_token,
    )


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    request: Request, body: RegisterInput, service: AuthServiceDep
) -> MessageEnvelope[AuthPayload]:
    issued = await service.register(body)
    request.state.user_id = str(issued.user.id)
    return MessageEnvelope(message="User registered successfully", data=_auth_payload(issued))


@router.post("/login")
async def login(
    request: Request, body: LoginInput, service: AuthServiceDep
) -> MessageEnvelope[AuthPayload]:
    issued = await service.login(body)
    request.state.user_id = str(issued.user.id)
    return MessageEnvelope(message="Login successful", data=_auth_payload(issued))


@router.post("/refresh")
async def refresh(body: RefreshInput, service: AuthServiceDep) -> MessageEnvelope[TokenPair]:
    issued = await service.refresh(body.refresh_token)
    return MessageEnvelope(
        message="Token refreshed",
        data=TokenPair(token=issued.token, refresh_token=issued.refresh_token),
    )


@router.post("/logout")
async def logout(principal: CurrentPrincipal, service: AuthServiceDep) -> MessageOnly:
    await service.logout(principal.claims)
    return MessageOnly(message="Logged out successfully")


@router.patch("/me")
async def update_me(
    body: MeUpdate, user: CurrentUser, service: AuthServiceDep
) -> MessageEnvelope[MePayload]:
    updated = await service.update_me(user, body)
    return MessageEnvelope(
        message="Profile updated", data=MePayload(user=UserOut.model_validate(updated))
    )


@router.get("/me")
async def me(user: CurrentUser) -> DataEnvelope[MePayload]:
    return DataEnvelope(data=MePayload(user=UserOut.model_validate(user)))
