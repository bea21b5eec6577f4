"""Transport's cast: the matching market's three Sichuan workers, accepted on the Zhejiang
employer's two postings, and a chartered bus from Guang'an (Sichuan) to Taizhou (Zhejiang)
organised by the Zhejiang bureau."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recruitment.models import Placement
from recruitment.placements import placement_created
from tests.matching.conftest import market  # noqa: F401 - a fixture used here
from transport import services


def accept(applicant, posting) -> Placement:
    placement = Placement.objects.create(
        applicant=applicant, posting=posting, status=Placement.Status.ACCEPTED
    )
    placement_created(placement, actor=None)
    return placement


@pytest.fixture
def accepted(market):  # noqa: F811 - the fixture imported above
    """Three accepted placements: 甲工 and 乙工 on the first posting, 丙工 on the second."""
    applicants, postings = market
    return [
        accept(applicants[0], postings[0]),
        accept(applicants[1], postings[0]),
        accept(applicants[2], postings[1]),
    ]


def trip_values(**overrides) -> dict:
    departure = timezone.now() + timedelta(days=2)
    values = {
        "mode": "bus",
        "operator": "广安运输集团",
        "vehicle_number": "川X12345",
        "origin_province": "51",
        "origin_city": "广安市",
        "pickup_point": "广安汽车站",
        "destination_province": "33",
        "destination_city": "台州市",
        "destination_point": "玉环市人力社保局",
        "departure_at": departure,
        "arrival_expected_at": departure + timedelta(hours=26),
        "seats": 45,
        "contact_name": "王师傅",
        "contact_phone": "0826-1234567",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_trip(zhejiang_officer, agreements):
    def make(actor=None, **overrides):
        return services.trip_create(actor=actor or zhejiang_officer, **trip_values(**overrides))

    return make


@pytest.fixture
def trip(make_trip):
    return make_trip()
