"""Opsdesk's common library: contracts, settings base, and the bus, Mongo and observability helpers."""
