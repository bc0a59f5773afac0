"""Account pages are allauth's (sign-up, login, email verification, password reset), styled by our templates.
Organisation settings pages (members, API keys) arrive with the partner API issue."""
