"""The gateway's action handlers, one module per group; importing this package registers them all."""

from gateway.actions import activations, catalogue, extra, rentals  # noqa: F401
