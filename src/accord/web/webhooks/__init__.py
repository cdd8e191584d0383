"""Webhooks providers call: Twilio's delivery reports and customers' texts (ADR 0020)."""
