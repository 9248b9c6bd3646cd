"""Assets: what the agency owns, by tag, and where it is when it breaks."""
