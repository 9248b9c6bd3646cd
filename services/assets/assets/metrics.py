from prometheus_client import CollectorRegistry, Counter, Gauge

registry = CollectorRegistry()

lookups = Counter("assets_lookups_total", "Asset tag look-ups answered", ["found"], registry=registry)
repairs_updated = Counter("assets_repairs_updated_total", "Repair record changes", ["status"], registry=registry)
impact_queries = Counter("assets_impact_queries_total", "Impact analyses answered over NATS", registry=registry)
ticket_events = Counter("assets_ticket_events_total", "Ticket events projected onto assets", ["type"], registry=registry)
dead_letters = Counter("assets_dead_letters_total", "Messages dead-lettered", ["subject", "reason"], registry=registry)
graph_relations = Gauge("assets_graph_relations", "Relations in the in-memory index", registry=registry)
graph_load_seconds = Gauge("assets_graph_load_seconds", "Time the last full index load took", registry=registry)
repair_breaches = Counter("assets_repair_breaches_total", "SLA breaches of repair clocks recorded for the repairs list", registry=registry)
parts_used = Counter("assets_parts_used_total", "Stock lines of engineers' service records, issued or refused", ["result"], registry=registry)
