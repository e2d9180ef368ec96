from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import JSONResponse

from taskyard.auth.challenge import SOLUTION_HEADER
from taskyard.auth.cookies import (
    clear_refresh_cookie,
    refresh_cookie,
    require_allowed_origin,
    set_refresh_cookie,
)
from taskyard.auth.dependencies import AuthServiceDep, CurrentUser
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
from taskyard.errors import Unauthorized, documented_errors
from taskyard.idempotency.dependencies import IdempotencyDep
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import DataEnvelope, MessageEnvelope, MessageOnly, envelope_response
from taskyard.services import ServicesDep, services_of
from taskyard.users.schemas import UserOut

router = APIRouter(prefix="/auth", tags=["auth"])
keys_router = APIRouter(tags=["auth"])
JWKS_PATH = "/.well-known/jwks.json"


ChallengeSolution = Annotated[
    str | None,
    Header(
        alias=SOLUTION_HEADER,
        description="A solved challenge (GET /auth/challenge), needed only after repeated "
        "failed sign-ins for this email or from this address",
    ),
]


def client_ip(request: Request) -> str:
    """The caller's address, as the proxy layer established it (trusted proxies only)."""
    return request.client.host if request.client else "unknown"


def _remember_refresh_token(request: Request, response: Response, issued: IssuedTokens) -> None:
    max_age = services_of(request).settings.refresh_token_ttl
    set_refresh_cookie(response, request, issued.refresh_token, max_age)


def _auth_payload(issued: IssuedTokens) -> AuthPayload:
    return AuthPayload(
        user=UserOut.model_validate(issued.user),
        token=issued.token,
        refresh_token=issued.refresh_token,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageEnvelope[AuthPayload],
    responses=documented_errors(400, 409, 413, 422),
)
async def register(
    request: Request,
    body: RegisterInput,
    service: AuthServiceDep,
    idempotency: IdempotencyDep,
    solution: ChallengeSolution = None,
) -> Response:
    async def sign_up() -> Response:
        issued = await service.register(body, client_ip=client_ip(request), solution=solution)
        request.state.user_id = str(issued.user.id)
        response = envelope_response(
            MessageEnvelope(message="User registered successfully", data=_auth_payload(issued)),
            status.HTTP_201_CREATED,
        )
        _remember_refresh_token(request, response, issued)
        return response

    return await idempotency.run(body, sign_up)


@router.get("/challenge", response_class=JSONResponse)
async def challenge(services: ServicesDep) -> JSONResponse:
    """A proof-of-work challenge (ALTCHA), as the widget reads it: the bare challenge, not the
    envelope. Solve it and send the solution in X-Altcha when login or register ask for one."""
    return JSONResponse(
        services.require_accounts().challenge_gate.issue(), headers={"Cache-Control": "no-store"}
    )


@router.post("/login", responses=documented_errors(400, 401, 413))
async def login(
    request: Request,
    response: Response,
    body: LoginInput,
    service: AuthServiceDep,
    solution: ChallengeSolution = None,
) -> MessageEnvelope[AuthPayload]:
    issued = await service.login(body, client_ip=client_ip(request), solution=solution)
    request.state.user_id = str(issued.user.id)
    _remember_refresh_token(request, response, issued)
    return MessageEnvelope(message="Login successful", data=_auth_payload(issued))


@router.post("/refresh", responses=documented_errors(400, 401, 403, 413))
async def refresh(
    request: Request,
    response: Response,
    service: AuthServiceDep,
    body: RefreshInput | None = None,
) -> MessageEnvelope[TokenPair]:
    """The token comes in the body (original clients) or in the HttpOnly cookie (web client)."""
    token = body.refresh_token if body is not None else None
    if token is None:
        token = refresh_cookie(request)
        if token is None:
            raise Unauthorized("Not authorized, no refresh token")
        require_allowed_origin(request, services_of(request).settings.allowed_origins)
    issued = await service.refresh(token)
    _remember_refresh_token(request, response, issued)
    return MessageEnvelope(
        message="Token refreshed",
        data=TokenPair(token=issued.token, refresh_token=issued.refresh_token),
    )


@router.post("/logout", responses=documented_errors(401))
async def logout(
    request: Request, response: Response, principal: CurrentPrincipal, service: AuthServiceDep
) -> MessageOnly:
    await service.logout(principal)
    clear_refresh_cookie(response, request)
    return MessageOnly(message="Logged out successfully")


@router.patch("/me", responses=documented_errors(400, 401, 413))
async def update_me(
    body: MeUpdate, user: CurrentUser, service: AuthServiceDep
) -> MessageEnvelope[MePayload]:
    updated = await service.update_me(user, body)
    return MessageEnvelope(
        message="Profile updated", data=MePayload(user=UserOut.model_validate(updated))
    )


@router.get("/me", responses=documented_errors(401))
async def me(user: CurrentUser) -> DataEnvelope[MePayload]:
    return DataEnvelope(data=MePayload(user=UserOut.model_validate(user)))


@keys_router.get(JWKS_PATH, summary="The public keys that verify access tokens (JWKS)")
async def jwks(services: ServicesDep, response: Response) -> dict[str, list[dict[str, str]]]:
    """Served when tokens are signed with Ed25519 keys; a verifier that meets a token naming a
    key it doesn't know fetches this again."""
    # Short: a rotated-in key is published `signing_key_lead_seconds` before it signs.
    response.headers["Cache-Control"] = "public, max-age=5"
    keyring = services.require_accounts().keyring
    assert keyring is not None  # this route is wired only with a key ring
    document: dict[str, list[dict[str, str]]] = await keyring.jwks()
    return document
