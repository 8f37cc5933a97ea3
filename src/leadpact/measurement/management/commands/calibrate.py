"""``leadpact calibrate``: a lead goal derived from a revenue goal, and a target tested against history."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.core.calibrate import CalibrationError, fit_history, lead_goal, propose_target
from leadpact.core.explain import Lang, format_number


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation as error:
        raise CommandError(f"{option}: {text!r} is not a number") from error
    if not value.is_finite():
        raise CommandError(f"{option}: {text!r} is not a number")
    return value


class Command(BaseCommand):
    help = (
        "Derive a monthly lead goal backwards from a revenue goal (--revenue --share --deal --rate), "
        "and/or test a target against monthly history (--history 120,135,… [--target N])."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--revenue", help="revenue goal per month, e.g. 200000")
        parser.add_argument("--share", help="share of revenue that comes from marketing's leads, e.g. 0.6")
        parser.add_argument("--deal", help="average deal size, e.g. 4000")
        parser.add_argument("--rate", help="lead-to-customer rate, e.g. 0.03")
        parser.add_argument("--history", help="monthly actuals, comma-separated, e.g. 120,135,110,128")
        parser.add_argument("--target", help="the target to test against the history")
        parser.add_argument("--chance", default="0.5", help="for a proposal: wanted chance to meet it (0–1)")
        parser.add_argument("--lang", choices=["en", "nl"], default="en")

    def handle(self, *args: Any, **options: Any) -> None:
        lang = cast(Lang, options["lang"])
        revenue_parts = [options[k] for k in ("revenue", "share", "deal", "rate")]
        if not any(revenue_parts) and not options["history"]:
            raise CommandError("give --revenue --share --deal --rate, or --history (see --help)")
        if any(revenue_parts):
            if not all(revenue_parts):
                raise CommandError("a lead goal needs all four: --revenue --share --deal --rate")
            revenue, share, deal, rate = (
                _decimal(options[k], f"--{k}") for k in ("revenue", "share", "deal", "rate")
            )
            try:
                goal = lead_goal(
                    revenue=revenue, marketing_share=share, average_deal=deal, lead_to_customer=rate
                )
            except CalibrationError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"{format_number(revenue, lang)} × {format_number(share, lang)} "
                f"÷ {format_number(deal, lang)} ÷ {format_number(rate, lang, places=4)} "
                f"= {format_number(goal.exact, lang)} → "
                + (f"{goal.leads} leads a month" if lang == "en" else f"{goal.leads} leads per maand")
            )
        if options["history"]:
            actuals = [
                _decimal(part.strip(), "--history") for part in options["history"].split(",") if part.strip()
            ]
            try:
                fit = fit_history(actuals)
                chance = float(_decimal(options["chance"], "--chance"))
                target = _decimal(options["target"], "--target") if options["target"] else None
                if target is None:
                    target = Decimal(propose_target(actuals, chance=chance))
                    self.stdout.write(
                        f"proposed target for a {chance:.0%} chance: {target}"
                        if lang == "en"
                        else f"voorgesteld doel bij {chance:.0%} kans: {target}"
                    )
                self.stdout.write(fit.summary(target, lang))
            except CalibrationError as error:
                raise CommandError(str(error)) from error
