"""The small cast every test can call on.

A Zhejiang employer and its HR officer, a Sichuan bureau, a Guizhou bureau that must see
nothing of Sichuan's, a Sichuan health authority, and a Sichuan API client.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache

from laborlink.models import Organization, User
from tests.factories import AgreementFactory, OrganizationFactory, UserFactory, province

# Fails any test that puts a full ID number or mobile number in a log record or a URL.
pytest_plugins = ["tests.leakcheck"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in Redis; every test starts with none."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests end with a flush that empties every table, the 34 provinces
    shipped by a migration included; put them back for such tests."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        migration = importlib.import_module("laborlink.migrations.0002_provinces")
        migration.load(django_apps, None)
    yield


@pytest.fixture
def zhejiang_employer(db) -> Organization:
    return OrganizationFactory(
        name="玉环康达医疗器械有限公司",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        level=Organization.Level.COUNTY,
        city="台州市",
        county="玉环市",
    )


@pytest.fixture
def hr_officer(zhejiang_employer) -> User:
    return UserFactory(
        username="hr_yuhuan", role=User.Role.HR_OFFICER, organization=zhejiang_employer
    )


@pytest.fixture
def zhejiang_bureau(db) -> Organization:
    return OrganizationFactory(name="浙江省人力资源和社会保障厅", province=province("33"))


@pytest.fixture
def zhejiang_officer(zhejiang_bureau) -> User:
    return UserFactory(username="zj_bureau", organization=zhejiang_bureau)


@pytest.fixture
def sichuan_bureau(db) -> Organization:
    return OrganizationFactory(name="四川省人力资源和社会保障厅", province=province("51"))


@pytest.fixture
def sichuan_officer(sichuan_bureau) -> User:
    return UserFactory(username="sc_bureau", organization=sichuan_bureau)


@pytest.fixture
def guizhou_bureau(db) -> Organization:
    return OrganizationFactory(name="贵州省人力资源和社会保障厅", province=province("52"))


@pytest.fixture
def guizhou_officer(guizhou_bureau) -> User:
    return UserFactory(username="gz_bureau", organization=guizhou_bureau)


@pytest.fixture
def health_authority(db) -> Organization:
    return OrganizationFactory(
        name="四川省广安市卫生健康委员会",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("51"),
        level=Organization.Level.CITY,
        city="广安市",
    )


@pytest.fixture
def health_officer(health_authority) -> User:
    return UserFactory(
        username="sc_health", role=User.Role.HEALTH_OFFICER, organization=health_authority
    )


@pytest.fixture
def platform_admin(db) -> User:
    return User.objects.create_superuser(
        username="root_admin", password="Admin-pass-2026!", role=User.Role.PLATFORM_ADMIN
    )


@pytest.fixture
def agreements(db):
    """Zhejiang imports from Sichuan and Guizhou; Guangdong imports from Guangxi."""
    return {
        "zj_sc": AgreementFactory(
            importing_province=province("33"), exporting_province=province("51")
        ),
        "zj_gz": AgreementFactory(
            importing_province=province("33"), exporting_province=province("52")
        ),
        "gd_gx": AgreementFactory(
            importing_province=province("44"), exporting_province=province("45")
        ),
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs ~0.5 s per user; tests need no such cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
