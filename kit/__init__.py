"""Plain building blocks every app shares and none owns: the keyset cursor, the CSV writer, the money
and time formatter, the live-board answers (`boards`). Imports only Django and django-htmx, so every
layer may use it."""
