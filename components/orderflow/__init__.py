"""orderflow: the queue-based Step Functions callback pattern as Pulumi components (see the README)."""
