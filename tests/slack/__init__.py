"""Slack test harness: fake Web API, signed requests, Slack-shaped payloads."""
