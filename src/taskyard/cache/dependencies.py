from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.cache.service import ResponseCache
from taskyard.services import ServicesDep


async def get_response_cache(services: ServicesDep) -> ResponseCache:
    return services.response_cache


ResponseCacheDep = Annotated[ResponseCache, Depends(get_response_cache)]
