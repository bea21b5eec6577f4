"""The published lists, at stable URLs, for anyone verifying offline:

- /health/trust-list.json: the JWKS (RFC 7517) of every authority's active and retired keys;
- /health/revocations.json: {"revoked": [certificate numbers], "generated_at": ISO time}.

Both are public and cacheable for five minutes, with a strong ETag (the SHA-256 of the body;
If-None-Match answers 304) and RFC 9530 `Content-Digest` / `Repr-Digest: sha-256=:…:`
headers so that a downloader can check the bytes it received (no content coding is applied,
so both digest the same bytes). The bodies depend on the data only, never on
the clock, so that the ETag changes exactly when the list does: "generated_at" is the time of
the latest revocation, the moment the list took its present content."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe

from health import selectors
from health.models import HealthCertificate

MAX_AGE = 300


def _etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2)."""
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def published_json(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).digest()
    etag = f'"{digest.hex()}"'
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
        encoded = base64.b64encode(digest).decode("ascii")
        if request.method == "GET":  # a HEAD response has no content to digest
            response["Content-Digest"] = f"sha-256=:{encoded}:"
        response["Repr-Digest"] = f"sha-256=:{encoded}:"
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    # verifiers of other provinces may fetch the lists from their own web pages
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def trust_list(request: HttpRequest) -> HttpResponse:
    return published_json(request, selectors.trust_list())


@require_safe
def revocations(request: HttpRequest) -> HttpResponse:
    latest = HealthCertificate.objects.filter(status=HealthCertificate.Status.REVOKED).aggregate(
        latest=Max("revoked_at")
    )["latest"]
    return published_json(
        request,
        {
            "revoked": selectors.revoked_certificate_numbers(),
            "generated_at": timezone.localtime(latest).isoformat() if latest else None,
        },
    )


urlpatterns = [
    path("trust-list.json", trust_list, name="trust-list"),
    path("revocations.json", revocations, name="revocations"),
]
