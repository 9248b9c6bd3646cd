"""Local infrastructure and service processes, shared by `make run`, the test fixtures and the benchmarks."""
