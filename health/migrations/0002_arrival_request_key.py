import uuid

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    ArrivalCheck = apps.get_model("health", "ArrivalCheck")
    for check in ArrivalCheck.objects.filter(request_key__isnull=True).only("pk"):
        ArrivalCheck.objects.filter(pk=check.pk).update(request_key=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="arrivalcheck",
            name="request_key",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="arrivalcheck",
            name="request_key",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
