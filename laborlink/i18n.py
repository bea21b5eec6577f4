"""Translation helpers."""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy


def _percent(template: Any, **params: Any) -> str:
    return str(template) % params


# `_("… %(days)d …") % {...}` in a class body is rendered once, in the language active at
# import time; this stays lazy and is rendered in the language of each request.
format_lazy_percent = lazy(_percent, str)
