"""People: accounts, roles and the admin's user management."""
