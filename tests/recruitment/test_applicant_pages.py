"""The applicant registry pages: register, list, detail with audited reveal, edit."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recruitment.models import Applicant, PersonalDataReveal, Placement
from tests.factories import make_applicant, make_posting, national_id_for

pytestmark = pytest.mark.django_db

NEW = reverse("recruitment:applicant-new")
LIST = reverse("recruitment:applicant-list")


def form_data(**overrides):
    data = {
        "name": "刘德明",
        "national_id": national_id_for("511602", date(1988, 8, 8), 55),
        "phone": "139 0000 1234",
        "skills": ["welder", "electrician"],
        "minimum_wage": "4500",
        "available_from": "2027-02-01",
        "key_groups": ["lifted_out_of_poverty"],
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_a_bureau_officer_registers_an_applicant_by_form(client, sichuan_officer):
    client.force_login(sichuan_officer)
    response = client.post(NEW, form_data())
    applicant = Applicant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recruitment:applicant-detail", args=[applicant.pk])
    assert applicant.skills == ["welder", "electrician"]
    assert applicant.key_groups == ["lifted_out_of_poverty"]
    assert applicant.consent_cross_province and applicant.consent_recorded_at


def test_form_errors_are_shown_next_to_their_fields_in_chinese(client, sichuan_officer):
    client.force_login(sichuan_officer)
    response = client.post(NEW, form_data(national_id="51160219880808055", phone="123"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "身份证号码" in page
    assert 'data-field="national_id"' in page
    assert "18" in page
    assert 'value="刘德明"' in page  # the input is kept
    assert not Applicant.objects.exists()


def test_form_errors_in_english(client, sichuan_officer):
    client.force_login(sichuan_officer)
    client.cookies["django_language"] = "en"
    response = client.post(NEW, form_data(phone="123"))
    assert "A mobile phone number is 11 digits starting with 13 to 19." in response.content.decode()


def test_duplicate_registration_names_the_bureau_holding_the_record(
    client, sichuan_officer, guizhou_officer
):
    number = national_id_for("520102", date(1990, 1, 1), 9)
    make_applicant(guizhou_officer, national_id=number)
    client.force_login(guizhou_officer)
    response = client.post(NEW, form_data(national_id=number))
    assert response.status_code == 409
    assert "贵州省人力资源和社会保障厅" in response.content.decode()


def test_the_list_shows_masked_numbers_only(client, sichuan_officer):
    number = national_id_for("510104", date(1990, 3, 7), 1)
    applicant = make_applicant(sichuan_officer, national_id=number, phone="13812345678")
    client.force_login(sichuan_officer)
    page = client.get(LIST).content.decode()
    assert applicant.national_id_masked in page
    assert "138****5678" in page
    assert number not in page
    assert "13812345678" not in page
    # the birth date and county code would complete the masked number: only the age is shown
    detail = client.get(reverse("recruitment:applicant-detail", args=[applicant.pk]))
    for shown in (page, detail.content.decode()):
        assert "1990-03-07" not in shown
        assert "510104" not in shown


def test_list_filters(client, sichuan_officer):
    make_applicant(sichuan_officer, name="焊工甲", skills=["welder"])
    make_applicant(sichuan_officer, name="厨师乙", skills=["cook"], consent=False)
    client.force_login(sichuan_officer)
    page = client.get(LIST, {"skill": "welder"}).content.decode()
    assert "焊工甲" in page and "厨师乙" not in page
    page = client.get(LIST, {"consent": "no"}).content.decode()
    assert "厨师乙" in page and "焊工甲" not in page
    page = client.get(LIST, {"q": "厨师"}).content.decode()
    assert "厨师乙" in page and "焊工甲" not in page


def test_list_pages(client, sichuan_officer):
    for _ in range(27):
        make_applicant(sichuan_officer)
    client.force_login(sichuan_officer)
    first = client.get(LIST)
    assert first.context["page_obj"].paginator.num_pages == 2
    assert len(first.context["page_obj"].object_list) == 25
    assert len(client.get(LIST, {"page": 2}).context["page_obj"].object_list) == 2


def test_list_query_count_does_not_grow(client, sichuan_officer):
    client.force_login(sichuan_officer)
    make_applicant(sichuan_officer)
    make_applicant(sichuan_officer)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for _ in range(10):
        make_applicant(sichuan_officer)
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few)


def test_guizhou_sees_nothing_of_sichuan(client, sichuan_officer, guizhou_officer):
    applicant = make_applicant(sichuan_officer, name="川籍工人")
    client.force_login(guizhou_officer)
    assert "川籍工人" not in client.get(LIST).content.decode()
    detail = reverse("recruitment:applicant-detail", args=[applicant.pk])
    assert client.get(detail).status_code == 404
    assert client.post(detail, {"field": "national_id", "reason": "查看"}).status_code == 404
    assert client.get(reverse("recruitment:applicant-edit", args=[applicant.pk])).status_code == 404
    assert not PersonalDataReveal.objects.exists()


def test_reveal_shows_the_number_once_and_records_it(client, sichuan_officer):
    number = national_id_for("510104", date(1990, 3, 7), 2)
    applicant = make_applicant(sichuan_officer, national_id=number)
    detail = reverse("recruitment:applicant-detail", args=[applicant.pk])
    client.force_login(sichuan_officer)
    refused = client.post(detail, {"field": "national_id", "reason": ""})
    assert refused.status_code == 400
    assert number not in refused.content.decode()
    shown = client.post(detail, {"field": "national_id", "reason": "核对身份证原件"})
    assert number in shown.content.decode()
    assert "no-store" in shown["Cache-Control"] or "max-age=0" in shown["Cache-Control"]
    assert number not in client.get(detail).content.decode()
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.actor, reveal.reason) == (sichuan_officer, "核对身份证原件")
    assert "核对身份证原件" in client.get(detail).content.decode()  # listed in recorded looks


def test_an_employer_sees_no_applicant_before_a_placement_and_no_name_before_acceptance(
    client, sichuan_officer, hr_officer, agreements
):
    applicant = make_applicant(sichuan_officer, name="赵六")
    detail = reverse("recruitment:applicant-detail", args=[applicant.pk])
    client.force_login(hr_officer)
    assert client.get(detail).status_code == 404
    posting = make_posting(hr_officer)
    placement = Placement.objects.create(applicant=applicant, posting=posting, status="offered")
    page = client.get(detail).content.decode()
    assert "赵六" not in page
    assert applicant.national_id_masked in page
    assert applicant.phone_masked not in page
    # a name search cannot confirm a hidden name
    assert client.get(LIST, {"q": "赵六"}).context["page_obj"].paginator.count == 0
    assert client.get(LIST).context["page_obj"].paginator.count == 1
    Placement.objects.filter(pk=placement.pk).update(status="accepted")
    page = client.get(detail).content.decode()
    assert "赵六" in page and applicant.phone_masked in page
    assert "赵六" in client.get(LIST).content.decode()


def test_edit_keeps_the_phone_when_left_empty(client, sichuan_officer):
    applicant = make_applicant(sichuan_officer, phone="13812345678")
    client.force_login(sichuan_officer)
    response = client.post(
        reverse("recruitment:applicant-edit", args=[applicant.pk]),
        {"name": "新名字", "phone": "", "minimum_wage": "5000", "consent": "on"},
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert (applicant.name, applicant.phone_masked, applicant.minimum_wage) == (
        "新名字",
        "138****5678",
        5000,
    )


def test_an_hr_officer_cannot_open_the_registration_form(client, hr_officer):
    client.force_login(hr_officer)
    assert client.get(NEW).status_code == 404


def test_export_is_masked_and_formula_safe(client, sichuan_officer):
    import io

    from openpyxl import load_workbook

    number = national_id_for("510104", date(1990, 3, 7), 3)
    make_applicant(sichuan_officer, national_id=number, name="张三")
    make_applicant(sichuan_officer, name="李四", skills=["cook"])
    client.force_login(sichuan_officer)
    csv_text = b"".join(client.get(reverse("recruitment:applicant-export")).streaming_content)
    text = csv_text.decode("utf-8-sig")
    assert "张三" in text and "李四" in text
    assert number not in text
    assert number[:4] + "*" * 10 + number[-4:] in text
    filtered = client.get(
        reverse("recruitment:applicant-export"), {"skill": "cook", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(filtered.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["李四"]


def test_export_cells_that_look_like_formulae_are_escaped(client, sichuan_officer):
    from recruitment.models import Applicant

    applicant = make_applicant(sichuan_officer)
    Applicant.objects.filter(pk=applicant.pk).update(name="=HYPERLINK(1)")
    client.force_login(sichuan_officer)
    body = b"".join(client.get(reverse("recruitment:applicant-export")).streaming_content)
    assert "'=HYPERLINK" in body.decode("utf-8-sig")
