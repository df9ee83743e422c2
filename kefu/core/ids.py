"""Identifiers: unguessable public ids for customer-facing URLs."""

import secrets


def new_public_id() -> str:
    """22 URL-safe characters (~128 bits): cannot be enumerated or guessed."""
    return secrets.token_urlsafe(16)
