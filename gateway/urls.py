from django.urls import path

from gateway import protocol

urlpatterns = [
    # Where every client library looks for the protocol: only the host changes for a script.
    path("stubs/handler_api.php", protocol.handler_api, name="gateway_handler_api"),
]
