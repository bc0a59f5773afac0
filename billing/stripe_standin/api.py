"""The Stripe objects the stand-in keeps and the API operations on them (no HTTP, no Django).

`Api` holds every object in `objects` (keyed by id; `meta` records which account owns it and its creation order) and
the balances per account and currency. Its methods take the decoded request parameters and return the response
object, or raise `StripeError` with the status, type and code Stripe returns. The caller holds the lock.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PLATFORM = ""  # the "account" of the API key itself; connected accounts are their acct_ ids
DEFAULT_CURRENCIES = ("usd", "eur", "gbp")
DEFAULT_PLATFORM_BALANCE = 1_000_000_000  # 10,000,000.00 in each default currency, so dev payouts work
API_VERSION = "2026-10-28.endive"  # what stripe-python 16 sends; events echo the caller's Stripe-Version if any

Obj = dict[str, Any]


class StripeError(Exception):
    """An API error as Stripe returns it. `saved` is False when Stripe would not store it for the idempotency key
    (the request failed validation before the endpoint began executing), so a retry with the same key runs again."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.saved = status, saved
        self.body = {"error": {"type": type, "code": code, "message": message, "param": param, **extra}}


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param, saved=False)


def missing(kind: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param, saved=False)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _int(params: dict, name: str, *, required: bool = True, minimum: int = 1) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise invalid(f"Missing required param: {name}.", name, "parameter_missing")
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {raw}", name, "parameter_invalid_integer") from None
    if value < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", name)
    return value


def _str(params: dict, name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise invalid(f"Missing required param: {name}.", name, "parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {value!r}", name)
    return value


def _currency(params: dict) -> str:
    currency = str(_str(params, "currency")).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}.", "currency")
    return currency


def _metadata(params: dict, existing: dict | None = None) -> dict[str, str]:
    value = params.get("metadata", {})
    if value == "":  # metadata= clears it
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", "metadata")
    merged = {**(existing or {}), **{str(k): str(v) for k, v in value.items()}}
    return {k: v for k, v in merged.items() if v != ""}  # metadata[key]= unsets a key


# Test payment methods (https://docs.stripe.com/testing): the declines answer as Stripe does.
TEST_CARDS_OK = {"pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_visa_debit"}
TEST_CARDS_DECLINED = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
}


