from django.core.management.base import BaseCommand

from jobs.services import outbox_redeliver_lost, outbox_relay_once


class Command(BaseCommand):
    help = ("Publish the outbox's waiting jobs (workers do this all the time; use this to drain "
            "the outbox by hand, e.g. when no worker runs).")

    def add_arguments(self, parser):
        parser.add_argument("--redeliver", action="store_true",
                            help="also publish again jobs whose message was lost")

    def handle(self, *args, redeliver=False, **options):
        again = outbox_redeliver_lost() if redeliver else []
        total = 0
        while published := outbox_relay_once():
            total += published
        self.stdout.write(f"published {total}; redelivered {len(again)}")
