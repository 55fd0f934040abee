"""Fixtures of the browser tests that share one server per module."""

import pytest


@pytest.fixture(scope="module")
def module_database(django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    """The test database for data a module creates once and commits (the module flushes it at
    its end). pytest-django sets the test database up only when some selected test asks for
    `db`; a run of browser tests alone may not, so it is set up here the same way then."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    keep = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=keep)
    yield
    if not keep:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)
