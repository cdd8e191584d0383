"""``accord token issue --user NAME`` / ``accord token revoke PREFIX``: manage API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.cli import actors
from accord.usecases import api_tokens


class Command(BaseCommand):
    help = (
        "Manage API tokens. 'issue' prints a new token for a user exactly once: "
        "only its hash is stored, so copy it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        issue = actions.add_parser("issue", help="issue a token for a user and print it once")
        issue.add_argument("--user", required=True, help="user name of the token's owner")
        issue.add_argument("--name", default="api", help="label for the token (default: api)")
        revoke = actions.add_parser("revoke", help="revoke a token by the prefix it starts with")
        revoke.add_argument("prefix", help="the token's first 8 characters, e.g. acc_AbCd")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "issue":
            self._issue(username=options["user"], name=options["name"])
        else:
            self._revoke(prefix=options["prefix"][: api_tokens.PREFIX_LENGTH])

    def _revoke(self, *, prefix: str) -> None:
        try:
            row = api_tokens.revoke_api_token(
                prefix=prefix, actor=actors.cli_actor(), now=timezone.now()
            )
        except (api_tokens.UnknownToken, api_tokens.AmbiguousToken) as unknown:
            raise CommandError(str(unknown)) from None
        self.stdout.write(f"Revoked API token {row.name!r} ({row.prefix}…) of {row.user}.")

    def _issue(self, *, username: str, name: str) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"no user is called {username!r}") from None
        try:
            token = api_tokens.issue_api_token(
                user=user, name=name, actor=actors.cli_actor(), now=timezone.now()
            )
        except api_tokens.TokenRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(token)
        self.stderr.write(
            f"Issued API token {name!r} for {username}. Store it now: it cannot be shown again."
        )
