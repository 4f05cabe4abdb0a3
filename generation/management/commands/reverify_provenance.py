"""Recompute stored takes' provenance verdicts (after C2PA_TRUST_ANCHORS or the signing CA changed)."""

from django.core.management.base import BaseCommand

from generation.provenance.reverify import renders_reverify_provenance


class Command(BaseCommand):
    help = ("Re-read every stored take's video and recompute its provenance verdict with the trust "
            "anchors configured now. Nothing is downloaded again.")

    def add_arguments(self, parser):
        parser.add_argument("--if-changed", action="store_true",
                            help="Do nothing when the anchors' fingerprint is the one verdicts were computed with.")

    def handle(self, *args, if_changed=False, **options):
        result = renders_reverify_provenance(only_if_changed=if_changed)
        if result.skipped:
            self.stdout.write("Trust anchors unchanged since the last check; verdicts kept.")
            return
        self.stdout.write(f"Re-verified {result.checked} take(s): {result.changed} verdict(s) changed"
                          + (f", {result.unreadable} stored file(s) unreadable." if result.unreadable else "."))
