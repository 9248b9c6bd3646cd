"""Knowledge base and problem management."""
