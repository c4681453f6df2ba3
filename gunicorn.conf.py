"""Gunicorn reads this file when started from the project directory (`gunicorn config.wsgi`).

Its access log writes every request line, `POST /hooks/<token>/sms/` included, and Django's logging
settings cannot reach it without removing gunicorn's own handlers; so its logger class adds the
redacting filter itself.
"""

from gunicorn.glogging import Logger

from config.logging import RedactApiKeys


class RedactingLogger(Logger):
    """Gunicorn's logger with API keys and webhook tokens removed from access and error lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactApiKeys) for f in log.filters):
                log.addFilter(RedactApiKeys())


logger_class = RedactingLogger
