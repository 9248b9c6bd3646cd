from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

registry = CollectorRegistry()

suggestions = Counter("knowledge_suggestions_total", "Tickets given at least one suggested article", registry=registry)
deflections = Counter(
    "knowledge_deflections_total", "Tickets resolved by an article that was suggested for them", registry=registry
)
search_seconds = Histogram(
    "knowledge_search_seconds",
    "Time to answer one search (HTTP, rpc.kb.search and suggestions)",
    ["via"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=registry,
)
articles = Gauge("knowledge_articles", "Articles in this instance's index, by state", ["state"], registry=registry)
candidates = Counter("knowledge_problem_candidates_total", "Candidate problem groups detected", registry=registry)
recurrences = Counter(
    "knowledge_problem_recurrences_total", "New incidents matching an existing problem or known error", registry=registry
)
escalations = Counter("knowledge_problem_escalations_total", "Problems escalated", ["reason"], registry=registry)
dead_letters = Counter("knowledge_dead_letters_total", "Messages knowledge gave up on", ["subject", "reason"], registry=registry)
