"""API keys: roles, region scopes, hashing."""
