"""English date and time formats with a 24-hour clock (Django's own English formats use "4:05 p.m.").

Found through settings.FORMAT_MODULE_PATH; what is not set here comes from Django's English formats.
Russian already counts hours to 24 (django/conf/locale/ru/formats.py).
"""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
]
