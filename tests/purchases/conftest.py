"""The purchase core is tested through the features that spend money: the activation and rental fixtures."""

from tests.activations.conftest import (  # noqa: F401 - fixtures shared with the activation tests
    _steady_sandbox,
    make_key,
    operator,
    owner,
)
