"""What `orderflow smoke` and `orderflow stock` share: reading a deployed stack and its table."""
