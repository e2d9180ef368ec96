from __future__ import annotations

import pytest
from pydantic import ValidationError

from taskyard.auth.passwords import PasswordService
from tests.support import make_settings

SQLITE_URL = "sqlite+aiosqlite:///:memory:"


async def test_hash_is_argon2id_at_owasp_minimum_or_above() -> None:
    passwords = PasswordService(make_settings(SQLITE_URL))
    hashed = await passwords.hash("s3cret-passphrase")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify(hashed, "s3cret-passphrase")
    assert not await passwords.verify(hashed, "s3cret-passphrasE")


async def test_garbage_hash_never_verifies() -> None:
    passwords = PasswordService(make_settings(SQLITE_URL))
    assert not await passwords.verify("not-a-hash", "anything")


@pytest.mark.parametrize(
    "weaker", [{"argon2_memory_cost": 4096}, {"argon2_time_cost": 1}, {"argon2_parallelism": 0}]
)
def test_settings_refuse_parameters_below_the_minimum(weaker: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        make_settings(SQLITE_URL, **weaker)
