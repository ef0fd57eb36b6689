"""orderflow_runtime: the worker side of the callback protocol (contract, envelope, heartbeats, answers, batch)."""
