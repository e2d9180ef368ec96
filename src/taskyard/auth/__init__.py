"""Authentication: registration, login, refresh-token sessions and access tokens."""
