from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LaborlinkConfig(AppConfig):
    name = "laborlink"
    verbose_name = _("LaborLink platform")

    def ready(self) -> None:
        from laborlink import (
            accounts,  # noqa: F401 - connects the log-in signal receiver
            schema,  # noqa: F401 - registers the OpenAPI extension
        )
