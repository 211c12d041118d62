import pytest
from django.core.exceptions import ValidationError

from portal.ids import normalise_eui64


@pytest.mark.parametrize("value", ["00-DB-12-34-56-78-90-A0", "00db1234567890a0", "00:DB:12:34:56:78:90:a0",
                                   " 00 db 12 34 56 78 90 a0 "])
def test_accepted_forms_normalise(value):
    assert normalise_eui64(value) == "00-DB-12-34-56-78-90-A0"


@pytest.mark.parametrize("value", ["", "00-DB-12", "00DB1234567890A", "00-DB-12-34-56-78-90-G0", "0-0DB1234567890A0",
                                   "00db-1234567890a0", "00-DB-12-34-56-78-90-A0-11"])
def test_bad_forms_are_refused_naming_the_field(value):
    with pytest.raises(ValidationError, match="device id"):
        normalise_eui64(value)
