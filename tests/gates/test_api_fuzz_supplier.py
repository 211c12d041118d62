"""The schemathesis gate of test_api_fuzz.py, as a supplier user (a file of its own so that the two roles
run on separate workers)."""
from tests.gates.test_api_fuzz import check_role, pytestmark, seeded  # noqa: F401  (seeded is a fixture)


def test_every_operation_honours_its_schema_for_a_supplier(supplier_a, seeded):  # noqa: F811
    check_role(supplier_a, seeded)
