"""The demo data lets a new user walk every recruitment journey, and loads idempotently."""

from __future__ import annotations

import pytest

from laborlink.demo import load_demo_data
from laborlink.models import User
from recruitment import selectors
from recruitment.models import Applicant, JobPosting, WhitelistEntry

pytestmark = pytest.mark.django_db


def test_demo_data_loads_once_and_covers_the_journeys():
    first = load_demo_data()
    assert first["postings"] == 4
    assert first["applicants"] == 10
    assert first["whitelist_entries"] == 6
    again = load_demo_data()
    assert (again["postings"], again["applicants"], again["whitelist_entries"]) == (0, 0, 0)
    assert JobPosting.objects.count() == 4
    assert Applicant.objects.count() == 10
    sc, zj = User.objects.get(username="sc_bureau"), User.objects.get(username="zj_bureau")
    assert selectors.applicants_for_review(sc, province="33").count() == 2  # 1 has no consent
    assert selectors.whitelist_for_countersign(zj).count() == 3
    assert WhitelistEntry.objects.filter(countersign="countersigned").count() == 3
    from health.models import HealthCertificate

    assert first["health_certificates"] == 4 and again["health_certificates"] == 0
    assert HealthCertificate.objects.filter(status="revoked").count() == 1
    from matching.models import Match

    assert first["matching_runs"] == 1 and again["matching_runs"] == 0
    # the countersigned, certified Sichuan applicants are proposed to Zhejiang postings
    assert set(Match.objects.values_list("applicant__name", flat=True)) == {"王德华", "李春梅"}
    hr = User.objects.get(username="hr_yuhuan")
    assert selectors.postings_visible_to(hr).count() == 3
