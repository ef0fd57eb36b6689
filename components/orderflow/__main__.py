"""The provider entry of the orderflow component package: ``python components/orderflow <engine address> [flags]``.

The Pulumi CLI starts a source plugin through the language host of its ``PulumiPlugin.yaml`` runtime; the Python host
runs ``python <plugin dir> <args>`` with the python of the plugin's virtualenv (``venv`` here, made from
``requirements.txt``), in the consuming program's folder. The provider prints its port on stdout and serves gRPC
(``GetSchema``, ``Construct``) until the engine stops it. Installed from the wheel, ``python -m orderflow <engine
address>`` starts the same provider.
"""

import sys
from pathlib import Path


def _import_from_the_checkout() -> None:
    """Make ``orderflow`` and ``orderflow_runtime`` importable when this folder is run as a script from a checkout.

    Python puts the script's folder (components/orderflow) first on ``sys.path``: every module of the library would
    then also be importable as a top-level module of its own name (two module objects for one file), and one named
    like a standard module would shadow it. So that entry is removed, and the two roots of the checkout are put in
    front instead: ``components/`` (holds ``orderflow``) and ``handlers/`` (holds ``orderflow_runtime``), the same
    roots the repository's environment adds (pyproject.toml, ``dev-mode-dirs``). The plugin's virtualenv holds only
    what requirements.txt names, never the library itself, so the checkout is the one copy of its code.
    """
    plugin = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != plugin]
    roots = [plugin.parent, plugin.parent.parent / "handlers"]
    sys.path[:0] = [str(root) for root in roots if root.is_dir()]


if __name__ == "__main__":
    if not __package__:  # run as a folder (the language host), not as ``python -m orderflow``
        _import_from_the_checkout()
    from orderflow.provider import serve

    serve()
