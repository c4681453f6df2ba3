"""Plain building blocks every app shares and none owns: the keyset cursor, the CSV writer, the money
and time formatter, the live-board version answer. Imports only Django, so every layer may use it."""
