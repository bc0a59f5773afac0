"""The HTTP side of the stand-in: routing, API keys, Stripe-Account, idempotency keys, faults, webhooks, snapshots.

Stripe's idempotency rules (https://docs.stripe.com/api/idempotent_requests) as implemented here: a POST's
Idempotency-Key is scoped to the acting account; the first request's status and body are saved once its endpoint
began executing (errors included, validation errors and the `error_500` fault excluded) and replayed to any request
with the same key, endpoint and parameters, with `Idempotent-Replayed: true`; a different endpoint or different
parameters answer 400 `idempotency_error`; keys expire after 24 hours. A request arriving while another with its key
is still executing waits for it and replays its result.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import logging
import os
import random
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .api import API_VERSION, PLATFORM, Api, Obj, StripeError

logger = logging.getLogger("billing.stripe_standin")

IDEMPOTENCY_TTL = 24 * 3600
API_OP_FAULTS = {"error_500", "timeout_after_create"}
WEBHOOK_FAULTS = {"duplicate", "reorder", "delay"}


def decode_form(text: str) -> dict[str, Any]:
    """Decode a Stripe form body or query string: `metadata[k]=v` → dict, `expand[]=x` / `expand[0]=x` → list."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        name, _, rest = key.partition("[")
        parts = [name, *(rest[:-1].split("][") if rest.endswith("]") else [])]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part or str(len(node)), {})
            if not isinstance(child, dict):
                break  # `a=1&a[b]=2`: the scalar wins, as a form decoder must pick one
            node = child
        else:
            node[parts[-1] or str(len(node))] = value

    def listify(node: Any, name: str) -> Any:
        if not isinstance(node, dict):
            return node
        node = {k: listify(v, k) for k, v in node.items()}
        if node and name != "metadata" and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
        return node

    return {k: listify(v, k) for k, v in root.items()}


