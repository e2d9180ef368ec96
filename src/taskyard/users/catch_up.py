"""Finding a person who signed up a moment ago: in split mode the task service's copy of
people hears of them through an event that may still be on its way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, retry_if_result, stop_before_delay, wait_exponential

from taskyard.users.models import User
from taskyard.users.repository import UserRepository

CATCH_UP_FIRST_WAIT_SECONDS = 0.05  # then twice as long each time


async def retrying_while_none(
    look_up: Callable[[], Awaitable[User | None]], *, within: float
) -> User | None:
    """`look_up`, again after a doubling pause while it finds nobody, for at most `within`."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda found: found is None),
        wait=wait_exponential(multiplier=CATCH_UP_FIRST_WAIT_SECONDS),
        stop=stop_before_delay(within),
        retry_error_callback=lambda _state: None,
    )
    found: User | None = await retrying(look_up)
    return found


async def active_person_by_email(
    users: UserRepository, email: str, *, within: float
) -> User | None:
    """The active account with this email, waited for up to `within` if it isn't there yet."""

    async def look_up() -> User | None:
        return await users.get_by_email(email)

    person = await retrying_while_none(look_up, within=within)
    return person if person is not None and person.is_active else None
