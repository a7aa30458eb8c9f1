"""What the server, the worker and both clients agree on: the protocol and the configuration."""