@dataclass
class Api:
    emit: Callable[[str, Obj, str, dict | None], None]  # (event type, object, owner account, previous_attributes)
    clock: Callable[[], float] = time.time
    objects: dict[str, Obj] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)  # id -> {"owner": account, "seq": n}
    balances: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # account -> currency -> kind
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # acct -> return/refresh url of the last link
    seq: int = 0
    site: str = ""  # this server's address as the caller reached it (for the onboarding link)

    # --- storage ------------------------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def add(self, obj: Obj, owner: str) -> Obj:
        self.seq += 1
        self.objects[obj["id"]] = obj
        self.meta[obj["id"]] = {"owner": owner, "seq": self.seq}
        return obj

    def base(self, prefix: str, kind: str, **fields: Any) -> Obj:
        return {"id": new_id(prefix), "object": kind, "created": self.now(), "livemode": False, **fields}

    def get(self, kind: str, obj_id: str, owner: str | None, param: str = "id") -> Obj:
        obj = self.objects.get(obj_id)
        if obj is None or obj["object"] != kind or (owner is not None and self.meta[obj_id]["owner"] != owner):
            raise missing(kind, obj_id, param)
        return obj

    def list(self, kind: str, owner: str | None, params: dict, url: str, **filters: Any) -> Obj:
        items = [
            obj
            for obj_id, obj in self.objects.items()
            if obj["object"] == kind
            and (owner is None or self.meta[obj_id]["owner"] == owner)
            and all(obj.get(k) == v for k, v in filters.items() if v is not None)
        ]
        items.sort(key=lambda o: self.meta[o["id"]]["seq"], reverse=True)  # newest first, as Stripe lists
        limit = min(_int(params, "limit", required=False) or 10, 100)
        ids = [o["id"] for o in items]
        if after := params.get("starting_after"):
            items = items[ids.index(after) + 1 :] if after in ids else []
        elif before := params.get("ending_before"):
            end = ids.index(before) if before in ids else 0
            items = items[max(0, end - limit) : end]
            return {"object": "list", "data": items, "has_more": end - limit > 0, "url": url}
        return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}

    # --- balances -----------------------------------------------------------------------------------------------
    def money(self, account: str, currency: str) -> dict[str, int]:
        return self.balances.setdefault(account, {}).setdefault(currency, {"available": 0, "pending": 0})

    def move(self, account: str, currency: str, amount: int, kind: str, source: str) -> str:
        """Change `account`'s available balance by `amount` and record a balance transaction; return its id."""
        self.money(account, currency)["available"] += amount
        txn = self.base(
            "txn", "balance_transaction", amount=amount, currency=currency, fee=0, net=amount, type=kind, source=source
        )
        txn.update(status="available", available_on=txn["created"], description=None)
        return self.add(txn, account)["id"]

    def balance_retrieve(self, account: str, params: dict) -> Obj:
        money = sorted(self.balances.get(account, {}).items())
        available, pending = (
            [{"amount": v[kind], "currency": c, "source_types": {"card": v[kind]}} for c, v in money]
            for kind in ("available", "pending")
        )
        return {"object": "balance", "livemode": False, "available": available, "pending": pending}

    def seed_platform(self) -> None:
        for currency in DEFAULT_CURRENCIES:
            self.money(PLATFORM, currency)["available"] = DEFAULT_PLATFORM_BALANCE

    # --- PaymentIntents -----------------------------------------------------------------------------------------
    def payment_intent_create(self, owner: str, params: dict) -> Obj:
        amount, currency = _int(params, "amount"), _currency(params)
        auto = params.get("automatic_payment_methods")
        types = params.get("payment_method_types") or ["card"]
        pi = self.base("pi", "payment_intent", amount=amount, currency=currency)
        pi.update(
            amount_capturable=0,
            amount_received=0,
            automatic_payment_methods={"enabled": str(auto.get("enabled")) == "true"}
            if isinstance(auto, dict)
            else None,
            canceled_at=None,
            cancellation_reason=None,
            capture_method="automatic",
            client_secret=f"{pi['id']}_secret_{secrets.token_hex(12)}",
            confirmation_method="automatic",
            customer=params.get("customer"),
            description=params.get("description"),
            last_payment_error=None,
            latest_charge=None,
            metadata=_metadata(params),
            payment_method=params.get("payment_method"),
            payment_method_types=types if isinstance(types, list) else [types],
            receipt_email=params.get("receipt_email"),
            status="requires_confirmation" if params.get("payment_method") else "requires_payment_method",
            transfer_group=params.get("transfer_group"),
        )
        self.add(pi, owner)
        self.emit("payment_intent.created", pi, owner, None)
        if str(params.get("confirm")) == "true":
            return self.payment_intent_confirm(owner, {}, pi["id"])
        return pi

    def payment_intent_update(self, owner: str, params: dict, pi_id: str) -> Obj:
        pi = self.get("payment_intent", pi_id, owner)
        previous = {"metadata": dict(pi["metadata"])}
        pi["metadata"] = _metadata(params, pi["metadata"])
        for name in ("description", "receipt_email", "transfer_group"):
            if name in params:
                previous[name], pi[name] = pi[name], params[name] or None
        self.emit("payment_intent.updated", pi, owner, previous)
        return pi

    def payment_intent_confirm(self, owner: str, params: dict, pi_id: str) -> Obj:
        pi = self.get("payment_intent", pi_id, owner)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeError(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
                payment_intent=pi,
            )
        method = params.get("payment_method") or pi["payment_method"]
        if not method:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                "payment_method",
                "payment_intent_unexpected_state",
            )
        pi["payment_method"] = method
        if method in TEST_CARDS_DECLINED:
            code, decline_code, message = TEST_CARDS_DECLINED[method]
            error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
            pi.update(status="requires_payment_method", last_payment_error={**error, "payment_method": {"id": method}})
            self.emit("payment_intent.payment_failed", pi, owner, None)
            raise StripeError(402, message, type="card_error", code=code, decline_code=decline_code, payment_intent=pi)
        if method not in TEST_CARDS_OK:
            raise StripeError(
                400, f"No such PaymentMethod: '{method}'", code="resource_missing", param="payment_method", saved=False
            )
        charge = self.base("ch", "charge", amount=pi["amount"], currency=pi["currency"])
        charge.update(
            amount_captured=pi["amount"],
            amount_refunded=0,
            captured=True,
            metadata=dict(pi["metadata"]),
            paid=True,
            payment_intent=pi["id"],
            payment_method=method,
            refunded=False,
            status="succeeded",
            transfer_group=pi["transfer_group"],
        )
        charge["balance_transaction"] = self.move(owner, pi["currency"], pi["amount"], "charge", charge["id"])
        self.add(charge, owner)
        pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"], last_payment_error=None)
        self.emit("charge.succeeded", charge, owner, None)
        self.emit("payment_intent.succeeded", pi, owner, None)
        return pi

    def payment_intent_cancel(self, owner: str, params: dict, pi_id: str) -> Obj:
        pi = self.get("payment_intent", pi_id, owner)
        if pi["status"] in ("succeeded", "canceled"):
            raise StripeError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
                code="payment_intent_unexpected_state",
                payment_intent=pi,
            )
        pi.update(status="canceled", canceled_at=self.now(), cancellation_reason=params.get("cancellation_reason"))
        self.emit("payment_intent.canceled", pi, owner, None)
        return pi

    # --- Refunds ------------------------------------------------------------------------------------------------
    def refund_create(self, owner: str, params: dict) -> Obj:
        if pi_id := _str(params, "payment_intent", required=False):
            pi = self.get("payment_intent", pi_id, owner, "payment_intent")
            if not pi["latest_charge"]:
                raise StripeError(
                    400,
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                )
            charge = self.objects[pi["latest_charge"]]
        elif ch_id := _str(params, "charge", required=False):
            charge = self.get("charge", ch_id, owner, "charge")
        else:
            raise invalid("One of the following params should be provided for this request: payment_intent or charge.")
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise StripeError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded", param="charge"
            )
        amount = _int(params, "amount", required=False) or left
        if amount > left:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = self.base("re", "refund", amount=amount, currency=charge["currency"], charge=charge["id"])
        refund.update(
            metadata=_metadata(params),
            payment_intent=charge["payment_intent"],
            reason=params.get("reason"),
            status="succeeded",
        )
        refund["balance_transaction"] = self.move(owner, charge["currency"], -amount, "refund", refund["id"])
        self.add(refund, owner)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.emit("refund.created", refund, owner, None)
        self.emit("charge.refunded", charge, owner, previous)
        return refund

    # --- Connected accounts -------------------------------------------------------------------------------------
    def account_create(self, owner: str, params: dict) -> Obj:
        if owner != PLATFORM:
            raise invalid("Only the platform can create connected accounts (drop the Stripe-Account header).")
        kind = _str(params, "type", required=False) or "express"
        if kind not in ("express", "standard", "custom"):
            raise invalid(f"Invalid type: must be one of express, standard, or custom ({kind}).", "type")
        country = (_str(params, "country", required=False) or "US").upper()
        acct = self.base("acct", "account", type=kind, email=params.get("email"), country=country)
        acct.update(
            business_type=params.get("business_type"),
            capabilities={"card_payments": "inactive", "transfers": "inactive"},
            charges_enabled=False,
            default_currency={"US": "usd", "GB": "gbp"}.get(country, "eur"),
            details_submitted=False,
            metadata=_metadata(params),
            payouts_enabled=False,
            requirements={
                "currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                "eventually_due": [],
                "past_due": [],
                "disabled_reason": "requirements.past_due",
            },
        )
        return self.add(acct, PLATFORM)

    def account_retrieve(self, owner: str, params: dict, acct_id: str) -> Obj:
        return self.get("account", acct_id, None)

    def account_update(self, owner: str, params: dict, acct_id: str) -> Obj:
        acct = self.get("account", acct_id, None)
        previous = {"metadata": dict(acct["metadata"])}
        acct["metadata"] = _metadata(params, acct["metadata"])
        if "email" in params:
            previous["email"], acct["email"] = acct["email"], params["email"] or None
        self.emit("account.updated", acct, acct_id, previous)
        return acct

    def account_complete_onboarding(self, acct_id: str) -> Obj:
        acct = self.get("account", acct_id, None)
        previous = {k: acct[k] for k in ("charges_enabled", "payouts_enabled", "details_submitted", "requirements")}
        acct.update(
            capabilities=dict.fromkeys(acct["capabilities"], "active"),
            charges_enabled=True,
            details_submitted=True,
            payouts_enabled=True,
            requirements={"currently_due": [], "eventually_due": [], "past_due": [], "disabled_reason": None},
        )
        self.emit("account.updated", acct, acct_id, previous)
        return acct

    def account_link_create(self, owner: str, params: dict) -> Obj:
        acct_id = str(_str(params, "account"))
        self.get("account", acct_id, None, "account")
        kind = _str(params, "type")
        if kind not in ("account_onboarding", "account_update"):
            raise invalid(f"Invalid type: must be one of account_onboarding or account_update ({kind}).", "type")
        self.links[acct_id] = {
            "return_url": str(_str(params, "return_url")),
            "refresh_url": str(_str(params, "refresh_url")),
        }
        now = self.now()
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"{self.site}/onboarding/{acct_id}",
        }

    # --- Transfers ----------------------------------------------------------------------------------------------
    def transfer_create(self, owner: str, params: dict) -> Obj:
        amount, currency = int(_int(params, "amount") or 0), _currency(params)
        dest_id = str(_str(params, "destination"))
        dest = self.objects.get(dest_id)
        if dest is None or dest["object"] != "account":
            raise StripeError(
                400, f"No such destination: '{dest_id}'", code="resource_missing", param="destination", saved=False
            )
        if dest["capabilities"].get("transfers") != "active":
            raise StripeError(
                400,
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        if self.money(owner, currency)["available"] < amount:
            raise StripeError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding funds directly to your "
                "available balance by creating Charges using the 4000000000000077 test card.",
                code="balance_insufficient",
            )
        transfer = self.base("tr", "transfer", amount=amount, currency=currency, destination=dest_id)
        transfer.update(
            amount_reversed=0,
            description=params.get("description"),
            destination_payment=new_id("py"),
            metadata=_metadata(params),
            reversals={
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/transfers/{transfer['id']}/reversals",
            },
            reversed=False,
            source_transaction=params.get("source_transaction"),
            source_type="card",
            transfer_group=params.get("transfer_group"),
        )
        transfer["balance_transaction"] = self.move(owner, currency, -amount, "transfer", transfer["id"])
        self.move(dest_id, currency, amount, "payment", transfer["destination_payment"])
        self.add(transfer, owner)
        self.emit("transfer.created", transfer, owner, None)
        return transfer
