"""Offline synth: run the Pulumi program under mocks (no CLI, no AWS) and write a `pulumi stack export`.

Each registered resource is written with its urn, type, custom flag, parent, provider, inputs and the
outputs a real deploy would report (arn, url, id, name built the way AWS builds them). Reviewers diff it;
the policy pack's offline audit and the local emulator read it.
"""

from __future__ import annotations

import argparse
import contextvars
import hashlib
import json
import runpy
import sys
import warnings
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "orderflow"
ACCOUNT_ID = "123456789012"
"""The emulator's account and region, so synthesized ARNs and URLs are the ones moto serves."""
DEFAULT_REGION = "us-east-1"
POWERTOOLS_LAYER = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{runtime}-{arch}:27"
PROVIDER_VERSION = "7.51.1"


def stack_config(stack: str) -> dict[str, str]:
    """The stack file's config as the CLI hands it to the program: namespaced keys, string values."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise SystemExit(f"no stack file {path.name}; stacks: {', '.join(available_stacks())}")
    data = yaml.safe_load(path.read_text()) or {}
    config = {}
    for key, value in (data.get("config") or {}).items():
        if isinstance(value, bool):
            config[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            config[key] = json.dumps(value)
        else:
            config[key] = str(value)
    return config


def available_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _computed(typ: str, name: str, inputs: dict[str, Any], region: str, account: str) -> tuple[str, dict[str, Any]]:
    """The id and computed outputs AWS returns for a resource, derived from its (physical) name."""
    phys = inputs.get("name") or name
    arn = f"arn:aws:{{svc}}:{region}:{account}:{{res}}"
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account}/{phys}"
        return url, {"arn": arn.format(svc="sqs", res=phys), "url": url, "name": phys}
    if typ == "aws:iam/role:Role":
        return phys, {"arn": f"arn:aws:iam::{account}:role/{phys}", "name": phys, "uniqueId": f"AROA{_digest(phys)[:16].upper()}"}
    if typ == "aws:iam/rolePolicy:RolePolicy":
        return f"{inputs.get('role')}:{phys}", {"name": phys}
    if typ == "aws:sqs/queuePolicy:QueuePolicy":
        return str(inputs.get("queueUrl")), {}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return phys, {"arn": arn.format(svc="logs", res=f"log-group:{phys}"), "name": phys}
    if typ == "aws:lambda/function:Function":
        fn_arn = arn.format(svc="lambda", res=f"function:{phys}")
        return phys, {"arn": fn_arn, "qualifiedArn": f"{fn_arn}:$LATEST", "version": "$LATEST", "name": phys,
                      "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"}
    if typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
        d = _digest(name)
        uuid = f"{d[:8]}-{d[8:12]}-4{d[13:16]}-8{d[17:20]}-{d[20:32]}"
        return uuid, {"uuid": uuid, "arn": arn.format(svc="lambda", res=f"event-source-mapping:{uuid}")}
    if typ == "aws:sfn/stateMachine:StateMachine":
        sm_arn = arn.format(svc="states", res=f"stateMachine:{phys}")
        return sm_arn, {"arn": sm_arn, "name": phys, "status": "ACTIVE"}
    if typ == "aws:dynamodb/table:Table":
        return phys, {"arn": arn.format(svc="dynamodb", res=f"table/{phys}"), "name": phys}
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return phys, {"arn": arn.format(svc="cloudwatch", res=f"alarm:{phys}"), "name": phys}
    if typ == "aws:sns/topic:Topic":
        topic_arn = arn.format(svc="sns", res=phys)
        return topic_arn, {"arn": topic_arn, "name": phys}
    return f"{name}-id", {}


def _plain(value: Any) -> Any:
    """Inputs as JSON: archives and assets in the form the state file uses."""
    import pulumi

    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        kind = "4dabf18193072939515e22adb298388d"
        sig = "0def7320c3a5731c473e5ecbe6d01bc7" if isinstance(value, pulumi.FileArchive) else "c44067f5952c0a294b673a41bacd8c17"
        return {kind: sig, "path": value.path}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def synthesize(stack: str, *, preview: bool = False, computed: bool = True,
               config_overrides: dict[str, str] | None = None, program: Path | None = None) -> dict[str, Any]:
    """Run the program for ``stack`` under mocks; returns the stack export as a dict.

    ``computed=False`` makes the mocks return no computed outputs, as an engine does in a first preview.
    """
    return contextvars.Context().run(_synthesize, stack, preview, computed, config_overrides or {}, program)


def _synthesize(stack: str, preview: bool, computed: bool, overrides: dict[str, str],
                program: Path | None) -> dict[str, Any]:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime.config import set_all_config

    config = {**stack_config(stack), **overrides}
    region = config.get("aws:region", DEFAULT_REGION)
    provider_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:aws::default_{PROVIDER_VERSION.replace('.', '_')}"
    records: list[dict[str, Any]] = []

    class Mocks(pmocks.Mocks):
        def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            if not args.custom:
                return None, {}
            rid, outputs = _computed(args.typ, args.name, args.inputs, region, ACCOUNT_ID)
            if not computed:
                return (None if preview else rid), dict(args.inputs)
            return rid, {**args.inputs, **outputs}

        def call(self, args: pmocks.MockCallArgs) -> Any:
            token = args.token
            if token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/synth", "userId": "synth",
                        "id": ACCOUNT_ID}
            if token == "aws:index/getRegion:getRegion":
                return {"region": region, "name": region, "id": region,
                        "endpoint": f"ec2.{region}.amazonaws.com", "description": region}
            if token == "aws:index/getPartition:getPartition":
                return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
                        "reverseDnsPrefix": "com.amazonaws"}
            if token == "aws:ssm/getParameter:getParameter":
                parts = str(args.args["name"]).split("/")  # /aws/service/powertools/python/<arch>/<runtime>/latest
                value = POWERTOOLS_LAYER.format(region=region, arch=parts[5], runtime=parts[6].replace(".", ""))
                return {"name": args.args["name"], "value": value, "type": "String", "id": args.args["name"],
                        "arn": f"arn:aws:ssm:{region}::parameter{args.args['name']}", "version": 1,
                        "insecureValue": value, "withDecryption": True}
            raise NotImplementedError(f"synth mocks do not answer {token}")

    class Monitor(pmocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                urn = response.urn
                reg = self.resources[urn]
                records.append({
                    "urn": urn,
                    "custom": bool(request.custom),
                    "type": request.type,
                    "id": reg.id,
                    "parent": request.parent or None,
                    "inputs": _plain(pulumi.runtime.rpc.deserialize_properties(request.object)),
                    "outputs": _plain(dict(reg.state)) if request.custom else {},
                })
            return response

    mocks = Mocks()
    set_all_config(config)
    pmocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=Monitor(mocks))
    sys.path.insert(0, str(ROOT))
    try:
        pmocks.test(lambda: runpy.run_path(str(program or ROOT / "__main__.py"), run_name="__main__"))()
    finally:
        sys.path.remove(str(ROOT))
    stack_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {"urn": provider_urn, "custom": True, "id": "00000000-0000-0000-0000-000000000000",
         "type": "pulumi:providers:aws", "inputs": {"region": region, "version": PROVIDER_VERSION},
         "outputs": {"region": region, "version": PROVIDER_VERSION}},
    ]
    for record in records:
        entry = {k: v for k, v in record.items() if v is not None or k == "parent"}
        entry["parent"] = record["parent"] or stack_urn
        if record["custom"]:
            entry["provider"] = f"{provider_urn}::00000000-0000-0000-0000-000000000000"
        else:
            entry.pop("id", None)
        resources.append(entry)
    return {"version": 3, "deployment": {
        "manifest": {"time": "1970-01-01T00:00:00Z", "magic": "", "version": f"pulumi-sdk-{pulumi.__version__}"
                     if hasattr(pulumi, "__version__") else ""},
        "resources": resources,
    }}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", default=None, help="output file (default: stdout)")
    args = parser.parse_args(argv)
    from components.settings import SettingsError

    try:
        export = synthesize(args.stack)
    except SettingsError as error:
        print(f"error: stack {args.stack}: {error}", file=sys.stderr)
        return 2
    text = json.dumps(export, indent=2, sort_keys=True) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        count = sum(1 for r in export["deployment"]["resources"] if r.get("custom"))
        print(f"wrote {args.out}: {count} resources of stack {args.stack}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
