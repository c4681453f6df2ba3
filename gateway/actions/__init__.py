"""The gateway's action handlers, one module per group; importing this package registers them all."""

from gateway.actions import activations, catalogue, rentals  # noqa: F401
