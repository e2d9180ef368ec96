"""Who the caller is: the verified token, the identity store, the denylist and the
authenticator, and the FastAPI dependencies every domain's routes use. Infrastructure: it
imports no domain but the account roles."""

from taskyard.identity.authenticator import (
    AccountDeactivated,
    AccountStates,
    Authenticator,
    SessionRevoked,
)
from taskyard.identity.caller import Caller, CallerMiddleware, RoundTrip, bearer_token, caller_of
from taskyard.identity.denylist import InProcessDenylist, RedisDenylist, TokenDenylist
from taskyard.identity.store import (
    AccountState,
    CacheVersion,
    IdentityStore,
    InProcessIdentityStore,
    KnownState,
    NoIdentityStore,
    Prefetch,
    Prefetched,
    Principal,
    RedisIdentityStore,
    Viewer,
    Voucher,
    stamp_of,
)

__all__ = [
    "AccountDeactivated",
    "AccountState",
    "AccountStates",
    "Authenticator",
    "CacheVersion",
    "Caller",
    "CallerMiddleware",
    "IdentityStore",
    "InProcessDenylist",
    "InProcessIdentityStore",
    "KnownState",
    "NoIdentityStore",
    "Prefetch",
    "Prefetched",
    "Principal",
    "RedisDenylist",
    "RedisIdentityStore",
    "RoundTrip",
    "SessionRevoked",
    "TokenDenylist",
    "Viewer",
    "Voucher",
    "bearer_token",
    "caller_of",
    "stamp_of",
]
