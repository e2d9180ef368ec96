from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.cache.service import ResponseCache


async def get_response_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.response_cache
    return cache


ResponseCacheDep = Annotated[ResponseCache, Depends(get_response_cache)]
