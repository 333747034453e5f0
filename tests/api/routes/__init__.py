"""Route tests, one module per route module."""
