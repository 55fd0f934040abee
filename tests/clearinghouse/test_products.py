"""Product identities (clearinghouse/products.py)."""

import pytest

from clearinghouse.products import cpe_normalise
from review_portal.errors import ApplicationError


@pytest.mark.parametrize("part", ["a", "o", "h"])
def test_a_cpe_for_an_application_an_operating_system_or_hardware_is_keyed(part):
    _, key, parts = cpe_normalise(f"cpe:2.3:{part}:OpenSSL:openssl:3.0.1:*:*:*:*:*:*:*")
    assert key == "openssl:openssl" and parts[2] == part


@pytest.mark.parametrize("part", ["ao", "oh", "aoh", "", "x"])
def test_a_cpe_whose_part_is_not_exactly_one_of_a_o_h_is_refused(part):
    with pytest.raises(ApplicationError) as refused:
        cpe_normalise(f"cpe:2.3:{part}:openssl:openssl:3.0.1:*:*:*:*:*:*:*")
    assert refused.value.field == "cpe"
