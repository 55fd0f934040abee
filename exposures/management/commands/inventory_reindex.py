"""Rebuild every asset's blind indexes from its decrypted details (exposures/inventory.py):
run after INVENTORY_INDEX_KEY (or the SECRET_KEY it derives from) changed. Idempotent."""

from django.core.management.base import BaseCommand

from exposures.inventory import inventory_reindex


class Command(BaseCommand):
    help = "Recompute operators' assets' blind indexes from their encrypted details."

    def add_arguments(self, parser):
        parser.add_argument("--inventory", type=int, default=None,
                            help="Only this inventory's id.")

    def handle(self, *args, **options):
        counts = inventory_reindex(inventory_id=options["inventory"])
        self.stdout.write(f"{counts['inventories']} inventories, {counts['assets']} assets, "
                          f"{counts['changed']} re-indexed.")
