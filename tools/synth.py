"""Offline synth: run the Pulumi program under mocks (no CLI, no AWS) and write a `pulumi stack export`.

Each registered resource is written with its urn (as the engine builds it), type, custom flag, parent,
provider, protect flag, dependencies, inputs, and the outputs a real deploy would report: the provider's
defaults for what the program left unset (:mod:`tools.synth_defaults`) and the computed values (arn, url, id
built the way AWS builds them, :mod:`tools.synth_mocks`). The monitor refuses what the engine refuses at
registration (:mod:`tools.synth_monitor`). Reviewers diff the export; the policy pack's offline audit and the
local emulator read it.

Exit codes of ``python -m tools.synth``: 0 written; 1 the engine would refuse the program; 2 bad stack config or
stack file (one ``error:`` line per problem on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import hashlib
import json
import os
import runpy
import sys
import warnings
from pathlib import Path
from typing import Any

import yaml
from orderflow.settings import SettingsError

from tools.deployed.outputs import StackRefError, stack_name
from tools.go_yaml import GoYamlError, load
from tools.stack_file import StackFileError, available_stacks, read_stack_file
from tools.synth_mocks import AccountFixture, SynthMocks
from tools.synth_monitor import RegistrationError, StrictMonitor

__all__ = ["StackFileError", "available_stacks", "error_lines", "stack_config", "synthesize"]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "orderflow"
DEFAULT_REGION = "us-east-1"
PROVIDER_VERSION = "7.51.1"


def error_lines(error: SettingsError, source: str) -> list[str]:
    """The lines every command prints for bad stack config: ``error: <source>: <problem>``, one per problem.

    ``source`` names where the config came from (``Pulumi.dev.yaml``); a StackFileError names its file itself.
    """
    if isinstance(error, StackFileError):
        return [f"error: {line}" for line in error.problems]
    return [f"error: {source}: {line}" for line in error.problems]


def stack_config(stack: str, path: Path | None = None) -> dict[str, str]:
    """The stack file's config as the CLI hands it to the program: namespaced keys, string values
    (:func:`tools.stack_file.read_stack_file`). ``stack`` may be a stack reference (``org/dev``)."""
    try:
        name = stack_name(stack)
    except StackRefError as error:
        raise StackFileError(str(error)) from None
    return read_stack_file(name, path)


ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
SIG_KEY = "4dabf18193072939515e22adb298388d"


def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _plain(value: Any) -> Any:
    """Inputs as JSON: assets and archives in the form the state file uses, each with a content hash.

    An archive's hash covers its entries' names and contents in sorted order, so it changes exactly when a
    shipped file does (the engine hashes an archive's contents too).
    """
    import pulumi

    if isinstance(value, pulumi.FileAsset):
        return {SIG_KEY: ASSET_SIG, "path": value.path, "hash": _file_hash(value.path)}
    if isinstance(value, pulumi.AssetArchive):
        assets = {name: _plain(asset) for name, asset in sorted(value.assets.items())}
        digest = hashlib.sha256()
        for name, asset in assets.items():
            digest.update(f"{name}\0{asset.get('hash', '')}\0".encode())
        return {SIG_KEY: ARCHIVE_SIG, "assets": assets, "hash": digest.hexdigest()}
    if isinstance(value, pulumi.FileArchive):
        return {SIG_KEY: ARCHIVE_SIG, "path": value.path}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def synthesize(stack: str, *, preview: bool = False, computed: bool = True,
               config_overrides: dict[str, str] | None = None, program: Path | None = None,
               account: AccountFixture | None = None, stack_file: Path | None = None) -> dict[str, Any]:
    """Run the program for ``stack`` (a name, or a reference such as ``org/dev``) under mocks; returns the stack
    export as a dict.

    ``computed=False`` makes the mocks return no computed outputs, as an engine does in a first preview.
    ``account`` sets what the account's lookups answer (default: :class:`AccountFixture`); ``stack_file`` reads
    the config from another file than ``Pulumi.<stack>.yaml``; ``program``: another program (a project folder or a
    file, see :func:`project_of` for its project name and the folder it runs in).
    Raises SettingsError (bad stack config), StackFileError (no/unreadable stack file) and RegistrationError
    (the engine would refuse the program).
    """
    config = {**stack_config(stack, stack_file), **(config_overrides or {})}
    return contextvars.Context().run(_synthesize, stack_name(stack), preview, computed, config, program,
                                     account or AccountFixture())


def program_folder_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a program the offline commands can run, or None: no ``Pulumi.yaml`` there, or a
    project whose ``runtime:`` is not ``python`` (a Pulumi YAML or Node.js program runs only under the Pulumi CLI;
    https://www.pulumi.com/docs/iac/concepts/projects/project-file/#runtime-options)."""
    project_file = folder / "Pulumi.yaml"
    if not project_file.is_file():
        return "no Pulumi.yaml there; give a project folder (e.g. examples/order-workflow)"
    try:
        project = load(project_file.read_text(encoding="utf-8-sig"))  # as the CLI reads it (yaml.v3)
    except (yaml.YAMLError, GoYamlError, UnicodeDecodeError) as error:
        return f"its Pulumi.yaml is not a YAML file the Pulumi CLI reads ({str(error).splitlines()[0]})"
    runtime = project.get("runtime") if isinstance(project, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name is None:
        return "its Pulumi.yaml names no runtime (runtime: python), which the Pulumi CLI requires"
    if name != "python":
        return (f"its Pulumi.yaml's runtime is {name!r}; the offline commands run Python programs (runtime: "
                "python); run this one with the Pulumi CLI")
    return None


def project_of(program: Path | None) -> tuple[str, Path, Path]:
    """(project name, folder it runs in, entry file) of ``program``: a project folder or a program file (default
    the root program). A program whose folder holds a Pulumi.yaml is that project's: its ``name:`` (as the CLI
    reads it), run in that folder; any other (a test's or the benchmark's program) runs as the root project, in the
    root folder. Raises StackFileError when that Pulumi.yaml names no project."""
    entry = (program or ROOT).resolve()
    if entry.is_dir():
        entry = entry / "__main__.py"
    project_file = entry.parent / "Pulumi.yaml"
    if entry.parent == ROOT or not project_file.is_file():
        return PROJECT, ROOT, entry
    names = [line.split(":", 1)[1].strip() for line in project_file.read_text().splitlines()
             if line.startswith("name:")]
    if not names or not names[0]:
        raise StackFileError(f"{project_file}: no project name (name: <project>)")
    return names[0], entry.parent, entry


def _synthesize(stack: str, preview: bool, computed: bool, config: dict[str, str], program: Path | None,
                account: AccountFixture) -> dict[str, Any]:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime.config import set_all_config

    region = config.get("aws:region", DEFAULT_REGION)
    project, folder, entry = project_of(program)
    provider_urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:aws::default_{PROVIDER_VERSION.replace('.', '_')}"
    default_provider = f"{provider_urn}::00000000-0000-0000-0000-000000000000"
    records: list[dict[str, Any]] = []

    def record(request: Any, response: Any) -> None:
        state = monitor.resources[response.urn].state
        entry: dict[str, Any] = {
            "urn": response.urn, "custom": bool(request.custom), "type": request.type,
            "id": response.id or None, "parent": request.parent or None,
            "inputs": _plain(pulumi.runtime.rpc.deserialize_properties(request.object)),
            "outputs": _plain(dict(state)) if request.custom else {},
        }
        if request.custom and not request.type.startswith("pulumi:providers:"):
            entry["provider"] = request.provider or default_provider
        if request.protect:
            entry["protect"] = True
        if request.dependencies:
            entry["dependencies"] = sorted(request.dependencies)
        records.append(entry)

    loop = asyncio.new_event_loop()  # this run's own loop, closed below (an unclosed loop is noise at exit)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_reported_elsewhere)
    mocks = SynthMocks(region, account, computed=computed, preview=preview)
    monitor = StrictMonitor(mocks, record)
    set_all_config(config)
    pmocks.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    sys.path.insert(0, str(ROOT))
    cwd = Path.cwd()
    os.chdir(folder)  # the CLI runs a program in its project's folder: relative paths (the worker's code) mean that
    # A synth is a short batch that keeps every resource alive to the end: the cyclic collector's full passes
    # then cost O(heap) each and make synth time grow faster than the program. Collect once, after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        pmocks.test(lambda: runpy.run_path(str(entry), run_name="__main__"))()
    except Exception as error:
        raise _cause(error, monitor.errors) from None
    finally:
        os.chdir(cwd)
        sys.path.remove(str(ROOT))
        _close(loop)
        if collecting:
            gc.enable()
    if monitor.errors:
        raise RegistrationError(monitor.errors[0])
    return _export(stack, project, region, provider_urn, records, pulumi)


def _reported_elsewhere(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop asyncio's "exception was never retrieved" for the error the synth raises itself; report others."""
    if isinstance(context.get("exception"), SettingsError | RegistrationError):
        return
    loop.default_exception_handler(context)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a failed run left pending, then close the loop."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


def _cause(error: Exception, refusals: list[str]) -> Exception:
    """The user-facing error behind a failed program run: a refusal, a SettingsError, or the error itself."""
    if refusals:
        return RegistrationError(refusals[0])
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        if isinstance(seen, SettingsError | RegistrationError):
            return seen
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return error


def _export(stack: str, project: str, region: str, provider_urn: str, records: list[dict[str, Any]],
            pulumi: Any) -> dict[str, Any]:
    stack_urn = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {"urn": provider_urn, "custom": True, "id": "00000000-0000-0000-0000-000000000000",
         "type": "pulumi:providers:aws", "inputs": {"region": region, "version": PROVIDER_VERSION},
         "outputs": {"region": region, "version": PROVIDER_VERSION}},
    ]
    for record in records:
        entry = {k: v for k, v in record.items() if v is not None or k == "parent"}
        entry["parent"] = record["parent"] or stack_urn
        if not record["custom"]:
            entry.pop("id", None)
        resources.append(entry)
    return {"version": 3, "deployment": {
        "manifest": {"time": "1970-01-01T00:00:00Z", "magic": "", "version": f"pulumi-sdk-{pulumi.__version__}"
                     if hasattr(pulumi, "__version__") else ""},
        "resources": resources,
    }}


def main(argv: list[str] | None = None) -> int:
    """Write the stack export; 0 ok, 1 the engine would refuse the program, 2 bad stack config or stack file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name or reference (dev, org/dev): reads "
                                                       "Pulumi.<stack>.yaml (default dev)")
    parser.add_argument("--out", default=None, help="output file (default: stdout)")
    parser.add_argument("--stack-file", type=Path, default=None,
                        help="read the stack's config from this file (default: Pulumi.<stack>.yaml of the program's "
                             "folder)")
    parser.add_argument("--program", type=Path, default=None,
                        help="the program's project folder, with its Pulumi.yaml (default: the root program)")
    args = parser.parse_args(argv)
    if args.program is not None and (problem := program_folder_problem(args.program)):
        print(f"error: PROGRAM {args.program}: {problem}", file=sys.stderr)
        return 2
    try:
        source = args.stack_file or (args.program or Path()) / f"Pulumi.{stack_name(args.stack)}.yaml"
    except StackRefError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    quiet_warnings()
    try:
        export = synthesize(args.stack, stack_file=args.stack_file if args.program is None else source,
                            program=args.program)
    except SettingsError as error:
        print("\n".join(error_lines(error, str(source))), file=sys.stderr)
        return 2
    except RegistrationError as error:
        print(f"error: stack {args.stack}: the Pulumi engine would refuse this program: {error}", file=sys.stderr)
        return 1
    text = json.dumps(export, indent=2, sort_keys=True) + "\n"
    if args.out:
        try:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text)
        except OSError as error:
            print(f"error: --out {args.out}: cannot write ({error.strerror}); give a writable path", file=sys.stderr)
            return 2
        count = sum(1 for r in export["deployment"]["resources"] if r.get("custom"))
        print(f"wrote {args.out}: {count} resources of stack {args.stack}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def quiet_warnings() -> None:
    """Program warnings (``pulumi.log.warn``) print as ``warning: ...``; nothing else reaches stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


if __name__ == "__main__":
    from tools.cli import guarded

    sys.exit(guarded("synth", main))
