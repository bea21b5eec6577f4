"""The audit trail: row history by database triggers, read events, the search page, pruning."""

from __future__ import annotations

from datetime import timedelta

import pghistory
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from health.services import certificate_verify
from laborlink import audit
from laborlink.models import AuditEvent
from recruitment.models import Applicant, ApplicantHistory, JobPosting, JobPostingHistory
from tests.factories import make_applicant, make_posting, national_id_for, phone_for

AUDIT = reverse("audit")


def test_a_page_change_records_the_user_the_path_and_before_after(
    client, hr_officer, zhejiang_officer, agreements
):
    posting = make_posting(hr_officer)
    client.force_login(hr_officer)
    path = reverse("recruitment:posting-pause", args=[posting.pk])
    assert client.post(path).status_code == 302

    event = JobPostingHistory.objects.filter(pgh_obj_id=posting.pk).latest("pgh_id")
    assert event.pgh_label == "update"
    assert event.pgh_context == {"user": hr_officer.pk, "url": path}
    assert event.status == JobPosting.Status.PAUSED

    entries = audit.audit_entries(zhejiang_officer, audit.Filters(object_id=str(posting.pk)))
    change = entries[0]
    assert (change.kind, change.actor, change.object_type) == (
        "update",
        hr_officer,
        "recruitment.jobposting",
    )
    status = next(c for c in change.changes if c.field == "status")
    assert (str(status.before), str(status.after)) == (
        str(JobPosting.Status.OPEN.label),
        str(JobPosting.Status.PAUSED.label),
    )
    assert [e.kind for e in entries] == ["update", "update", "insert"]  # publish, create


def test_a_bulk_update_writes_one_history_row_per_changed_row(sichuan_officer):
    applicants = [make_applicant(sichuan_officer) for _ in range(3)]
    with pghistory.context(user=sichuan_officer.pk):
        changed = Applicant.objects.filter(pk__in=[a.pk for a in applicants]).update(
            minimum_wage=4500
        )
    assert changed == 3
    updates = ApplicantHistory.objects.filter(pgh_label="update")
    assert sorted(updates.values_list("pgh_obj_id", flat=True)) == sorted(a.pk for a in applicants)
    assert {u.pgh_context["user"] for u in updates} == {sichuan_officer.pk}
    assert {u.minimum_wage for u in updates} == {4500}
    # an UPDATE that changes nothing writes no history
    Applicant.objects.filter(pk=applicants[0].pk).update(minimum_wage=4500)
    assert updates.count() == 3


def test_a_raw_sql_delete_is_recorded_with_the_row_before(hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM recruitment_jobposting_target_provinces WHERE jobposting_id = %s",
            [posting.pk],
        )
        cursor.execute("DELETE FROM recruitment_jobposting WHERE id = %s", [posting.pk])
    deleted = JobPostingHistory.objects.get(pgh_obj_id=posting.pk, pgh_label="delete")
    assert deleted.title == posting.title


def test_a_reveal_is_an_audit_event_that_only_the_province_sees(
    client, sichuan_officer, guizhou_officer
):
    number = national_id_for("510104", serial=7)
    applicant = make_applicant(sichuan_officer, national_id=number)
    client.force_login(sichuan_officer)
    detail = reverse("recruitment:applicant-detail", args=[applicant.pk])
    assert (
        number in client.post(detail, {"field": "national_id", "reason": "核对"}).content.decode()
    )

    event = AuditEvent.objects.get(action=AuditEvent.Action.REVEAL)
    assert (event.actor, event.object_type, event.object_id) == (
        sichuan_officer,
        "recruitment.applicant",
        str(applicant.pk),
    )
    assert event.detail == {"field": "national_id"}
    assert event.provinces == ["51"]

    page = client.get(AUDIT, {"kind": "reveal"})
    assert page.status_code == 200
    assert 'data-kind="reveal"' in page.content.decode()
    assert number not in page.content.decode()

    client.force_login(guizhou_officer)
    other = client.get(AUDIT).content.decode()
    assert 'data-kind="reveal"' not in other
    assert f"#{applicant.pk}<" not in other


def test_exports_and_verifications_are_recorded(client, sichuan_officer):
    make_applicant(sichuan_officer)
    client.force_login(sichuan_officer)
    export = client.get(reverse("recruitment:applicant-export"), {"format": "xlsx"})
    assert export.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.detail["format"]) == (
        sichuan_officer,
        "recruitment.applicant",
        "xlsx",
    )

    outcome = certificate_verify(actor=None, token="not-a-token", channel="web")
    verification = AuditEvent.objects.get(action=AuditEvent.Action.VERIFICATION)
    assert verification.actor is None
    assert verification.detail == {"channel": "web", "outcome": outcome.code}


def test_the_page_hides_encrypted_columns_and_finds_by_object_and_user(
    client, sichuan_officer, platform_admin
):
    number, phone = national_id_for("510104", serial=9), phone_for()
    applicant = make_applicant(sichuan_officer, national_id=number, phone=phone)
    other = make_applicant(sichuan_officer)
    client.force_login(sichuan_officer)
    page = client.get(
        AUDIT, {"object_type": "recruitment.applicant", "object_id": applicant.pk}
    ).content.decode()
    assert page.count('data-kind="insert"') == 1
    assert "已更改（加密内容，不显示）" in page
    assert number not in page and phone not in page
    assert applicant.national_id_masked not in page or "*" in applicant.national_id_masked
    assert f"#{other.pk}<" not in page

    by_user = client.get(AUDIT, {"username": sichuan_officer.username}).content.decode()
    assert by_user.count('data-kind="insert"') == 2
    unknown = client.get(AUDIT, {"username": "nobody-here"})
    assert unknown.status_code == 200
    assert "没有这个用户名的用户。" in unknown.content.decode()

    client.force_login(platform_admin)
    assert (
        client.get(AUDIT, {"object_type": "recruitment.applicant"})
        .content.decode()
        .count('data-kind="insert"')
        == 2
    )


