"""Reusable Pulumi components for queue-based Step Functions callback workers."""
