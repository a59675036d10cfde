"""Build-time helpers for the dashboard static data."""
