"""The helpers that drive the pack over gRPC as the CLI does, under their former module name (the published-copy
test imports them from here); the gRPC tests themselves are in tests/policy/test_grpc.py."""

from tests.policy.test_grpc import ADMIN, MANDATORY, UNKNOWN, WIDE, analyze, start_pack, struct

__all__ = ["ADMIN", "MANDATORY", "UNKNOWN", "WIDE", "analyze", "start_pack", "struct"]