def test_only_bureau_officers_and_platform_admins_open_the_page(
    client, hr_officer, health_officer, sichuan_officer
):
    for user in (hr_officer, health_officer):
        client.force_login(user)
        assert client.get(AUDIT).status_code == 404
    client.logout()
    assert client.get(AUDIT).status_code == 302
    client.force_login(sichuan_officer)
    assert client.get(AUDIT).status_code == 200


def test_paging_walks_every_entry_once_even_within_one_timestamp(client, sichuan_officer):
    applicants = [make_applicant(sichuan_officer) for _ in range(30)]
    # one transaction: the 30 update events share one timestamp
    with pghistory.context(user=sichuan_officer.pk):
        Applicant.objects.filter(pk__in=[a.pk for a in applicants]).update(minimum_wage=4100)
    seen = []
    filters = audit.Filters(object_type="recruitment.applicant")
    while True:
        page = audit.audit_entries(sichuan_officer, filters, limit=7)
        if not page:
            break
        seen.extend((e.source, e.key) for e in page)
        filters.cursor = page[-1].cursor
    assert len(seen) == len(set(seen)) == 60


def test_the_page_query_count_does_not_grow_with_the_entries(client, sichuan_officer):
    client.force_login(sichuan_officer)
    make_applicant(sichuan_officer)
    with CaptureQueriesContext(connection) as few:
        assert client.get(AUDIT).status_code == 200
    for _ in range(20):
        make_applicant(sichuan_officer)
    with CaptureQueriesContext(connection) as many:
        assert client.get(AUDIT).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_pruning_keeps_six_months_and_removes_older_entries(sichuan_officer):
    old_applicant = make_applicant(sichuan_officer)
    young_applicant = make_applicant(sichuan_officer)
    now = timezone.now()
    ApplicantHistory.objects.filter(pgh_obj_id=old_applicant.pk).update(
        pgh_created_at=now - timedelta(days=500)
    )
    ApplicantHistory.objects.filter(pgh_obj_id=young_applicant.pk).update(
        pgh_created_at=now - timedelta(days=182)
    )
    old_event = audit.record(action=AuditEvent.Action.EXPORT, actor=sichuan_officer)
    AuditEvent.objects.filter(pk=old_event.pk).update(at=now - timedelta(days=500))
    young_event = audit.record(action=AuditEvent.Action.EXPORT, actor=sichuan_officer)

    with pytest.raises(CommandError):
        call_command("prune_audit", days=100)
    assert ApplicantHistory.objects.count() == 2

    call_command("prune_audit", days=400)
    assert list(ApplicantHistory.objects.values_list("pgh_obj_id", flat=True)) == [
        young_applicant.pk
    ]
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [young_event.pk]
    # even the shortest period allowed keeps what is younger than six months
    call_command("prune_audit", days=183)
    assert ApplicantHistory.objects.count() == 1


def test_an_imported_file_is_attributed_to_the_uploader_and_the_task(sichuan_officer):
    from recruitment.imports import import_check, import_start
    from recruitment.tasks import import_batch
    from tests.recruitment.import_files import csv_upload, row

    rows = [row(national_id=national_id_for("510104", serial=n)) for n in (31, 32, 33)]
    batch = import_check(actor=sichuan_officer, upload=csv_upload(rows, "applicants.csv"))
    batch = import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    # the task as a worker runs it (COPY into the table: the triggers still see every row)
    assert import_batch(batch.pk) == "done"
    inserts = ApplicantHistory.objects.filter(pgh_label="insert", import_batch_id=batch.pk)
    assert inserts.count() == 3
    assert {(i.pgh_context["user"], i.pgh_context["task"]) for i in inserts} == {
        (sichuan_officer.pk, "recruitment.import_batch")
    }


def test_a_service_inside_a_task_context_does_not_lend_its_actor_to_later_writes(
    sichuan_officer,
):
    with pghistory.context(task="some.task"):
        applicant = make_applicant(sichuan_officer)
        Applicant.objects.filter(pk=applicant.pk).update(minimum_wage=4321)
    insert, update = ApplicantHistory.objects.filter(pgh_obj_id=applicant.pk).order_by("pgh_id")
    assert insert.pgh_context == {"task": "some.task", "user": sichuan_officer.pk}
    assert update.pgh_context == {"task": "some.task"}


def test_a_refused_access_is_in_the_trail_of_the_province_that_tried(
    client, sichuan_officer, guizhou_officer
):
    applicant = make_applicant(sichuan_officer)
    client.force_login(guizhou_officer)
    path = reverse("recruitment:applicant-detail", args=[applicant.pk])
    assert client.get(path, {"page": 2}).status_code == 404
    denied = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS_DENIED)
    assert (denied.actor, denied.path, denied.provinces) == (guizhou_officer, path, ["52"])
    assert denied.detail == {"method": "GET", "status": 404}
    assert 'data-kind="access_denied"' in client.get(AUDIT).content.decode()
