"""`python -m billing.stripe_standin`: run the Stripe stand-in as a process (what `make run` does)."""

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from urllib.parse import urlsplit

from .server import StripeStandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m billing.stripe_standin", description=__doc__)
    listen = urlsplit(os.environ.get("STRIPE_STANDIN_URL") or "http://127.0.0.1:12111")
    parser.add_argument("--host", default=listen.hostname, help="listen address (default: from STRIPE_STANDIN_URL)")
    parser.add_argument("--port", type=int, default=listen.port or 12111)
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("STRIPE_STANDIN_WEBHOOK_URL"),
        help="POST every event here, signed (e.g. http://127.0.0.1:8000/billing/stripe/webhook/)",
    )
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_standin")
    parser.add_argument("--state-file", help="JSON snapshot, written after each change and loaded at start")
    parser.add_argument("--api-key", help="accept only this key (default: any sk_test_ key)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="stripe-standin: %(message)s")
    standin = StripeStandIn(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        state_file=args.state_file,
    ).start()
    logging.info("Stripe stand-in at %s; webhooks to %s", standin.url, args.webhook_url or "(none: events stored only)")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    standin.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
