"""Load generators and bare baselines, each run as its own process on loopback."""
