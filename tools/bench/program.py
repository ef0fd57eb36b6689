"""A program with N copies of the inventory service (N from ORDERFLOW_SYNTH_COPIES): how synth time grows."""

from __future__ import annotations

import os

from orderflow.aws_context import AwsContext

from components.inventory_service.service import inventory_service
from stack_config import load_stack_config

config = load_stack_config()
ctx = AwsContext.current()
for n in range(int(os.environ.get("ORDERFLOW_SYNTH_COPIES", "1"))):
    inventory_service(f"inventory{n}", config, ctx)
