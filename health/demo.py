"""Health demo data: the Guang'an health commission has examined four of the Sichuan demo
applicants (three fit, one certificate later revoked). Idempotent; never for production."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from health import services
from health.models import HealthCertificate
from laborlink.models import User
from recruitment.models import Applicant

EXAMINED = ["王德华", "李春梅", "刘晓燕", "张国强"]


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    officer = User.objects.filter(username="sc_health").first()
    if officer is None:
        return {}
    today = timezone.localdate()
    created = 0
    for name in EXAMINED:
        applicant = Applicant.objects.filter(name=name, home_province_id="51").first()
        if applicant is None or HealthCertificate.objects.filter(applicant=applicant).exists():
            continue
        certificate = services.certificate_issue(
            actor=officer,
            applicant=applicant,
            examined_on=today - timedelta(days=2),
            result="fit",
            valid_until=today + timedelta(days=85),
            notes="血常规、胸部X线未见异常。",
        )
        if name == "张国强":
            services.certificate_revoke(
                actor=officer, certificate=certificate, reason="复查发现需进一步检查"
            )
        created += 1
    return {"health_certificates": created}
