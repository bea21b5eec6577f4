"""The orjson renderer writes what DRF's JSONRenderer writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from laborlink.json_renderer import OrjsonRenderer

SHANGHAI = timezone(timedelta(hours=8))


def test_the_same_bytes_as_drf_for_the_values_the_api_holds():
    data = {
        "id": 12,
        "score": 0.734,
        "wage": Decimal("5200.50"),
        "name": "张三",
        "label": gettext_lazy("Export"),
        "when": datetime(2026, 11, 22, 2, 0, 0, 123456, tzinfo=SHANGHAI),
        "utc": datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
        "day": date(2026, 11, 22),
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested": [{"a": None, "b": True}, ("x", 1)],
        7: "int key",
        "separator": "line\u2028break\u2029end",
    }
    drf = JSONRenderer().render(data)
    ours = OrjsonRenderer().render(data)
    assert ours == drf
    assert b"\\u2028" in ours and "\u2028".encode() not in ours
    assert json.loads(ours)["when"] == "2026-11-22T02:00:00.123456+08:00"


def test_indented_output_and_none_are_left_to_drf():
    renderer = OrjsonRenderer()
    assert renderer.render(None) == b""
    indented = renderer.render({"a": [1]}, "application/json; indent=2")
    assert indented == JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert b"\n" in indented
