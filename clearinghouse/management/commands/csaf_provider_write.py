"""Write the public CSAF provider directory again from the published advisories (publication
does it after each publication; run this on a new host or after restoring a backup)."""

from django.core.management.base import BaseCommand

from clearinghouse.exports.provider import read_directory
from clearinghouse.exports.validate import validate_provider_metadata


class Command(BaseCommand):
    help = "Write /.well-known/csaf/ (the CSAF provider directory) from published advisories."

    def handle(self, *args, **options):
        import json

        from clearinghouse.publication import provider_directory_write

        root = provider_directory_write()
        files = read_directory(root)
        report = validate_provider_metadata(json.loads(files["provider-metadata.json"]))
        documents = sum(1 for name in files if name.endswith(".json")) - 1
        self.stdout.write(f"Wrote {root}: {documents} CSAF document(s); provider metadata "
                          f"{'valid' if report['ok'] else 'INVALID: ' + str(report['errors'])}.")
