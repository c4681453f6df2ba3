"""Re-encrypt every stored API key under the current SIMDESK_ENCRYPTION_KEY, and remake its digest with it."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.crypto import decrypt_secret, encrypt_secret, secret_digest
from accounts.models import ApiKey


class Command(BaseCommand):
    help = (
        "Set the new key in SIMDESK_ENCRYPTION_KEY and the old one in SIMDESK_ENCRYPTION_KEYS_OLD, run this, "
        "then drop the old key from SIMDESK_ENCRYPTION_KEYS_OLD."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            keys = ApiKey.objects.select_for_update().only("pk", "secret_encrypted", "secret_digest")
            for key in keys:
                plain = decrypt_secret(key.secret_encrypted)
                key.secret_encrypted = encrypt_secret(plain)
                # The digest is keyed with the encryption key too; a key left without one stays so.
                if key.secret_digest:
                    key.secret_digest = secret_digest(plain)
                key.save(update_fields=["secret_encrypted", "secret_digest"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} API key(s) under the current encryption key.")
