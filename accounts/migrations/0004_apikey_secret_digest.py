"""The keyed digest of every key's secret, and one live key per secret in a team.

Each stored secret is decrypted once here to compute its digest. Where a team already holds the same
secret in several live keys, the oldest gets the digest and the others stay without one, so the
constraint can be created; nothing is archived behind the team's back.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models

from accounts.crypto import decrypt_secret, secret_digest


def fill_digests(apps, schema_editor):
    ApiKey = apps.get_model("accounts", "ApiKey")
    taken: set[tuple[int, str]] = set()
    for key in ApiKey.objects.order_by("pk").only("pk", "team_id", "status", "secret_encrypted"):
        try:
            digest = secret_digest(decrypt_secret(key.secret_encrypted))
        except ImproperlyConfigured:
            continue  # unreadable under the configured keys: it gets a digest when it is re-entered
        if key.status != "archived":
            if (key.team_id, digest) in taken:
                continue
            taken.add((key.team_id, digest))
        ApiKey.objects.filter(pk=key.pk).update(secret_digest=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_auditentry_team_recent"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="secret_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="apikey",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    models.Q(("status", "archived"), _negated=True),
                    models.Q(("secret_digest", ""), _negated=True),
                ),
                fields=("team", "secret_digest"),
                name="apikey_unique_live_secret_per_team",
            ),
        ),
    ]
