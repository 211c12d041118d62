"""API fuzzing with schemathesis against the live OpenAPI schema (/api/schema/), in-process over WSGI.

As a DCC operator and as a supplier user, every operation the schema documents gets a bounded number of
generated requests (API_FUZZ_EXAMPLES, default 20; `make fuzz` 200) plus one request per existing object of its
model (real ids, so detail routes are exercised beyond 404), then schemathesis's stateful phase (chains of calls
along the links it infers between operations).  Every response must: not be a 5xx, use a status code the
schema documents, have the documented content type, and conform to the documented response schema.
New endpoints of any app are covered as soon as they appear in the schema. Failures are collected across
all operations and reported together, naming the method, path and what broke.

KNOWN lists operations whose owners have been told of a failure found here: their failures are shown as
warnings instead of failing the suite, until the owner fixes them and deletes the line. Nothing else is
tolerated. The supplier's run is in test_api_fuzz_supplier.py, so the two run on separate workers.
"""
import os
import warnings
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings

from portal.services import api_token_get_or_create
from tests.gates.schema_routes import PARAM, model_of, objects_of_both
from tests.portal.test_isolation import param_value

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# `make test` runs 20 generated requests per operation and a bounded stateful run; `make fuzz` runs deeper
# (API_FUZZ_EXAMPLES=200 and more stateful scenarios), as a nightly job would.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
SCENARIOS = int(os.environ.get("API_FUZZ_SCENARIOS", "15"))
STEPS = int(os.environ.get("API_FUZZ_STEPS", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = [
    pytest.mark.django_db, pytest.mark.slow,
    # About a minute per role: run once per `make test`, on the PostgreSQL pass.
    pytest.mark.skipif(os.environ.get("PORTAL_TEST_DB") == "sqlite",
                       reason="the API fuzz runs once per `make test`, on the PostgreSQL pass"),
]

# (METHOD, path template) -> who must fix what. Reported by the quality-gates run; delete a line once fixed.
KNOWN = {
}


@contextmanager
def connections_kept():
    """Calls through the raw WSGI handler must not close the test's database connection at the end of each
    request (Django's own test client disconnects the same signal handler)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def as_one_request():
    """One call as production runs it: in its own transaction. Here the whole fuzz runs inside the
    test's transaction, so a request that leaves it marked for rollback (an error caught inside a
    savepoint-less block of Django's, e.g. a model's save, then answered 4xx) would otherwise break
    every later call with TransactionManagementError; a savepoint per call confines that to the call
    (its writes undone, as production's rolled-back transaction would), and its own answer is still checked."""
    with transaction.atomic():
        yield


def load_schema(user):
    headers = {"Authorization": f"Token {api_token_get_or_create(user=user).key}"}
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), headers=headers), headers


def real_cases(operation, objects):
    names = PARAM.findall(operation.path)
    if not names:
        return []
    model = model_of(operation.path)
    cases = []
    for obj, _marker in objects:
        if model is not None and type(obj) is model:
            cases.append(operation.Case(path_parameters={n: param_value(obj, n) for n in names}))
    return cases[:4]


def describe(error):
    # Hypothesis reports a case that failed once and then passed on its replay (a write that changed
    # the state it ran against) as a group around the first failure: show that failure, not the group.
    first = getattr(error, "exceptions", None)
    if first and any(word in str(error).lower() for word in ("unreliable", "inconsistent")):
        return f"{str(error).splitlines()[0][:200]} | first failure: {describe(first[0])}"
    text = str(error).strip() or repr(error)
    for inner in getattr(error, "exceptions", ()) or ():
        text += " | " + (str(inner).strip() or repr(inner))
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[:6])[:600]


def fuzz(user, objects):
    schema, headers = load_schema(user)
    failures, tolerated, operations = [], [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"

        def check(case):
            with as_one_request():
                case.call_and_validate(headers=headers, checks=CHECKS)

        for case in real_cases(operation, objects):
            try:
                check(case)
            except (Exception, BaseExceptionGroup) as error:  # schemathesis: FailureGroup, AssertionError
                bucket = tolerated if (operation.method.upper(), operation.path) in KNOWN else failures
                bucket.append(f"{label} [{user.username}, real id]: {describe(error)}")
                break

        @settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def generated(case):
            check(case)

        try:
            if EXAMPLES:  # API_FUZZ_EXAMPLES=0: the stateful phase alone (when chasing one of its findings)
                generated()
        except (Exception, BaseExceptionGroup) as error:
            bucket = tolerated if (operation.method.upper(), operation.path) in KNOWN else failures
            bucket.append(f"{label} [{user.username}, generated]: {describe(error)}")
    failures += stateful(schema, headers, user)
    for line in tolerated:
        warnings.warn(f"known API failure (owner told): {line[:300]}", stacklevel=1)
    return operations, failures


def stateful(schema, headers, user):
    """Schemathesis's stateful phase: chains of calls along the schema's links (inferred from the schema's
    paths and parameters, e.g. a created object's id fed to its detail route), so that an object made by one
    call is then read, changed and deleted by the next, under the same four checks."""
    base = schema.as_state_machine()
    links = schema.statistic.transitions.total
    if not links:
        return [f"stateful [{user.username}]: the schema yields no links between operations"]

    class Machine(base):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def call(self, case, **kwargs):
            with as_one_request():
                return super().call(case, **kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers,
                                   transport_kwargs=kwargs or None, recorder=self.recorder)

    try:
        Machine.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                      database=None, derandomize=True,
                                      suppress_health_check=list(HealthCheck)))
    except (Exception, BaseExceptionGroup) as error:
        return [f"stateful [{user.username}, {links} links]: {describe(error)}"]
    return []


@pytest.fixture
def seeded(orgs, supplier_a, supplier_b):
    return objects_of_both(orgs, supplier_a, supplier_b)


def check_role(user, objects):
    with connections_kept():
        operations, failures = fuzz(user, objects)
    assert operations >= 5, "the schema documents too few operations: is /api/schema/ served?"
    assert not failures, f"{len(failures)} operation(s) broke their schema as {user.username}:\n" + "\n".join(failures)


def test_every_operation_honours_its_schema_for_a_dcc_operator(dcc_operator, seeded):
    check_role(dcc_operator, seeded)
