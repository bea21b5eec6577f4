"""Request parsers for the whole API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class NestingSafeJSONParser(JSONParser):
    """DRF's JSON parser turns only ValueError into a 400; a deeply nested body (`[[[[…`)
    raises RecursionError, which would answer 500 on an endpoint open to anyone."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON parse error: nested too deeply.")) from exc
