"""The gateway's action handlers, one module per group; importing this package registers them all."""

from gateway.actions import catalogue  # noqa: F401
