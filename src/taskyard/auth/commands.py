"""The account commands: `create-admin` (through sign-up's own code) and `rotate-keys`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import timedelta

from pydantic import BaseModel, ValidationError

from taskyard.commands import (
    BuildServices,
    Command,
    CommandError,
    load_settings,
    migrate_embedded,
    require_services,
)
from taskyard.config import Settings
from taskyard.db import Database
from taskyard.identity.roles import Role
from taskyard.users.models import User
from taskyard.users.repository import EmailTaken
from taskyard.users.schemas import Email, Password, PersonName

ADMIN_PASSWORD_VARIABLE = "TASKYARD_ADMIN_PASSWORD"  # noqa: S105 - a variable name


class _AdminInput(BaseModel):
    email: Email
    name: PersonName
    password: Password


def _admin_password(given: str | None) -> str:
    password = given or os.environ.get(ADMIN_PASSWORD_VARIABLE)
    if password:
        return password
    if not sys.stdin.isatty():
        raise CommandError(
            f"no password: pass --password, set {ADMIN_PASSWORD_VARIABLE}, or run in a terminal"
        )
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords do not match")
    return password


async def _create_admin(
    settings: Settings, admin: _AdminInput, build_services: BuildServices
) -> User:
    from taskyard.auth.dependencies import auth_service_for

    services = build_services(settings)
    try:
        async with services.database.session(write=True) as session:
            # Sign-up's own code: the auth service tells the task service of the new admin.
            user = await auth_service_for(services, session).create_account(
                admin.name, admin.email, admin.password, Role.ADMIN
            )
            await session.commit()
            return user
    finally:
        await services.aclose()


def create_admin(args: argparse.Namespace, build_services: BuildServices) -> None:
    settings = load_settings()
    require_services(settings)
    migrate_embedded(settings)
    try:
        admin = _AdminInput(
            email=args.email, name=args.name, password=_admin_password(args.password)
        )
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
        raise CommandError(problems) from error
    try:
        user = asyncio.run(_create_admin(settings, admin, build_services))
    except EmailTaken as error:
        raise CommandError(f"a user with the email {admin.email} already exists") from error
    print(f"created admin {user.email} ({user.id})")


def _admin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True, help="the admin's sign-in email")
    parser.add_argument("--name", required=True, help="the admin's display name")
    parser.add_argument(
        "--password", help=f"the password; else {ADMIN_PASSWORD_VARIABLE}, else a prompt"
    )


def rotate_keys(_args: argparse.Namespace, _build_services: BuildServices) -> None:
    settings = load_settings()
    require_services(settings)
    migrate_embedded(settings)
    if settings.jwt_signing != "ed25519":
        raise CommandError(
            "TASKYARD_JWT_SIGNING is not ed25519: tokens are signed with the secret key, "
            "which is rotated by changing TASKYARD_SECRET_KEY"
        )

    from taskyard.auth.keys import Rotation, rotate

    async def run() -> Rotation:
        database = Database(settings)
        try:
            return await rotate(
                database,
                settings.signing_key,
                lead=timedelta(seconds=settings.signing_key_lead_seconds),
                token_ttl=timedelta(seconds=settings.access_token_ttl),
            )
        finally:
            await database.dispose()

    rotation = asyncio.run(run())
    print(
        f"new signing key {rotation.kid}: published now, signs from "
        f"{rotation.signs_from.isoformat()}; the keys before it stay published until "
        f"{rotation.previous_retire_after.isoformat()}"
    )


COMMANDS = [
    Command(
        "create-admin",
        "create an admin account",
        create_admin,
        reads=("process", "database", "passwords", "tokens"),
        options=_admin_options,
        variables={ADMIN_PASSWORD_VARIABLE: "the password, when --password is not given"},
    ),
    Command(
        "rotate-keys",
        "start a new Ed25519 signing key (TASKYARD_JWT_SIGNING=ed25519)",
        rotate_keys,
        reads=("process", "database", "tokens"),
    ),
]
