"""Outgoing webhooks: partner endpoints receive signed POSTs when something happens to their work.

Events come from the audit trail, so no service knows about webhooks: every state change records an audit event,
audit_seal gives committed events a gapless `sequence` in commit order, and `webhooks_dispatch` (queued after each
sealing, and every minute from beat) reads the events after its cursor, turns the ones partners care about into a
webhook event for each organisation or freelancer involved, and creates one delivery per matching subscription.

One module per part: `subscriptions` (create, delete, replay), `dispatch` (audit events → deliveries),
`delivery` (the POST, its headers and retries), `signing` (secrets and the Tandem-Signature header) and `targets`
(the URL rules). Every public name is re-exported here, so callers import from `accounts.webhooks`.
"""

from accounts.webhooks.delivery import (
    WEBHOOK_CLAIM_LEASE,
    WEBHOOK_FIRST_RETRY,
    WEBHOOK_MAX_RETRY_INTERVAL,
    WEBHOOK_RETRY_WINDOW,
    webhook_deliveries_due,
    webhook_delivery_attempt,
)
from accounts.webhooks.dispatch import (
    ACTION_EVENT_TYPES,
    DISPATCH_SEQUENCE_WINDOW,
    WEBHOOK_EVENT_NAMESPACE,
    webhooks_dispatch,
)
from accounts.webhooks.signing import (
    webhook_body,
    webhook_secret,
    webhook_secrets_rotate,
    webhook_signature,
    webhook_signature_verify,
)
from accounts.webhooks.subscriptions import (
    WEBHOOK_SECRET_PREFIX,
    webhook_delivery_replay,
    webhook_subscription_create,
    webhook_subscription_delete,
)
from accounts.webhooks.targets import (
    RESPONSE_READ_LIMIT,
    WEBHOOK_TIMEOUT_SECONDS,
    WEBHOOK_URL_MAX_LENGTH,
    WebhookTarget,
    webhook_target,
)

__all__ = [
    "ACTION_EVENT_TYPES",
    "DISPATCH_SEQUENCE_WINDOW",
    "RESPONSE_READ_LIMIT",
    "WEBHOOK_CLAIM_LEASE",
    "WEBHOOK_EVENT_NAMESPACE",
    "WEBHOOK_FIRST_RETRY",
    "WEBHOOK_MAX_RETRY_INTERVAL",
    "WEBHOOK_RETRY_WINDOW",
    "WEBHOOK_SECRET_PREFIX",
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_URL_MAX_LENGTH",
    "WebhookTarget",
    "webhook_body",
    "webhook_deliveries_due",
    "webhook_delivery_attempt",
    "webhook_delivery_replay",
    "webhook_secret",
    "webhook_secrets_rotate",
    "webhook_signature",
    "webhook_signature_verify",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_target",
    "webhooks_dispatch",
]
