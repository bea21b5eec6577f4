"""The API's JSON renderer: DRF's output, written by orjson.

Rendering a page of 200 matches with the standard library took about a tenth of the request;
orjson writes the same JSON several times faster. Dates, times, decimals, lazy translations
and anything else orjson does not know go through DRF's own encoder, so every value is
written exactly as before; U+2028/U+2029 stay escaped, as DRF does. Indented output (the
browsable API, `; indent=`) is left to DRF.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        encoded = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        return encoded.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
