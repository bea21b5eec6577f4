"""The platform's list of occupations used by postings (what the job is) and applicants
(what they can do). Codes are stable identifiers stored in the database and exchanged over
the API and in import files; the names are translated for display.

`GENERAL_WORKER` postings accept any applicant: no skill is needed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Occupation(models.TextChoices):
    GENERAL_WORKER = "general_worker", _("General worker")
    ASSEMBLER = "assembler", _("Assembly-line worker")
    ELECTRONICS_ASSEMBLER = "electronics_assembler", _("Electronics assembler")
    MEDICAL_DEVICE_ASSEMBLER = "medical_device_assembler", _("Medical-device assembler")
    MACHINE_OPERATOR = "machine_operator", _("Machine operator")
    CNC_OPERATOR = "cnc_operator", _("CNC machinist")
    WELDER = "welder", _("Welder")
    ELECTRICIAN = "electrician", _("Electrician")
    SEWING_OPERATOR = "sewing_operator", _("Sewing-machine operator")
    FOOD_PROCESSING = "food_processing", _("Food-processing worker")
    SEAFOOD_PROCESSING = "seafood_processing", _("Seafood-processing worker")
    QUALITY_INSPECTOR = "quality_inspector", _("Quality inspector")
    PACKER = "packer", _("Packer")
    WAREHOUSE = "warehouse", _("Warehouse keeper")
    LOGISTICS_SORTER = "logistics_sorter", _("Logistics sorter")
    FORKLIFT_DRIVER = "forklift_driver", _("Forklift driver")
    TRUCK_DRIVER = "truck_driver", _("Truck driver")
    CONSTRUCTION = "construction", _("Construction worker")
    COOK = "cook", _("Cook")
    CLEANER = "cleaner", _("Cleaner")
    SECURITY_GUARD = "security_guard", _("Security guard")
    CAREGIVER = "caregiver", _("Caregiver")
    FARM_WORKER = "farm_worker", _("Farm worker")


OCCUPATION_CODES = frozenset(Occupation.values)


def occupation_label(code: str) -> str:
    """The translated name of an occupation code (the code itself if unknown)."""
    try:
        return str(Occupation(code).label)
    except ValueError:
        return code
