"""Verify the audit trail's hash chain and signed checkpoints; exit 1 when anything is wrong."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.verification import audit_trail_verify, checkpoints_from_lines


class Command(BaseCommand):
    help = ("Check every audit event's hash and link, that no sequence is missing, and the "
            "signed checkpoints (the table's and an exported file's). Exit status 1 on failure.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoints", type=Path, action="append", default=[],
                            metavar="FILE", help="Checkpoints exported with "
                            "export_audit_checkpoints (JSON lines); may be repeated.")
        parser.add_argument("--no-table", action="store_true",
                            help="Ignore the checkpoints table; only the files count.")
        parser.add_argument("--public-key", action="append", default=[], metavar="KEY",
                            help="Verify signatures with this Ed25519 public key (base64 or "
                                 "PEM) instead of AUDIT_SIGNING_KEY's; may be repeated.")

    def handle(self, *args, checkpoints, no_table, public_key, verbosity, **options):
        given = []
        for path in checkpoints:
            try:
                given += checkpoints_from_lines(path.read_text().splitlines(), name=path.name)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
        try:
            report = audit_trail_verify(checkpoints=given, use_table=not no_table,
                                        public_keys=public_key or None)
        except (ValueError, ImproperlyConfigured) as exc:  # a key that is not one
            raise CommandError(str(exc)) from exc
        summary = (f"{report.events} events, head at sequence {report.head_sequence}, "
                   f"{report.checkpoints} signed checkpoints checked")
        if report.ok:
            newest = report.newest_checkpoint
            self.stdout.write(f"OK: {summary}.")
            if newest is None:
                self.stdout.write("No signed checkpoint yet: the chain is consistent, but "
                                  "nothing vouches that it was not rewritten as a whole.")
            elif newest["sequence"] < report.head_sequence:
                self.stdout.write(f"Events after sequence {newest['sequence']} are not covered "
                                  "by a signed checkpoint yet.")
            return
        self.stderr.write(f"FAILED: {summary}; {len(report.problems)} problem(s), the first "
                          "broken place first:")
        for problem in report.problems:
            self.stderr.write(f"- {problem}")
        raise SystemExit(1)
