"""Pages: applicants."""

from __future__ import annotations

urlpatterns: list = []
