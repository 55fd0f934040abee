"""Fixtures of the browser tests that share one server per module."""

import pytest


def _session_sets_up_the_database(session) -> bool:
    """Whether pytest-django's django_db_setup created the test database for this run: it does
    when some selected test asks for a database (its own rule, pytest_django.fixtures)."""
    from django.test import TransactionTestCase

    for item in session.items:
        cls = getattr(item, "cls", None)
        if cls is not None and issubclass(cls, TransactionTestCase):
            return True
        if item.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & \
                set(getattr(item, "fixturenames", ())):
            return True
    return False


@pytest.fixture(scope="session")
def module_database(request, django_db_setup, django_db_blocker, django_db_keepdb,
                    django_db_createdb):
    """The test database for data a module creates once and commits, then flushes (see
    tests/browser/test_accessibility.py's `site`). pytest-django sets the test database up only
    when some selected test asks for `db`; a run of browser tests alone does not, so it is set
    up here the same way then."""
    from django.test.utils import setup_databases, teardown_databases

    if _session_sets_up_the_database(request.session):
        yield
        return
    keep = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=keep)
    yield
    if not keep:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)
