"""Reporting: turns the event stream into counts, reports and metrics."""
