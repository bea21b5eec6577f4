"""Bad input's cast: the transport cast (a departed charter of three certified, whitelisted
Sichuan workers, organised by the Zhejiang bureau for the Zhejiang employer), a second,
planned trip, an overdue-arrival flag, a matching run, and the Sichuan API client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.matching.conftest import market  # noqa: F401 - fixtures used here
from tests.transport.conftest import (  # noqa: F401 - fixtures used here
    accepted,
    departed,
    make_trip,
    trip,
)


@dataclass
class World:
    """The ids of what the cast holds, by the API collection they are found under."""

    ids: dict[str, list] = field(default_factory=dict)


@pytest.fixture
def world(departed, make_trip, sichuan_officer, hr_officer, agreements):  # noqa: F811
    from health.models import HealthCertificate, IssuingKey
    from matching import services as matching_services
    from matching.models import Match, MatchRun
    from recruitment.models import Applicant, Flag, JobPosting, Placement, WhitelistEntry
    from transport import services as transport_services
    from transport.models import Booking, Trip

    transport_services.flags_raise_unconfirmed_arrivals(now=timezone.now() + timedelta(days=5))
    make_trip(vehicle_number="川X54321", seats=10)
    matching_services.run_execute(matching_services.run_request(actor=sichuan_officer).pk)

    def pks(model):
        return list(model.objects.order_by("pk").values_list("pk", flat=True))

    return World(
        ids={
            "agreements": [a.pk for a in agreements.values()],
            "applicants": pks(Applicant),
            "certificates": pks(HealthCertificate),
            "issuing-keys": list(IssuingKey.objects.order_by("pk").values_list("kid", flat=True)),
            "matching/matches": pks(Match),
            "matching/runs": pks(MatchRun),
            "postings": pks(JobPosting),
            "provinces": ["33", "51", "52", "44"],
            "transport/bookings": pks(Booking),
            "transport/flags": pks(Flag),
            "transport/placements": pks(Placement),
            "transport/trips": pks(Trip),
            "whitelist": pks(WhitelistEntry),
        }
    )
