"""checkov's CloudFormation checks on a stack's rendering, and the findings that do not apply to this design.

    python -m tools.checkov_scan TEMPLATE.json

Runs the pinned checkov (its own locked environment, ``scripts/checkov/``) on a template from
:mod:`tools.cfn_render`, and judges every failed check against ``NOT_APPLICABLE``: each entry says why the check
does not apply to this design; the encryption checks fail by design while a stack sets no ``kmsKeyArn`` (the
AWS-managed defaults stay) and must pass once it does (a template whose queues name a KMS key). Prints one line per finding; exit 0 when every
finding is one of these, 1 when another is found (or one that should pass with the key fails), 2 when checkov
cannot run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / "scripts" / "checkov" / ".venv" / "bin" / "checkov"

NOT_APPLICABLE = {
    "CKV_AWS_116": "the worker is invoked by an SQS event source mapping: a failed record goes back to the queue, "
                   "whose redrive policy moves it to the stack's DLQ; a function's DLQ serves asynchronous "
                   "invocations only (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records"
                   ".html)",
    "CKV_AWS_117": "the worker calls only AWS APIs (SQS, DynamoDB, Step Functions), over TLS and under IAM; a VPC "
                   "would add ENIs and NAT or interface endpoints, and no control the grants lack",
    "CKV_AWS_173": "the worker's environment holds settings (timeouts, the table's name), no secret; Lambda "
                   "encrypts it at rest with an AWS managed key",
    "CKV_AWS_115": "development stacks leave reservedConcurrency unset (the account's pool); prod reserves 25",
}
"""Checks that do not apply to this design, with why."""
DEFAULTS_WITHOUT_KEY = {
    "CKV_AWS_27": "without kmsKeyArn the queues use SSE-SQS, encryption at rest with keys SQS owns (checkov counts "
                  "KMS keys only)",
    "CKV_AWS_119": "without kmsKeyArn DynamoDB encrypts the table at rest with an AWS owned key",
    "CKV_AWS_158": "without kmsKeyArn CloudWatch Logs encrypts log data at rest with its own keys",
    "CKV_AWS_26": "without kmsKeyArn the alarm topic is not encrypted: the AWS managed key alias/aws/sns cannot "
                  "let CloudWatch publish to it; set kmsKeyArn",
}
"""Encryption checks that fail by design when a stack gives no customer-managed key, and pass when it does."""


def run_checkov(template: Path) -> list[tuple[str, str]]:
    """(check id, resource) of every failed check; RuntimeError when checkov cannot run."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: `make checkov` installs checkov's environment first")
    done = subprocess.run([str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "--skip-download",
                           "--soft-fail", "-o", "json", "--quiet"], capture_output=True, text=True, check=False,
                          timeout=300)
    try:
        report = json.loads(done.stdout or "{}")
    except ValueError:
        raise RuntimeError(f"checkov gave no JSON (exit {done.returncode}): {done.stderr.strip()[-300:]}") from None
    reports = report if isinstance(report, list) else [report]
    return sorted((f["check_id"], f["resource"]) for r in reports if r
                  for f in (r.get("results") or {}).get("failed_checks", []))


def judge(findings: list[tuple[str, str]], with_key: bool) -> list[str]:
    """One line per finding; a line starting ``new:`` for a finding that applies."""
    lines = []
    for check, resource in findings:
        reason = NOT_APPLICABLE.get(check) or (None if with_key else DEFAULTS_WITHOUT_KEY.get(check))
        lines.append(f"{check} {resource}: " + (f"does not apply: {reason}" if reason else
                                                "new: this finding applies; fix the stack or document why not"))
    return lines


def keyed(template: Path) -> bool:
    """True when the template's queues name a customer-managed key (the stack sets kmsKeyArn)."""
    resources = json.loads(template.read_text()).get("Resources", {})
    return any(r.get("Properties", {}).get("KmsMasterKeyId") for r in resources.values()
               if r.get("Type") == "AWS::SQS::Queue")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("template", type=Path)
    args = parser.parse_args(argv)
    try:
        lines = judge(run_checkov(args.template), keyed(args.template))
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as error:
        print(f"error: checkov: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    new = [line for line in lines if ": new: " in line]
    print(f"checkov: {len(lines)} finding(s), {len(new)} that apply")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
