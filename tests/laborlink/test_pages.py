"""Log-in, the role-aware home page and the language switch."""

import pytest

from tests.factories import TEST_PASSWORD


@pytest.mark.django_db
def test_home_requires_login_and_the_login_page_is_chinese(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html


def test_wrong_password_gets_a_clear_error(client, hr_officer):
    page = client.post("/accounts/login/", {"username": "hr_yuhuan", "password": "nope"})
    assert page.status_code == 200
    assert "请输入一个正确的" in page.content.decode()


@pytest.mark.parametrize(
    ("fixture", "role_zh", "org_zh", "duty_zh"),
    [
        ("hr_officer", "人事专员", "玉环康达医疗器械有限公司", "发布急需岗位"),
        ("sichuan_officer", "人社部门工作人员", "四川省人力资源和社会保障厅", "审核白名单"),
        ("health_officer", "卫生健康工作人员", "四川省广安市卫生健康委员会", "健康证明"),
    ],
)
def test_home_shows_organization_and_role(db, client, request, fixture, role_zh, org_zh, duty_zh):
    user = request.getfixturevalue(fixture)
    # Through the log-in form: the lock-out backend needs the request (client.login has none).
    credentials = {"username": user.username, "password": TEST_PASSWORD}
    assert client.post("/accounts/login/", credentials).status_code == 302
    html = client.get("/").content.decode()
    assert role_zh in html
    assert org_zh in html
    assert duty_zh in html


def test_home_lists_agreements_of_the_users_province_only(client, agreements, guizhou_officer):
    client.force_login(guizhou_officer)
    html = client.get("/").content.decode()
    assert agreements["zj_gz"].title in html
    assert agreements["zj_sc"].title not in html
    assert agreements["gd_gx"].title not in html


def test_language_switch_to_english_and_back(client, hr_officer):
    client.force_login(hr_officer)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "HR officer" in html and "Welcome" in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "欢迎" in client.get("/").content.decode()


def test_home_query_count_does_not_grow_with_agreements(
    client, zhejiang_officer, django_assert_max_num_queries
):
    from tests.factories import AgreementFactory, province

    client.force_login(zhejiang_officer)
    AgreementFactory(importing_province=province("33"), exporting_province=province("51"))
    with django_assert_max_num_queries(12) as few:
        client.get("/")
    for code in ["52", "53", "41", "34", "36", "43"]:
        AgreementFactory(importing_province=province("33"), exporting_province=province(code))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/")
    assert response.content.decode().count("<td>劳务协作协议") == 7


def test_logout_is_a_post(client, hr_officer):
    client.force_login(hr_officer)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/admin/laborlink/province/",
        "/admin/laborlink/organization/",
        "/admin/laborlink/user/",
        "/admin/laborlink/cooperationagreement/",
        "/admin/laborlink/cooperationagreement/add/",
        "/admin/oauth2_provider/application/",
    ],
)
def test_admin_pages_for_the_vocabulary(client, platform_admin, agreements, path):
    client.force_login(platform_admin)
    response = client.get(path)
    assert response.status_code == 200


def test_admin_is_closed_to_officers(client, sichuan_officer):
    client.force_login(sichuan_officer)
    assert client.get("/admin/laborlink/organization/").status_code == 302
