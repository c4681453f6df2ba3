"""Settings for bench/bench_board.py: the product's own settings, with a URLconf that adds a bare view.

Everything else (middleware, sessions, database, DEBUG from the environment) is config.settings as is, so
the bare view and the live board are served by the same stack.
"""

import os

# Importing config.settings imports the config package first, whose Celery app reads Django's settings
# while this module is still half-loaded: let that read find config.settings. Django then settles on this
# module, once it is loaded.
_chosen = os.environ.get("DJANGO_SETTINGS_MODULE", "bench.settings_board")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
try:
    from config.settings import *  # noqa: E402, F403
finally:
    os.environ["DJANGO_SETTINGS_MODULE"] = _chosen

ROOT_URLCONF = "bench.urls"
