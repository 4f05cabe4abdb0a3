"""manage.py repair_uploads: store old uploads under their real type; quarantine what isn't one."""

from django.apps import apps
from django.core.management.base import BaseCommand

from generation.storage.upload_repair import repair_uploads


class Command(BaseCommand):
    help = ("Re-detect stored reference images, character images and reference videos: rename real ones to "
            "their true extension, quarantine anything that is not a JPEG/PNG/WebP image or MP4/MOV video.")

    def handle(self, *args, **options):
        report = repair_uploads(apps)
        for line in report:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"{len(report)} stored upload(s) repaired."))
