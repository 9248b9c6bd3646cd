"""Page handlers (edges): each reads through the API client, renders a template, and holds no rules."""
