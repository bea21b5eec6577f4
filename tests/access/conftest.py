"""One world of two sides, built once per module and rolled back at its end."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test.utils import override_settings

from tests.access.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    """Built inside one outer transaction that is rolled back after the module; each test's
    own transaction (the `db` fixture) nests inside it as a savepoint."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
