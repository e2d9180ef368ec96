"""Helmet-style response headers, at least as strict as Helmet's defaults, on every response."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI: our own scripts only; it sets inline styles, and shows data: images.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"
_API_CSP = API_CSP.encode()

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"origin-agent-cluster", b"?1"),
    (b"x-dns-prefetch-control", b"off"),
    (b"x-download-options", b"noopen"),
    (b"x-permitted-cross-domain-policies", b"none"),
    (b"x-xss-protection", b"0"),
]


class SecurityHeaders:
    """Which of them a response gets: the common set, the page's Content-Security-Policy, and
    HSTS over HTTPS (or always, in production)."""

    def __init__(
        self,
        *,
        always_hsts: bool,
        page_policies: dict[str, str] | None = None,
        client_policy: str | None = None,
        is_client_path: Callable[[str], bool] = lambda _path: False,
    ) -> None:
        self.always_hsts = always_hsts
        # Path prefix -> Content-Security-Policy for pages that need more than the API's.
        self.page_policies = {
            prefix: policy.encode() for prefix, policy in (page_policies or {}).items()
        }
        # The web client's policy, for the paths it serves, when there is one.
        self.client_policy = client_policy.encode() if client_policy is not None else None
        self.is_client_path = is_client_path

    def _policy_for(self, path: str) -> bytes:
        for prefix, policy in self.page_policies.items():
            if path == prefix or path.startswith(prefix + "/"):
                return policy
        if self.client_policy is not None and self.is_client_path(path):
            return self.client_policy
        return _API_CSP

    def for_request(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The headers, which replace any of the same name the app set."""
        extra = [*_COMMON, (b"content-security-policy", self._policy_for(scope["path"]))]
        if self.always_hsts or scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))
        return extra
