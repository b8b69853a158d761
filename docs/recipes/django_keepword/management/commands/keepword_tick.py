"""``python manage.py keepword_tick``: fire the escalation steps that are due."""

from django.core.management.base import BaseCommand

from django_keepword import tracking


class Command(BaseCommand):
    help = (
        "Fire every keepword escalation step whose time has come, once, and say when to tick next."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant to tick (default: settings.KEEPWORD's)")
        parser.add_argument("--limit", type=int, default=500, help="at most this many commitments")

    def handle(self, *args, tenant=None, limit=500, **options):
        tracker = tracking.tracker(tenant)
        while True:
            report = tracker.tick(limit=limit)
            self.stdout.write(
                f"{tracker.tenant}: fired {report.fired} notices, "
                f"recorded {report.breaches} breaches"
            )
            if not report.more:
                break
        wakeup = tracker.next_wakeup()
        self.stdout.write(f"next tick due: {wakeup.isoformat() if wakeup else 'nothing scheduled'}")
