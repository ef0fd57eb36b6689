"""The policy pack's entry point, run by the Pulumi CLI (``python -m pulumi.policy <engine> <pack dir>``).

The pack's folder is loaded as the package ``orderflow_policy`` whatever the folder is called (a published pack
is unpacked under another name), so nothing outside the folder is imported: its dependencies are the ones in
``requirements.txt`` / ``pyproject.toml`` beside this file. Constructing the PolicyPack blocks; nothing else may
import this file.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("orderflow_policy", _HERE / "__init__.py",
                                               submodule_search_locations=[str(_HERE)])
if _SPEC is None or _SPEC.loader is None:
    raise ImportError(f"cannot load the policy pack from {_HERE}")
_PACKAGE = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _PACKAGE
_SPEC.loader.exec_module(_PACKAGE)
importlib.import_module("orderflow_policy.pack").serve()
