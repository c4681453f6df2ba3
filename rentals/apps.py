from django.apps import AppConfig


class RentalsConfig(AppConfig):
    name = "rentals"

    def ready(self) -> None:
        from accounts.spending import register_pending
        from rentals.services import committed_unrecorded

        register_pending(committed_unrecorded)