def signature_header(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header for a webhook body, as `stripe.Webhook.construct_event` verifies it."""
    body = payload.decode() if isinstance(payload, bytes) else payload
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class Fault:
    """One fault switch: `mode`, fired on the next `times` occasions (all if None), each with probability `rate`."""

    mode: str
    times: int | None = None
    rate: float | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # delay (s), seconds (webhook delay), copies, order
    fired: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - fault injection, not security

    @classmethod
    def parse(cls, spec: str | dict) -> Fault:
        if isinstance(spec, str):
            return cls(mode=spec)
        spec = dict(spec)
        known = {k: spec.pop(k) for k in ("mode", "times", "rate", "seed") if k in spec}
        return cls(**known, options=spec)

    def fire(self) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "times": self.times, "rate": self.rate, "fired": self.fired, **self.options}


@dataclass
class _Key:
    method: str
    path: str
    params: str
    at: float
    response: tuple[int, str] | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Pending:
    event_id: str
    due: float
    attempts: int = 0


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    op: str
    run: str | Callable[..., Obj]


class _Drop(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, delay: float) -> None:
        self.delay = delay


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 makes bursts of concurrent callers wait a second for a SYN retry
    standin: StripeStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "stripe-standin"

    def do_GET(self) -> None:
        self.server.standin._handle(self)

    do_POST = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def reply(self, status: int, body: str, content_type: str = "application/json", **headers: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)


class StripeStandIn:
    """A local Stripe API for development and tests. `with StripeStandIn() as s: StripeClient(..., base_addresses=
    {"api": s.url})`. Events are POSTed, signed with `webhook_secret`, to `webhook_url` (if any) from a thread."""

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_standin",  # noqa: S107 - a test-mode placeholder, not a credential
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,  # accept only this key (default: any sk_test_/rk_test_ key)
        state_file: str | Path | None = None,
        auto_deliver: bool = True,
        webhook_batch_window: float = 0.05,
        webhook_retry_delay: float = 1.0,
        webhook_max_attempts: int = 8,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.host, self.port, self.api_key = host, port, api_key
        self.state_file = Path(state_file) if state_file else None
        self.auto_deliver, self.webhook_batch_window = auto_deliver, webhook_batch_window
        self.webhook_retry_delay, self.webhook_max_attempts = webhook_retry_delay, webhook_max_attempts
        self.clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._local = threading.local()
        self._server: _HTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._inflight = 0  # events taken from the outbox whose delivery is under way
        self._routes = self._make_routes()
        saved = json.loads(self.state_file.read_text()) if self.state_file and self.state_file.exists() else None
        self.reset()
        if saved:
            self._load(saved)

    # --- lifecycle ----------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> StripeStandIn:
        self._server = _HTTPServer((self.host, self.port), _Handler)
        self._server.standin = self
        self.port = self._server.server_address[1]
        self._stopping = False
        self._threads = [threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)]
        if self.auto_deliver:  # also when webhook_url is set after start()
            self._threads.append(threading.Thread(target=self._deliver_loop, daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server, self._threads = None, []

    def __enter__(self) -> StripeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- inspection and control from Python ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything: objects, keys, faults, pending webhooks; the platform gets its starting balance."""
        with self._lock:
            self.api = Api(emit=self._emit, clock=self.clock)
            self.api.seed_platform()
            self._keys: dict[tuple[str, str], _Key] = {}
            self.faults: dict[str, Fault] = {}
            self.webhook_faults: list[Fault] = []
            self._outbox: list[_Pending] = []
            self.deliveries: list[dict[str, Any]] = []
            self.stats: Counter[str] = Counter()
            self._save()

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the fault switches. Keys: an operation (`transfers.create`, `payment_intents.confirm`, ... see
        `_make_routes`) → `error_500` | `timeout_after_create` (`delay` seconds before the connection drops, default
        0); or `webhooks` → `duplicate` (`copies`, default 2) | `reorder` (`order`: reverse or random) | `delay`
        (`seconds`), or a list of those. Each a name or `{"mode": ..., "times": n, "rate": p, "seed": s, ...}`."""
        ops = {route.op for route in self._routes}
        parsed: dict[str, Fault] = {}
        hooks: list[Fault] = []
        for name, spec in faults.items():
            if name == "webhooks":
                hooks = [Fault.parse(s) for s in (spec if isinstance(spec, list) else [spec])]
                if bad := [f.mode for f in hooks if f.mode not in WEBHOOK_FAULTS]:
                    raise ValueError(f"unknown webhook fault {bad}; known: {sorted(WEBHOOK_FAULTS)}")
                continue
            if name not in ops:
                raise ValueError(f"unknown operation {name!r}; known: {sorted(ops)}")
            parsed[name] = Fault.parse(spec)
            if parsed[name].mode not in API_OP_FAULTS:
                raise ValueError(f"unknown fault {parsed[name].mode!r}; known: {sorted(API_OP_FAULTS)}")
        with self._lock:
            self.faults, self.webhook_faults = parsed, hooks

    def clear_faults(self) -> None:
        self.set_faults({})

    def objects(self, kind: str, **filters: Any) -> list[Obj]:
        """Copies of every object of `kind` ("transfer", "payment_intent", "event", ...), oldest first."""
        with self._lock:
            found = [
                o
                for o in self.api.objects.values()
                if o["object"] == kind and all(o.get(k) == v for k, v in filters.items())
            ]
            found.sort(key=lambda o: self.api.meta[o["id"]]["seq"])
            return json.loads(json.dumps(found))

    def transfers(self, **filters: Any) -> list[Obj]:
        return self.objects("transfer", **filters)

    def events(self, type: str | None = None) -> list[Obj]:
        return self.objects("event", **({"type": type} if type else {}))

    def balance(self, account: str | None = None) -> dict[str, dict[str, int]]:
        with self._lock:
            return json.loads(json.dumps(self.api.balances.get(account or PLATFORM, {})))

    def top_up(self, amount: int, currency: str = "usd", account: str | None = None) -> None:
        """Add to (or, negative, take from) an available balance: the platform's unless `account` is given."""
        with self._lock:
            self.api.money(account or PLATFORM, currency.lower())["available"] += amount
            self._save()

    def complete_onboarding(self, account_id: str) -> Obj:
        """What submitting the onboarding page does: the account can take charges and receive transfers."""
        with self._lock:
            result = self.api.account_complete_onboarding(account_id)
            self._save()
            return json.loads(json.dumps(result))

    # --- webhooks -----------------------------------------------------------------------------------------------
    def webhook_request(self, event_id: str, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """A stored event's body and signed headers, e.g. for `client.post(url, body, content_type=..., headers=h)`."""
        with self._lock:
            event = self.api.get("event", event_id, None)
            body = json.dumps(event)
        header = signature_header(body, self.webhook_secret, timestamp)
        return body.encode(), {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}

    def deliver_webhooks(self) -> list[dict[str, Any]]:
        """Deliver every pending event now, in this thread (faults apply); return the delivery attempts made."""
        with self._lock:
            batch, self._outbox = self._outbox, []
            self._inflight += len(batch)
            start = len(self.deliveries)
        self._deliver_batch(batch)
        with self._lock:
            return self.deliveries[start:]

    def wait_for_webhooks(self, timeout: float = 10) -> bool:
        """Wait until no event is pending delivery (delivered, or given up after the retries)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._outbox and not self._inflight, timeout)

    def replay_webhooks(
        self, event_ids: Iterable[str] | None = None, *, times: int = 3, concurrency: int = 8, seed: int | None = None
    ) -> list[tuple[str, int]]:
        """POST each event (all stored events by default) `times` times, shuffled, from `concurrency` threads."""
        ids = list(event_ids) if event_ids is not None else [e["id"] for e in self.events()]
        sends = [i for i in ids for _ in range(times)]
        random.Random(seed).shuffle(sends)  # noqa: S311
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(zip(sends, pool.map(self._post_event, sends), strict=True))

    def _emit(self, type: str, obj: Obj, owner: str, previous: dict | None) -> None:
        request = getattr(self._local, "request", {"id": None, "idempotency_key": None})
        event = self.api.base("evt", "event", type=type, api_version=getattr(self._local, "version", API_VERSION))
        event.update(
            data={"object": json.loads(json.dumps(obj))}, pending_webhooks=int(bool(self.webhook_url)), request=request
        )
        if previous:
            event["data"]["previous_attributes"] = json.loads(json.dumps(previous))
        if owner != PLATFORM:
            event["account"] = owner
        self.api.add(event, owner)
        if self.webhook_url:
            self._outbox.append(_Pending(event["id"], due=time.monotonic()))
            self._changed.notify_all()

    def _deliver_loop(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and not any(p.due <= time.monotonic() for p in self._outbox):
                    next_due = min((p.due for p in self._outbox), default=time.monotonic() + 1)
                    self._changed.wait(max(0.01, next_due - time.monotonic()))
                if self._stopping:
                    return
            time.sleep(self.webhook_batch_window)  # let a burst of events form one batch
            with self._lock:
                now = time.monotonic()
                batch = [p for p in self._outbox if p.due <= now]
                self._outbox = [p for p in self._outbox if p.due > now]
                self._inflight += len(batch)
            try:
                self._deliver_batch(batch)
            except Exception:
                logger.exception("webhook delivery failed")

    def _deliver_batch(self, batch: list[_Pending]) -> None:
        with self._lock:
            self._inflight -= len(batch)  # counted again below, for the ones still known after a reset()
            batch = [p for p in batch if p.event_id in self.api.objects]
            self._inflight += len(batch)
            fired = [f for f in self.webhook_faults if f.mode != "duplicate" and f.fire()]
            copies = {p.event_id: 1 for p in batch}
            for fault in (f for f in self.webhook_faults if f.mode == "duplicate"):
                for p in batch:
                    if fault.fire():
                        copies[p.event_id] = max(copies[p.event_id], int(fault.options.get("copies", 2)))
        sends = list(batch)
        for fault in fired:
            if fault.mode == "delay":
                time.sleep(float(fault.options.get("seconds", 1)))
            elif fault.options.get("order") == "random":
                fault.rng.shuffle(sends)
            else:
                sends.reverse()
        extra = [p for p in sends for _ in range(copies[p.event_id] - 1)]
        ok = {p.event_id: False for p in batch}
        for p in sends + extra:
            ok[p.event_id] = self._post_event(p.event_id, p.attempts + 1) < 300 or ok[p.event_id]
        with self._lock:
            for p in batch:
                event = self.api.objects.get(p.event_id)
                if ok[p.event_id] or p.attempts + 1 >= self.webhook_max_attempts:
                    if event:
                        event["pending_webhooks"] = 0
                else:
                    delay = min(self.webhook_retry_delay * 2**p.attempts, 300)
                    self._outbox.append(_Pending(p.event_id, time.monotonic() + delay, p.attempts + 1))
            self._inflight -= len(batch)
            self._changed.notify_all()

    def _post_event(self, event_id: str, attempt: int = 1) -> int:
        if not self.webhook_url:
            raise RuntimeError("no webhook_url to deliver to")
        body, headers = self.webhook_request(event_id)
        request = urllib.request.Request(self.webhook_url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - URL from our own config
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            logger.info("webhook %s to %s failed: %s", event_id, self.webhook_url, exc)
            status = 599
        with self._lock:
            event_type = self.api.objects.get(event_id, {}).get("type")
            self.deliveries.append({"event": event_id, "type": event_type, "status": status, "attempt": attempt})
        return status

    # --- HTTP ---------------------------------------------------------------------------------------------------
    def _make_routes(self) -> list[_Route]:
        """Each route: method, path, the operation's name (for faults and stats), and an `Api` method name or a
        callable, called with (acting account, params, *ids from the path)."""
        table: list[tuple[str, str, str, str | Callable[..., Obj]]] = [
            ("POST", r"payment_intents", "payment_intents.create", "payment_intent_create"),
            ("GET", r"payment_intents", "payment_intents.list", self._lister("payment_intent", "customer")),
            ("GET", r"payment_intents/(pi_\w+)", "payment_intents.retrieve", self._getter("payment_intent")),
            ("POST", r"payment_intents/(pi_\w+)", "payment_intents.update", "payment_intent_update"),
            ("POST", r"payment_intents/(pi_\w+)/confirm", "payment_intents.confirm", "payment_intent_confirm"),
            ("POST", r"payment_intents/(pi_\w+)/cancel", "payment_intents.cancel", "payment_intent_cancel"),
            ("GET", r"charges/(ch_\w+)", "charges.retrieve", self._getter("charge")),
            ("POST", r"refunds", "refunds.create", "refund_create"),
            ("GET", r"refunds", "refunds.list", self._lister("refund", "payment_intent", "charge")),
            ("GET", r"refunds/(re_\w+)", "refunds.retrieve", self._getter("refund")),
            ("POST", r"accounts", "accounts.create", "account_create"),
            ("GET", r"accounts", "accounts.list", self._lister("account")),
            ("GET", r"accounts/(acct_\w+)", "accounts.retrieve", "account_retrieve"),
            ("POST", r"accounts/(acct_\w+)", "accounts.update", "account_update"),
            ("POST", r"account_links", "account_links.create", "account_link_create"),
            ("POST", r"transfers", "transfers.create", "transfer_create"),
            ("GET", r"transfers", "transfers.list", self._lister("transfer", "destination", "transfer_group")),
            ("GET", r"transfers/(tr_\w+)", "transfers.retrieve", self._getter("transfer")),
            ("GET", r"balance", "balance.retrieve", "balance_retrieve"),
            ("GET", r"balance_transactions/(txn_\w+)", "balance_transactions.retrieve", self._getter("txn")),
            ("GET", r"events", "events.list", self._lister("event", "type")),
            ("GET", r"events/(evt_\w+)", "events.retrieve", self._getter("event")),
        ]
        return [_Route(m, re.compile(f"/v1/{path}"), op, run) for m, path, op, run in table]

    def _getter(self, kind: str) -> Callable[..., Obj]:
        kind = "balance_transaction" if kind == "txn" else kind
        # Events of connected accounts are listed to the platform too (one webhook endpoint gets them all).
        return lambda owner, params, obj_id: self.api.get(kind, obj_id, None if kind == "event" else owner)

    def _lister(self, kind: str, *filters: str) -> Callable[..., Obj]:
        def run(owner: str, params: dict) -> Obj:
            scope = None if (kind == "event" and owner == PLATFORM) or kind == "account" else owner
            chosen = {name: params.get(name) for name in filters}
            return self.api.list(kind, scope, params, f"/v1/{kind}s", **chosen)

        return run

    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode()
        self._local.request = {"id": None, "idempotency_key": None}
        try:
            if url.path.startswith("/onboarding/"):
                return self._onboarding(h, url.path.removeprefix("/onboarding/").strip("/"))
            if url.path.startswith("/_standin/"):
                try:
                    status, result = self._control(h.command, url.path.removeprefix("/_standin/").strip("/"), body)
                except (ValueError, TypeError, AttributeError) as exc:
                    status, result = 400, {"error": str(exc)}
                return h.reply(status, json.dumps(result))
            status, text, headers = self._api(h, url.path.rstrip("/"), url.query if h.command != "POST" else body)
            h.reply(status, text, **headers)
        except _Drop as drop:  # the work is done; the caller never hears of it
            time.sleep(drop.delay)
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)

    def _api(self, h: _Handler, path: str, form: str) -> tuple[int, str, dict[str, str]]:
        request_id = f"req_{secrets.token_hex(7)}"
        headers = {"Request-Id": request_id, "Stripe-Version": h.headers.get("Stripe-Version") or API_VERSION}
        error = lambda status, **e: (status, json.dumps(StripeError(status, **e).body), headers)  # noqa: E731
        auth = h.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not key:
            return error(
                401,
                message="You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not re.fullmatch(r"[sr]k_test_\w+", key) or (self.api_key and key != self.api_key):
            return error(401, message=f"Invalid API Key provided: {key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}")
        owner = h.headers.get("Stripe-Account") or PLATFORM
        with self._lock:
            if owner != PLATFORM and owner not in self.api.objects:
                return error(
                    403,
                    code="account_invalid",
                    message=f"The provided key '{key[:8]}***' does not have access to account '{owner}' "
                    "(or that account does not exist). Application access may have been revoked.",
                )
        for route in self._routes:
            if route.method == h.command and (match := route.pattern.fullmatch(path)):
                break
        else:
            return error(404, message=f"Unrecognized request URL ({h.command}: {path}).", code="resource_missing")
        params = decode_form(form)
        with self._lock:
            if (fault := self.faults.get(route.op)) and fault.mode == "error_500" and fault.fire():
                self.stats[f"{route.op}:error_500"] += 1
                return error(500, type="api_error", message="An unknown error occurred (stand-in fault error_500).")
        ikey = h.headers.get("Idempotency-Key") if h.command == "POST" else None
        fingerprint = json.dumps(params, sort_keys=True)
        record = None
        while ikey:
            with self._lock:
                record = self._keys.get((owner, ikey))
                if record is None or (record.done.is_set() and record.at + IDEMPOTENCY_TTL < self.clock()):
                    record = self._keys[(owner, ikey)] = _Key(h.command, path, fingerprint, self.clock())
                    break
            record.done.wait(timeout=120)
            if record.response is None:
                continue  # the first request's result was not saved: this one runs
            headers["Idempotency-Key"] = ikey
            if (record.method, record.path) != (h.command, path):
                return error(
                    400,
                    type="idempotency_error",
                    message="Keys for idempotent requests can only be used for the same endpoint they were first "
                    f"used for ('{record.method} {record.path}' vs '{h.command} {path}'). Try using a key other than "
                    f"'{ikey}' if you meant to execute a different request.",
                )
            if record.params != fingerprint:
                return error(
                    400,
                    type="idempotency_error",
                    message="Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{ikey}' if you meant to execute a different request.",
                )
            with self._lock:
                self.stats[f"{route.op}:replayed"] += 1
            return record.response[0], record.response[1], {**headers, "Idempotent-Replayed": "true"}
        with self._lock:
            self._local.request = {"id": request_id, "idempotency_key": ikey}
            self._local.version = headers["Stripe-Version"]
            self.api.site = f"http://{h.headers.get('Host') or f'{self.host}:{self.port}'}"
            self.stats[route.op] += 1
            saved = True
            try:
                run = getattr(self.api, route.run) if isinstance(route.run, str) else route.run
                status, text = 200, json.dumps(run(owner, params, *match.groups()))
            except StripeError as exc:
                status, text, saved = exc.status, json.dumps(exc.body), exc.saved
            except Exception:
                logger.exception("stand-in failed on %s %s", h.command, path)
                saved = False
                status, text = 500, json.dumps(StripeError(500, "Stand-in internal error", type="api_error").body)
            if record is not None and ikey:
                if saved:
                    record.response = (status, text)
                else:
                    del self._keys[(owner, ikey)]
                record.done.set()
                headers["Idempotency-Key"] = ikey
            if h.command == "POST":
                self._save()
            fault = self.faults.get(route.op)
            drop = status == 200 and fault and fault.mode == "timeout_after_create" and fault.fire()
            if drop:
                self.stats[f"{route.op}:timeout_after_create"] += 1
        if drop and fault:
            raise _Drop(float(fault.options.get("delay", 0)))
        return status, text, headers

    def _control(self, method: str, path: str, body: str) -> tuple[int, Any]:
        data = json.loads(body) if body.strip() else {}
        if (method, path) == ("GET", "state"):
            with self._lock:
                counts = Counter(o["object"] for o in self.api.objects.values())
                return 200, {
                    "balances": {account or "platform": money for account, money in self.api.balances.items()},
                    "objects": counts,
                    "faults": {k: f.describe() for k, f in self.faults.items()}
                    | {"webhooks": [f.describe() for f in self.webhook_faults]},
                    "stats": self.stats,
                    "webhooks_pending": len(self._outbox) + self._inflight,
                    "deliveries": self.deliveries[-50:],
                }
        if (method, path) == ("POST", "faults"):
            self.set_faults(data)
            return 200, {"faults": {k: f.describe() for k, f in self.faults.items()}}
        if (method, path) == ("POST", "reset"):
            self.reset()
            return 200, {"reset": True}
        if (method, path) == ("POST", "balance"):
            if not isinstance(data.get("amount"), int):
                raise ValueError('the amount in minor units, e.g. {"amount": 100000, "currency": "usd"}')
            self.top_up(data["amount"], data.get("currency", "usd"), data.get("account"))
            return 200, self.balance(data.get("account"))
        if (method, path) == ("POST", "webhooks/deliver"):
            return 200, {"deliveries": self.deliver_webhooks()}
        return 404, {"error": f"no stand-in control {method} /_standin/{path}"}

    def _onboarding(self, h: _Handler, account_id: str) -> None:
        with self._lock:
            account = self.api.objects.get(account_id)
            link = self.api.links.get(account_id, {})
        if not account or account["object"] != "account":
            return h.reply(404, "<h1>No such account</h1>", "text/html; charset=utf-8")
        if h.command == "POST":
            self.complete_onboarding(account_id)
            if link.get("return_url"):
                return h.reply(303, "", "text/plain", Location=link["return_url"])
            return h.reply(200, "<h1>Onboarding complete</h1>", "text/html; charset=utf-8")
        done = "Already complete." if account["payouts_enabled"] else ""
        page = f"""<!doctype html><html><head><title>Stripe stand-in: onboarding</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>Connect onboarding (stand-in)</h1>
<p>Account <code>{html.escape(account_id)}</code> ({html.escape(str(account.get("email") or "no email"))}). {done}</p>
<p>On Stripe this is where the freelancer gives identity and bank details. Here one button does it.</p>
<form method="post"><button type="submit">Complete onboarding</button></form>
</body></html>"""
        h.reply(200, page, "text/html; charset=utf-8")

    # --- snapshots ----------------------------------------------------------------------------------------------
    def _save(self) -> None:
        if not self.state_file:
            return
        with self._lock:
            keys = [
                [owner, key, r.method, r.path, r.params, r.at, r.response]
                for (owner, key), r in self._keys.items()
                if r.response is not None
            ]
            state = {k: getattr(self.api, k) for k in ("objects", "meta", "balances", "links", "seq")} | {"keys": keys}
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.state_file)

    def _load(self, state: dict[str, Any]) -> None:
        with self._lock:
            for name in ("objects", "meta", "balances", "links", "seq"):
                setattr(self.api, name, state[name])
            for owner, key, method, path, params, at, response in state.get("keys", []):
                record = _Key(method, path, params, at, tuple(response))
                record.done.set()
                self._keys[(owner, key)] = record
            self._save()
