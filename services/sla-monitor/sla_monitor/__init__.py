"""SLA monitor: starts, stops and breaches the timers the contract names."""
