"""Intake: the API gateway and service desk, the single point of contact."""
