"""Matching models arrive with their issue; the app exists so migrations have a home."""
