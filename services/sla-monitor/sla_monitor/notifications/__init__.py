"""Reaching staff where they are: which events tell whom, through which channel, when, in which words.

The SLA monitor is the one owner of notifying the operations team and the agency (requesters are told by the desk,
intake/notices.py). Events come from the bus; each becomes stored notification records (the same records escalation
uses), delivered by one loop through apprise (email, WeCom and DingTalk group robots, an SMS gateway, JSON webhooks)
with a token bucket per robot, batching, and retries with back-off. Nothing is dropped for being over a robot's rate:
it waits in its record until a token is free.
"""
