"""Settings: `base` reads the environment; `embedded` (default), `production`, `test`."""
