"""Developer tools that are not part of the deployed backend (documentation generators,
the live quickstart harness)."""
