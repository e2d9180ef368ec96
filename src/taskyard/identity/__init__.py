"""Who the caller is: the verified token, the identity store, the denylist and the
authenticator, and the FastAPI dependencies every domain's routes use. Infrastructure: it
imports no domain but the account roles."""

from taskyard.identity.authenticator import (
    AccountDeactivated,
    AccountStates,
    Authenticator,
    SessionRevoked,
)
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
    bearer_token,
    claims_of,
    prefetched,
    remember_prefetched,
    require_claims,
    stamp_of,
)

__all__ = [
    "AccountDeactivated",
    "AccountState",
    "AccountStates",
    "Authenticator",
    "CacheVersion",
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
    "SessionRevoked",
    "TokenDenylist",
    "Viewer",
    "Voucher",
    "bearer_token",
    "claims_of",
    "prefetched",
    "remember_prefetched",
    "require_claims",
    "stamp_of",
]
