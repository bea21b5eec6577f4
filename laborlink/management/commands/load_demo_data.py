from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from laborlink.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo organisations, users and agreements drawn from the seed articles."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Load even with DJANGO_DEBUG=false."
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo data (known passwords) with DJANGO_DEBUG=false; "
                "pass --force on a staging system."
            )
        created = load_demo_data()
        summary = ", ".join(f"{key} +{value}" for key, value in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({summary})."))
