"""schemathesis against the live OpenAPI schema: every operation, a bounded number of generated requests each,
sent with a valid key of an organisation that has objects of every kind (tests/api_world.py).
0 server errors and 0 responses that break the schema."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application
from tests.api_support import org_api_key
from tests.api_world import World, build_world

FUZZ_EXAMPLES = 12
# No 5xx, and every response (status, content type, headers, body) as the schema documents it. Not run: the
# checks that a schema-valid request is accepted or an invalid one rejected — business rules refuse valid-looking
# requests (publish a cancelled gig) with documented 4xx answers, which is their job.
SCHEMA_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(db: None) -> Iterator[schemathesis.BaseSchema]:
    # Called in-process through WSGI, each request would close the database connection at its end (Django's
    # request signals), and with it the test's transaction; the test client disconnects them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: None, stripe_standin: object) -> World:
    """Alpha with objects of every kind (a pay link then really talks to the Stripe stand-in)."""
    return build_world()


@pytest.fixture
def partner_key(world: World) -> str:
    return org_api_key(world.alpha)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_every_operation_answers_within_its_schema(case: schemathesis.Case, world: World, partner_key: str) -> None:
    # Every other request names one of Alpha's real objects, so success paths are explored too, not only 404s.
    if case.path_parameters and zlib.crc32(repr(case.body).encode()) % 2 == 0:
        case.path_parameters = {name: world.ids.get(name, value) for name, value in case.path_parameters.items()}
    case.call_and_validate(headers={"Authorization": f"Bearer {partner_key}"}, checks=SCHEMA_CHECKS)
