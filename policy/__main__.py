"""The policy pack server the Pulumi CLI starts (``pulumi preview --policy-pack policy``).

Constructing PolicyPack starts the analyzer's gRPC server and blocks; nothing else may import this file.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.rules import POLICIES

PolicyPack(name="orderflow", policies=list(POLICIES), description=__doc__.splitlines()[0])
