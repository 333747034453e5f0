"""API tests (a package, so test module names may repeat those of other folders)."""
