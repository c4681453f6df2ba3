from django.apps import AppConfig


class RentalsConfig(AppConfig):
    name = "rentals"

    def ready(self) -> None:
        from purchases.services import InFlight, register_in_flight
        from rentals.models import Rental, RentalRenewal

        register_in_flight(InFlight(Rental))
        register_in_flight(InFlight(RentalRenewal, amount="price", key_path="rental__api_key"))
