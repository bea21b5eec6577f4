from django.core.management.base import BaseCommand, CommandError

from laborlink.errors import DomainError
from laborlink.models import Organization
from laborlink.services import api_client_create


class Command(BaseCommand):
    help = "Create an OAuth2 client-credentials client bound to one province's bureau."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="GB/T 2260 code, e.g. 51")
        parser.add_argument("--name", required=True, help="Name of the client system")
        parser.add_argument(
            "--bureau-id", type=int, help="Bureau organisation id (default: the province's)"
        )

    def handle(self, *args, province, name, bureau_id=None, **options):
        bureaus = Organization.objects.filter(kind=Organization.Kind.BUREAU, province_id=province)
        if bureau_id:
            bureaus = bureaus.filter(pk=bureau_id)
        else:
            bureaus = bureaus.filter(level=Organization.Level.PROVINCE)
        bureau = bureaus.first()
        if bureau is None:
            raise CommandError(f"No bureau found for province {province}.")
        try:
            _machine, application, secret = api_client_create(actor=None, bureau=bureau, name=name)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"client_id:     {application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("The secret is stored hashed; this is the only time it is shown.")
