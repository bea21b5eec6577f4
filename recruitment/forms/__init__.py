"""Forms of the recruitment pages, one module per area."""
