"""Write the signed checkpoints as JSON lines, to keep outside the database."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from audit.models import AuditCheckpoint
from audit.signing import public_key_text, signing_key


class Command(BaseCommand):
    help = ("Export the audit trail's signed checkpoints as JSON lines (oldest first) to a file "
            "or standard output. Keep the file where the database's users cannot write, and "
            "check it later with verify_audit --checkpoints FILE.")

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: stdout)")
        parser.add_argument("--since", type=int, default=0, metavar="SEQUENCE",
                            help="Only checkpoints past this sequence (to append to a file)")
        parser.add_argument("--print-public-key", action="store_true",
                            help="Print the public key of AUDIT_SIGNING_KEY (base64) and stop")

    def handle(self, *args, output, since, print_public_key, **options):
        if print_public_key:
            self.stdout.write(public_key_text(signing_key().public_key()))
            return
        rows = AuditCheckpoint.objects.filter(sequence__gt=since).order_by("sequence", "id")
        lines = [json.dumps(cp.as_export(), sort_keys=True) + "\n" for cp in rows.iterator()]
        if output is None:
            for line in lines:
                self.stdout.write(line, ending="")
            return
        with output.open("a") as handle:
            handle.writelines(lines)
        self.stderr.write(f"{len(lines)} checkpoint(s) appended to {output}")
