"""schemathesis against the app's own OpenAPI schema: no 5xx, every answer conforms to it.

Bounded (a few dozen examples per operation) so the suite stays fast.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings()))


@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Schema-valid random programs are mostly not valid programs: a 422 is the right answer,
    # so the "valid data must be accepted" check does not apply; every other check does.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
