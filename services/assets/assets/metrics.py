from prometheus_client import CollectorRegistry, Counter

registry = CollectorRegistry()

lookups = Counter("assets_lookups_total", "Asset tag look-ups answered", ["found"], registry=registry)
repairs_updated = Counter("assets_repairs_updated_total", "Repair record changes", ["status"], registry=registry)
