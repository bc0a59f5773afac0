"""Marketplace Celery tasks (Celery's autodiscovery imports this module); one module per area."""

from marketplace.tasks.matching import *  # noqa: F403
from marketplace.tasks.microtasks import *  # noqa: F403
from marketplace.tasks.reviews import *  # noqa: F403
