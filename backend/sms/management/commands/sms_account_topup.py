"""Operators credit purchased segments to an org's SMS account:

manage.py sms_account_topup --org 12 --segments 20000 [--memo "2026 年合同"]
manage.py sms_account_topup --org 12 --segments 20000 --create --signature 洛阳市西工区示范小学
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.conventions.errors import ApiError
from backend.schools.models import Org
from backend.sms.models import SmsAccount
from backend.sms.services import sms_account_create, sms_account_top_up


class Command(BaseCommand):
    help = "Top up the SMS account of an org (bureau or school) with purchased segments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", type=int, required=True, help="org id (bureau or school)")
        parser.add_argument("--segments", type=int, required=True, help="segments to credit")
        parser.add_argument("--memo", default="", help="what the top-up is for (contract, invoice)")
        parser.add_argument("--create", action="store_true", help="open the account if the org has none")
        parser.add_argument("--signature", default="", help="signature of a new account, e.g. 某某小学")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(pk=options["org"]).first()
        if org is None:
            raise CommandError(f"no org with id {options['org']}")
        account = SmsAccount.objects.filter(org=org, owner__isnull=True).first()
        try:
            if account is None:
                if not options["create"]:
                    raise CommandError(f"{org.name} has no SMS account; pass --create (and --signature)")
                account = sms_account_create(org=org, signature=options["signature"] or org.name)
            sms_account_top_up(
                account=account, segments=options["segments"], memo=options["memo"], ref="command:topup"
            )
        except ApiError as exc:
            raise CommandError(exc.message) from None
        account.refresh_from_db()
        self.stdout.write(
            f"{account.name}: +{options['segments']} segments, balance {account.balance}, "
            f"available {account.available}"
        )
