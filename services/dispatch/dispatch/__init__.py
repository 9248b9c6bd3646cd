"""Dispatch: picks the engineer for each ticket and announces the assignment."""
