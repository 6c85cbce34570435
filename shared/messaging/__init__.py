"""Messaging plumbing: the topology, a publisher with confirms, a batching consumer with an inbox."""
