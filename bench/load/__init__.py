"""Load generators and receivers, each run as a separate process by the figures."""
