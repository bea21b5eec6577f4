"""Who may see what (DESIGN.md): each role × each kind of object × list, detail and write.

Lists and details go through the selectors that pages and the API share; a detail outside
the scope is a 404 page. Writes go through the services, which answer NotFound (never a
hint) for objects outside the actor's scope.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from laborlink.errors import DomainError, NotFound
from laborlink.models import Organization, User
from laborlink.services import api_client_create
from recruitment import selectors, services
from recruitment.models import Placement
from tests.factories import OrganizationFactory, UserFactory, make_applicant, make_posting, province

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(
    hr_officer,
    sichuan_officer,
    guizhou_officer,
    zhejiang_officer,
    health_officer,
    platform_admin,
    agreements,
):
    guangdong_employer = OrganizationFactory(
        kind=Organization.Kind.EMPLOYER, province=province("44"), name="深圳某电子厂"
    )
    guizhou_health = OrganizationFactory(
        kind=Organization.Kind.HEALTH_AUTHORITY, province=province("52"), name="毕节卫健局"
    )
    sichuan_api, _, _ = api_client_create(
        actor=None, bureau=sichuan_officer.organization, name="四川系统"
    )
    guizhou_api, _, _ = api_client_create(
        actor=None, bureau=guizhou_officer.organization, name="贵州系统"
    )
    return {
        "sichuan_bureau": sichuan_officer,
        "guizhou_bureau": guizhou_officer,
        "zhejiang_bureau": zhejiang_officer,
        "zhejiang_employer": hr_officer,
        "guangdong_employer": UserFactory(
            role=User.Role.HR_OFFICER, organization=guangdong_employer
        ),
        "sichuan_health": health_officer,
        "guizhou_health": UserFactory(role=User.Role.HEALTH_OFFICER, organization=guizhou_health),
        "sichuan_api": sichuan_api,
        "guizhou_api": guizhou_api,
        "admin": platform_admin,
    }


@pytest.fixture
def objects(cast):
    sichuan, zhejiang_hr = cast["sichuan_bureau"], cast["zhejiang_employer"]
    applicant = make_applicant(sichuan, name="川籍甲")
    unshared = make_applicant(sichuan, name="川籍乙")
    entry = services.whitelist_approve(
        actor=sichuan,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )[0]
    open_posting = make_posting(zhejiang_hr, title="公开岗位")
    draft_posting = make_posting(zhejiang_hr, title="草稿岗位", publish=False)
    return {
        "applicant": applicant,
        "unshared": unshared,
        "entry": entry,
        "open_posting": open_posting,
        "draft_posting": draft_posting,
    }


ROLES = [
    "sichuan_bureau",
    "guizhou_bureau",
    "zhejiang_bureau",
    "zhejiang_employer",
    "guangdong_employer",
    "sichuan_health",
    "guizhou_health",
    "sichuan_api",
    "guizhou_api",
    "admin",
]

# role → (applicant shared with Zhejiang, applicant not shared, whitelist entry,
#         open posting targeted at Sichuan and Guizhou, draft posting)
VISIBLE = {
    "sichuan_bureau": (True, True, True, True, False),
    "guizhou_bureau": (False, False, False, True, False),
    "zhejiang_bureau": (True, False, True, True, True),
    "zhejiang_employer": (False, False, False, True, True),
    "guangdong_employer": (False, False, False, False, False),
    "sichuan_health": (True, True, False, False, False),
    "guizhou_health": (False, False, False, False, False),
    "sichuan_api": (True, True, True, True, False),
    "guizhou_api": (False, False, False, True, False),
    "admin": (True, True, True, True, True),
}


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_details_follow_the_rules(role, cast, objects):
    user = cast[role]
    applicants = selectors.applicants_visible_to(user)
    entries = selectors.whitelist_entries_visible_to(user)
    postings = selectors.postings_visible_to(user)
    seen = (
        applicants.filter(pk=objects["applicant"].pk).exists(),
        applicants.filter(pk=objects["unshared"].pk).exists(),
        entries.filter(pk=objects["entry"].pk).exists(),
        postings.filter(pk=objects["open_posting"].pk).exists(),
        postings.filter(pk=objects["draft_posting"].pk).exists(),
    )
    assert seen == VISIBLE[role]
    # Filters never widen the scope: Sichuan's applicants by home province.
    by_province = applicants.filter(home_province_id="51")
    assert by_province.exists() == (VISIBLE[role][0] or VISIBLE[role][1])


PAGE_ROLES = [r for r in ROLES if not r.endswith("_api")]


@pytest.mark.parametrize("role", PAGE_ROLES)
def test_detail_pages_answer_404_outside_the_scope(role, cast, objects, client):
    client.force_login(cast[role])
    expected = VISIBLE[role]
    pages = [
        (reverse("recruitment:applicant-detail", args=[objects["applicant"].pk]), expected[0]),
        (reverse("recruitment:applicant-detail", args=[objects["unshared"].pk]), expected[1]),
        (reverse("recruitment:posting-detail", args=[objects["open_posting"].pk]), expected[3]),
        (reverse("recruitment:posting-detail", args=[objects["draft_posting"].pk]), expected[4]),
    ]
    for url, visible in pages:
        status = client.get(url).status_code
        assert status == (200 if visible else 404), (role, url, status)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "sichuan_bureau"])
def test_only_the_registering_bureau_edits_or_reveals_an_applicant(role, cast, objects):
    user = cast[role]
    with pytest.raises(DomainError) as info:
        services.applicant_update(actor=user, applicant=objects["applicant"], name="篡改")
    assert info.value.status_code in (403, 404)
    with pytest.raises(DomainError):
        services.applicant_reveal(
            actor=user, applicant=objects["applicant"], field="phone", reason="想看一下"
        )
    objects["applicant"].refresh_from_db()
    assert objects["applicant"].name == "川籍甲"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "zhejiang_employer"])
def test_only_the_owning_employer_changes_a_posting(role, cast, objects):
    with pytest.raises(DomainError) as info:
        services.posting_pause(actor=cast[role], posting=objects["open_posting"])
    assert info.value.status_code in (403, 404)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "zhejiang_bureau"])
def test_only_the_importing_bureau_countersigns(role, cast, objects):
    with pytest.raises(DomainError) as info:
        services.whitelist_countersign(actor=cast[role], entries=[objects["entry"].pk])
    assert info.value.status_code in (403, 404)


def test_an_employer_sees_an_applicant_only_once_placed_on_its_posting(cast, objects):
    employer = cast["zhejiang_employer"]
    assert not selectors.applicants_visible_to(employer).exists()
    Placement.objects.create(
        applicant=objects["applicant"], posting=objects["open_posting"], status="offered"
    )
    assert list(selectors.applicants_visible_to(employer)) == [objects["applicant"]]
    assert not selectors.applicants_visible_to(cast["guangdong_employer"]).exists()


def test_an_inactive_organization_sees_nothing(cast, objects):
    user = cast["sichuan_bureau"]
    Organization.objects.filter(pk=user.organization_id).update(is_active=False)
    user.refresh_from_db()
    assert not selectors.applicants_visible_to(user).exists()
    with pytest.raises(DomainError):
        services.applicant_update(actor=user, applicant=objects["applicant"], name="x")


def test_a_city_bureau_sees_only_its_own_registrations(cast, objects, agreements):
    guangan = OrganizationFactory(
        province=province("51"), level=Organization.Level.CITY, city="广安市", name="广安市人社局"
    )
    city_officer = UserFactory(organization=guangan)
    own = make_applicant(city_officer, region="511602", name="广安丙")
    assert list(selectors.applicants_registered_by(city_officer)) == [own]
    # the provincial bureau sees every registration of its province
    assert selectors.applicants_registered_by(cast["sichuan_bureau"]).filter(pk=own.pk).exists()
    with pytest.raises(NotFound):
        services.applicant_update(actor=city_officer, applicant=objects["unshared"], name="x")
