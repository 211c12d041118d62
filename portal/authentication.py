"""API token authentication: DRF's ``Authorization: Token <key>`` scheme over hashed, expiring, scoped
tokens (portal.models.ApiToken). The checks themselves are portal.services.api_token_user."""
from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication


class ApiTokenAuthentication(TokenAuthentication):
    """``Token <key>``: 401 for an unknown or expired token (with ``WWW-Authenticate: Token``), 403 for a
    read-only token on anything but GET, HEAD and OPTIONS."""

    keyword = "Token"

    def authenticate(self, request: Any) -> Any:
        self._method = request.method
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> Any:
        from portal.services import api_token_user

        return api_token_user(key, method=getattr(self, "_method", "GET"))
