from django.apps import AppConfig


class ActivationsConfig(AppConfig):
    name = "activations"

    def ready(self) -> None:
        from accounts.spending import register_pending
        from activations.services import committed_unrecorded

        register_pending(committed_unrecorded)
