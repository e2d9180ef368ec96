from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.auth.repository import AuthRepository
from taskyard.cache.dependencies import ResponseCacheDep
from taskyard.db import DbSession
from taskyard.users.repository import UserRepository
from taskyard.users.service import UserService


async def get_user_service(session: DbSession, cache: ResponseCacheDep) -> UserService:
    return UserService(users=UserRepository(session), auth=AuthRepository(session), cache=cache)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
