"""A logging filter that removes API keys and webhook tokens from every record (the sandbox's request lines
carry keys; the access log's `POST /hooks/<token>/sms/` lines carry the secret part of a webhook URL)."""

import logging
import re

# `api_key=<value>` in a query string, as the dev server's access log and some libraries print URLs.
API_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+", re.IGNORECASE)

# `/hooks/<token>/`: anyone holding a key's webhook URL can post codes for it, so it is as secret as a key.
WEBHOOK_TOKEN_IN_PATH = re.compile(r"(/hooks/)[^/\s\"'?#]+", re.IGNORECASE)


def redact(text: str) -> str:
    return WEBHOOK_TOKEN_IN_PATH.sub(r"\1••••", API_KEY_IN_URL.sub(r"\1••••", text))


class RedactApiKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
