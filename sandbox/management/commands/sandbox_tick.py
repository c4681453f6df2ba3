"""Advance the sandbox clock and deliver webhooks once, or forever with --loop SECONDS."""

import time

from django.core.management.base import BaseCommand, CommandParser

from sandbox import services


class Command(BaseCommand):
    help = "Advance the sandbox (deliver due SMS, expire numbers, end rents) and send due webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="repeat every SECONDS until stopped"
        )

    def handle(self, *args, loop: float | None, **options) -> None:
        while True:
            changes, delivered = services.tick()
            if options["verbosity"] > 1 or not loop:
                self.stdout.write(f"{changes} changes, {delivered} webhooks delivered")
            if not loop:
                return
            time.sleep(loop)
