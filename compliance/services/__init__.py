"""Compliance writes, one module per area: documents (upload, review, appeal, expiry), checks (sanctions
screening, worker classification), emails (onboarding), data rights (export, erasure)."""
