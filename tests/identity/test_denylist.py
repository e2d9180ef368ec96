from __future__ import annotations

import time

from taskyard.identity.denylist import InProcessDenylist


async def test_denylisted_until_expiry_then_forgotten() -> None:
    denylist = InProcessDenylist()
    await denylist.add("live", time.time() + 60)
    await denylist.add("dead", time.time() - 1)
    assert await denylist.contains("live")
    assert not await denylist.contains("dead")
    assert not await denylist.contains("never-added")
    await denylist.add("another", time.time() + 60)  # adding prunes what has expired
    assert "dead" not in denylist._expiry_by_jti
