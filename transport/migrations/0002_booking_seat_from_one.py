from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transport", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(("seat__isnull", True), ("seat__gte", 1), _connector="OR"),
                name="booking_seat_from_one",
            ),
        ),
    ]
