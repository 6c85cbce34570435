"""Messaging plumbing: topology, a publisher with confirms, a batching consumer, the inbox."""
