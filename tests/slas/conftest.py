import pytest

from slas import services


@pytest.fixture
def measures(db):
    services.ensure_measures()
