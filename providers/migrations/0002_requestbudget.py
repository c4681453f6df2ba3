from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestBudget",
            fields=[
                ("name", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("tokens", models.FloatField()),
                ("updated_at", models.FloatField()),
            ],
        ),
    ]
