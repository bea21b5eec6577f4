"""The real import (`imports.import_start` → task → `imports.import_run`): all rows or none,
re-importing changes nothing, safe to run twice, and a real Celery worker runs it."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from laborlink import personal_data
from laborlink.errors import Conflict, NotFound
from laborlink.models import OutboxTask, User
from recruitment import imports
from recruitment.imports import import_check, import_run, import_start
from recruitment.models import Applicant, ImportBatch
from recruitment.registry import clean_applicant
from recruitment.services import (
    NATIONAL_ID_CONTEXT,
    PHONE_CONTEXT,
    _applicant_row_values,
    applicant_index,
)
from tests.factories import national_id_for
from tests.recruitment.import_files import csv_upload, row, upload, xlsx_bytes

Status = ImportBatch.Status


def _checked(officer, rows, name="applicants.csv") -> ImportBatch:
    batch = import_check(actor=officer, upload=csv_upload(rows, name))
    assert batch.status == Status.CHECKED, batch.errors
    return batch


def _import(officer, rows) -> ImportBatch:
    batch = import_start(actor=officer, batch=_checked(officer, rows), enqueue=False)
    return import_run(batch.pk)


def _register_elsewhere(number: str, officer: User) -> None:
    data, errors = clean_applicant(
        {"name": "赵六", "national_id": number, "phone": "13900001111"},
        bureau_province="51",
        today=date(2026, 1, 1),
    )
    assert not errors
    Applicant.objects.create(
        registering_bureau=officer.organization,
        registered_by=officer,
        **_applicant_row_values(data),
    )


def test_clean_file_imports_every_row_encrypted_and_masked(sichuan_officer):
    number = national_id_for("510104", date(1988, 5, 17))
    rows = [
        row(
            name="李\t四",
            national_id=number,
            phone="138-0000-1234",
            skills="welder、electrician",
            preferred_provinces="浙江、江苏",
            minimum_wage="5200",
            available_from="2027-02-01",
            key_groups="veteran",
            consent="是",
            notes='第一行\n第二行 "引号" \\ 反斜杠',
        ),
        row(consent="否", skills="", preferred_provinces="", available_from=""),
        row(),
    ]
    batch = _import(sichuan_officer, rows)

    assert batch.status == Status.DONE
    assert (batch.created_count, batch.unchanged_count, batch.error_rows) == (3, 0, 0)
    assert batch.content is None and batch.finished_at is not None
    created = Applicant.objects.filter(import_batch=batch)
    assert created.count() == 3
    first = created.get(national_id_hash=applicant_index(number))
    assert first.name == "李\t四"
    assert first.registering_bureau == sichuan_officer.organization
    assert first.registered_by == sichuan_officer
    assert first.home_province_id == "51" and first.region_code == "510104"
    assert (first.sex, first.birth_date) == (
        "female" if int(number[16]) % 2 == 0 else "male",
        date(1988, 5, 17),
    )
    assert personal_data.decrypt(first.national_id_encrypted, context=NATIONAL_ID_CONTEXT) == (
        number
    )
    assert personal_data.decrypt(first.phone_encrypted, context=PHONE_CONTEXT) == "13800001234"
    assert first.national_id_masked == number[:4] + "*" * 10 + number[-4:]
    assert first.phone_masked == "138****1234"
    assert first.skills == ["welder", "electrician"]
    assert first.preferred_provinces == ["33", "32"]
    assert (first.minimum_wage, first.available_from) == (5200, date(2027, 2, 1))
    assert first.key_groups == ["veteran"]
    assert first.consent_cross_province and first.consent_recorded_at is not None
    assert first.notes == '第一行\n第二行 "引号" \\ 反斜杠'
    second = created.exclude(pk=first.pk).get(consent_cross_province=False)
    assert second.consent_recorded_at is None and second.available_from is None
    assert second.skills == [] and second.preferred_provinces == []


def test_xlsx_file_imports_like_a_csv(sichuan_officer):
    content = xlsx_bytes([row(minimum_wage=4800, available_from=date(2027, 3, 1)), row()])
    batch = import_check(actor=sichuan_officer, upload=upload(content, "名单.xlsx"))
    import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    batch = import_run(batch.pk)
    assert (batch.status, batch.created_count) == (Status.DONE, 2)
    assert sorted(Applicant.objects.values_list("minimum_wage", flat=True)) == [4500, 4800]


def test_reimporting_the_same_file_creates_nothing_and_counts_every_row_unchanged(
    sichuan_officer,
):
    rows = [row() for _ in range(4)]
    assert _import(sichuan_officer, rows).created_count == 4

    again = _checked(sichuan_officer, rows)
    assert again.unchanged_count == 4
    import_start(actor=sichuan_officer, batch=again, enqueue=False)
    again = import_run(again.pk)

    assert again.status == Status.DONE
    assert (again.created_count, again.unchanged_count) == (0, 4)
    assert Applicant.objects.count() == 4


def test_file_with_one_bad_row_cannot_be_started_and_imports_nothing(sichuan_officer):
    batch = import_check(actor=sichuan_officer, upload=csv_upload([row(), row(phone="1")]))
    assert batch.status == Status.INVALID
    with pytest.raises(Conflict):
        import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    assert import_run(batch.pk) is None  # not queued: the task would do nothing
    assert Applicant.objects.count() == 0


def test_row_that_went_bad_after_the_check_fails_the_whole_import(sichuan_officer, guizhou_officer):
    number = national_id_for("510104")
    rows = [row(), row(national_id=number), row()]
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, rows), enqueue=False
    )
    _register_elsewhere(number, guizhou_officer)  # meanwhile, in Guizhou

    batch = import_run(batch.pk)

    assert batch.status == Status.FAILED
    assert batch.failure == "rows"
    assert [(e["row"], e["key"]) for e in batch.errors] == [(3, "national_id.registered_elsewhere")]
    assert batch.error_rows == 1 and batch.created_count == 0
    assert Applicant.objects.filter(registering_bureau=sichuan_officer.organization).count() == 0
    with translation.override("en"):
        assert "nothing was imported" in imports.failure_message(batch)


def test_person_the_bureau_registered_since_the_check_counts_as_unchanged(sichuan_officer):
    number = national_id_for("510104")
    rows = [row(), row(national_id=number)]
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, rows), enqueue=False
    )
    _register_elsewhere(number, sichuan_officer)  # the bureau's own form, meanwhile

    batch = import_run(batch.pk)

    assert batch.status == Status.DONE
    assert (batch.created_count, batch.unchanged_count) == (1, 1)


def test_registration_slipping_past_the_look_up_rolls_everything_back(
    sichuan_officer, guizhou_officer, monkeypatch
):
    """The unique index is the last word: if a person is registered after the look-up, the
    COPY fails and no row of the file stays."""
    number = national_id_for("510104")
    rows = [row(), row(national_id=number), row()]
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, rows), enqueue=False
    )
    _register_elsewhere(number, guizhou_officer)
    monkeypatch.setattr(imports, "existing_registrations", lambda bureau, hashes: (set(), {}))

    batch = import_run(batch.pk)

    assert (batch.status, batch.failure) == (Status.FAILED, "changed")
    assert Applicant.objects.filter(registering_bureau=sichuan_officer.organization).count() == 0


def test_running_the_task_twice_imports_once(sichuan_officer):
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, [row(), row()]), enqueue=False
    )
    first = import_run(batch.pk)
    second = import_run(batch.pk)

    assert first.status == Status.DONE and first.created_count == 2
    assert second is None
    assert Applicant.objects.count() == 2


def test_batch_left_importing_by_a_dead_worker_is_taken_again(sichuan_officer, settings):
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, [row()]), enqueue=False
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.IMPORTING, started_at=timezone.now() - timedelta(minutes=5)
    )
    assert import_run(batch.pk) is None  # still within the task's time limit: another run's

    settings.CELERY_TASK_TIME_LIMIT = 60
    assert import_run(batch.pk).status == Status.DONE


def test_starting_twice_is_refused(sichuan_officer):
    batch = _checked(sichuan_officer, [row()])
    import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    with pytest.raises(Conflict):
        import_start(actor=sichuan_officer, batch=batch, enqueue=False)


def test_another_bureaus_batch_cannot_be_started(sichuan_officer, guizhou_officer):
    batch = _checked(sichuan_officer, [row()])
    with pytest.raises(NotFound):
        import_start(actor=guizhou_officer, batch=batch, enqueue=False)
    assert ImportBatch.objects.get(pk=batch.pk).status == Status.CHECKED


def test_uploader_who_lost_the_role_gets_a_failed_import(sichuan_officer):
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, [row()]), enqueue=False
    )
    User.objects.filter(pk=sichuan_officer.pk).update(role=User.Role.HEALTH_OFFICER)

    batch = import_run(batch.pk)

    assert (batch.status, batch.failure) == (Status.FAILED, "forbidden")
    assert Applicant.objects.count() == 0


def test_import_is_enqueued_only_after_commit_with_the_stored_task_id(
    sichuan_officer, django_capture_on_commit_callbacks, monkeypatch
):
    from recruitment import tasks

    sent = []
    monkeypatch.setattr(
        tasks.import_batch,
        "apply_async",
        lambda args, kwargs, task_id, **options: sent.append((args, kwargs, task_id)),
    )
    batch = _checked(sichuan_officer, [row()])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        started = import_start(actor=sichuan_officer, batch=batch)
        assert sent == []
    assert len(callbacks) == 1
    # sent through the outbox: its row was written with the batch's claim
    deferred = OutboxTask.objects.get(task="recruitment.import_batch")
    assert sent == [([batch.pk], {"outbox_id": deferred.pk}, started.task_id)]
    assert deferred.sent_at is not None and deferred.done_at is None
    assert started.status == Status.QUEUED


def test_progress_is_written_to_the_cache_for_the_page(sichuan_officer, monkeypatch):
    seen = []
    real = imports.report_progress

    def spy(batch_id, **state):
        seen.append(state)
        real(batch_id, **state)

    monkeypatch.setattr(imports, "report_progress", spy)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    batch = _import(sichuan_officer, [row() for _ in range(5)])

    assert {"phase": "importing", "done": 4, "total": 5} in seen
    assert cache.get(imports.progress_key(batch.pk)) == {"phase": "done", "done": 5, "total": 5}
    progress = imports.import_progress(batch)
    assert (progress["done"], progress["total"], progress["created"]) == (5, 5, 5)


def test_progress_of_a_running_import_comes_from_the_cache(sichuan_officer):
    batch = import_start(
        actor=sichuan_officer, batch=_checked(sichuan_officer, [row()] * 1), enqueue=False
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.IMPORTING, total_rows=10)
    imports.report_progress(batch.pk, phase="importing", done=4, total=10)
    batch.refresh_from_db()
    progress = imports.import_progress(batch)
    assert (progress["status"], progress["done"], progress["percent"]) == ("importing", 4, 40)


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_the_import(sichuan_officer):
    from celery.contrib.testing.worker import start_worker

    from laborlink.celery import app

    batch = _checked(sichuan_officer, [row(), row(), row()])
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1):
        import_start(actor=sichuan_officer, batch=batch)  # autocommit: sent now
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not OutboxTask.objects.filter(
            task="recruitment.import_batch", done_at__isnull=False
        ):
            time.sleep(0.05)

    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (Status.DONE, 3)
    assert Applicant.objects.filter(import_batch=batch).count() == 3


def test_the_uploaded_file_is_stored_encrypted(sichuan_officer):
    from django.db import connection

    number = national_id_for("510104")
    batch = _checked(sichuan_officer, [row(national_id=number, phone="13912345678")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM recruitment_importbatch WHERE id = %s", [batch.pk])
        stored = bytes(cursor.fetchone()[0])
    assert number.encode() not in stored
    assert b"13912345678" not in stored
    assert import_run(
        import_start(actor=sichuan_officer, batch=batch, enqueue=False).pk
    ).status == (Status.DONE)


def test_an_upload_not_imported_within_a_day_is_discarded(sichuan_officer):
    batch = _checked(sichuan_officer, [row()])
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert imports.import_uploads_purge() == 1
    assert ImportBatch.objects.get(pk=batch.pk).content is None
    with pytest.raises(Conflict) as refused:
        import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    assert refused.value.code == "expired"
    assert Applicant.objects.count() == 0
