from django.apps import AppConfig


class ActivationsConfig(AppConfig):
    name = "activations"

    def ready(self) -> None:
        from activations.models import Activation
        from purchases.services import InFlight, register_in_flight

        register_in_flight(InFlight(Activation))
