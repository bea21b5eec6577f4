"""Print the latest messages of the SMS outbox (for sites without a gateway, and the demo):

    python manage.py sms_outbox [--last 10] [--purpose matching.offer]

Numbers are shown masked; the text (which may hold a personal link) is shown to the operator
running the command, never logged.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from laborlink.models import SmsMessage
from laborlink.notifications import sms_text


class Command(BaseCommand):
    help = "Print the latest messages of the SMS outbox."

    def add_arguments(self, parser):
        parser.add_argument("--last", type=int, default=10)
        parser.add_argument("--purpose", default="")

    def handle(self, *args, last: int, purpose: str, **options):
        messages = SmsMessage.objects.order_by("-created_at", "-id")
        if purpose:
            messages = messages.filter(purpose=purpose)
        for message in reversed(list(messages[:last])):
            self.stdout.write(
                f"#{message.pk} {timezone.localtime(message.created_at):%Y-%m-%d %H:%M} "
                f"{message.phone_masked} "
                f"[{message.get_status_display()}] {sms_text(message)}"
            )
