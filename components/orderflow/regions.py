"""AWS regions per partition, from botocore's endpoint data (the version locked in uv.lock).

botocore ships ``botocore/data/partitions.json`` (each partition's ``regionRegex`` and ``regions``) and
``botocore/data/endpoints.json`` (each partition's ``regions``); the SDKs resolve endpoints from the same data
(https://github.com/boto/botocore/tree/develop/botocore/data). A region is known when either file lists it under
its partition; pseudo-regions such as ``aws-global`` are not regions a stack deploys to. A new region needs a
newer botocore (``uv lock --upgrade-package botocore``).
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path


@cache
def regions_by_partition() -> dict[str, tuple[str, ...]]:
    """Partition id -> its regions, sorted."""
    import botocore

    data = Path(botocore.__file__).parent / "data"
    partitions = json.loads((data / "partitions.json").read_text())["partitions"]
    endpoints = json.loads((data / "endpoints.json").read_text())["partitions"]
    found: dict[str, set[str]] = {p["id"]: set(p["regions"]) for p in partitions}
    for p in endpoints:
        found.setdefault(p["partition"], set()).update(p["regions"])
    patterns = {p["id"]: re.compile(p["regionRegex"]) for p in partitions}
    return {pid: tuple(sorted(r for r in names if pid not in patterns or patterns[pid].match(r)))
            for pid, names in found.items()}


@cache
def _partitions() -> tuple[dict[str, object], ...]:
    import botocore

    return tuple(json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())["partitions"])


def partition_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((str(p["id"]), re.compile(str(p["regionRegex"]))) for p in _partitions())


def dns_suffix(partition: str) -> str:
    """The partition's service-endpoint DNS suffix (``amazonaws.com``, ``amazonaws.com.cn``, ...)."""
    for p in _partitions():
        if p["id"] == partition:
            outputs = p["outputs"]
            assert isinstance(outputs, dict)
            return str(outputs["dnsSuffix"])
    return "amazonaws.com"


def partition_of_region(region: str) -> str | None:
    """The partition whose ``regionRegex`` matches ``region`` (botocore's rule for a region it does not list)."""
    listed = [pid for pid, names in regions_by_partition().items() if region in names]
    if listed:
        return listed[0]
    return next((pid for pid, pattern in partition_patterns() if pattern.match(region)), None)


def region_problem(key: str, region: str) -> str | None:
    """None for a known region; else one line naming ``key``, the value, its partition and the nearest region."""
    if not region:
        return f"{key} is empty; give the stack's region (e.g. us-east-1), or leave the key out to use the AWS SDK's"
    partition = partition_of_region(region)
    if partition is not None and region in regions_by_partition()[partition]:
        return None
    import botocore

    candidates = regions_by_partition()[partition] if partition else tuple(
        r for names in regions_by_partition().values() for r in names)
    nearest = difflib.get_close_matches(region.lower(), candidates, n=1, cutoff=0.0)
    where = f"a region of the {partition} partition" if partition else "an AWS region"
    return (f"{key}={region!r} is not {where} (botocore {botocore.__version__}'s endpoint data); did you mean "
            f"{nearest[0]}?")
