"""The 34 provincial-level divisions with their GB/T 2260 codes."""

from django.db import migrations

from laborlink.regions import PROVINCES


def load(apps, schema_editor):
    Province = apps.get_model("laborlink", "Province")
    for code, name_zh, name_en, abbreviation, kind in PROVINCES:
        Province.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "abbreviation": abbreviation,
                "kind": kind,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("laborlink", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
