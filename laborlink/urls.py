from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from oauth2_provider import views as oauth2_views
from rest_framework.routers import DefaultRouter

from health import api as health_api
from laborlink import accounts, api, audit_pages, views
from matching import api as matching_api
from matching import views as matching_views
from recruitment import api as recruitment_api

router = DefaultRouter()
router.register("provinces", api.ProvinceViewSet, basename="province")
router.register("agreements", api.AgreementViewSet, basename="agreement")
router.register("postings", recruitment_api.JobPostingViewSet, basename="posting")
router.register("applicants", recruitment_api.ApplicantViewSet, basename="applicant")
router.register("whitelist", recruitment_api.WhitelistEntryViewSet, basename="whitelist-entry")
router.register("certificates", health_api.CertificateViewSet, basename="certificate")
router.register("issuing-keys", health_api.IssuingKeyViewSet, basename="issuing-key")
router.register("matching/runs", matching_api.RunViewSet, basename="matching-run")
router.register("matching/matches", matching_api.MatchViewSet, basename="match")

# Only the token endpoints: machine clients use the client-credentials grant.
oauth2_urlpatterns = [
    # Failed client authentications count toward the lock-out (laborlink.accounts).
    path("token/", accounts.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
]

# Redoc (styled-components) writes <style> elements and searches in a blob: worker; this
# page only may do so. No page, this one included, allows an inline script.
REDOC_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/", accounts.otp_verify, name="otp-verify"),
    path("accounts/two-step/", accounts.otp_settings, name="otp-settings"),
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        accounts.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("recruitment/", include("recruitment.urls")),
    path("health/", include("health.urls")),
    path("matching/", include("matching.urls")),
    path("transport/", include("transport.urls")),
    *audit_pages.urlpatterns,
    *matching_views.offer_urlpatterns,
    path("admin/", admin.site.urls),
    path("o/", include((oauth2_urlpatterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("api/v1/me/", api.MeView.as_view(), name="api-me"),
    path("api/v1/transport/", include("transport.api_urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update(REDOC_CSP)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]

# Under /api/, Django's own 400 and 404 answer in the API's one error shape.
handler400 = "laborlink.api.bad_request"
handler404 = "laborlink.api.page_not_found"
