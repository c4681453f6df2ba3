"""Re-encrypt every stored API key under the current SIMDESK_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.crypto import rotate_secret
from accounts.models import ApiKey


class Command(BaseCommand):
    help = (
        "Set the new key in SIMDESK_ENCRYPTION_KEY and the old one in SIMDESK_ENCRYPTION_KEYS_OLD, run this, "
        "then drop the old key from SIMDESK_ENCRYPTION_KEYS_OLD."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for key in ApiKey.objects.select_for_update().only("pk", "secret_encrypted"):
                key.secret_encrypted = rotate_secret(key.secret_encrypted)
                key.save(update_fields=["secret_encrypted"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} API key(s) under the current encryption key.")
