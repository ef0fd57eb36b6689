"""The synth's answers for the Pulumi mocks: what AWS would return for each resource and invoke.

Resources get the id and computed outputs AWS gives them (ARNs and URLs built from the physical name, in the
region's partition), over the provider defaults a real deploy reports (:mod:`tools.synth_defaults`). Invokes
answer as the account would: caller identity, region, partition, the pinned Powertools layer parameter (only in
the ``aws`` partition, as published), and the Lambda concurrency quota (:class:`AccountFixture`). A lookup AWS
refuses answers with a failure, as the engine reports a provider's error to the program.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from orderflow.regions import dns_suffix, partition_of_region
from pulumi.runtime import mocks as pmocks
from pulumi.runtime.settings import get_project, get_stack

from tools.synth_defaults import with_provider_defaults

ACCOUNT_ID = "123456789012"
"""The emulator's account, so synthesized ARNs and URLs are the ones moto serves."""
POWERTOOLS_LAYER = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{runtime}-{arch}:27"
"""Stand-in value of the layer parameter (the layer's version number differs per region and release)."""


@dataclass(frozen=True)
class AccountFixture:
    """What the account's lookups answer under the mocks."""

    lambda_concurrency_quota: float | None = 1000.0
    """Service Quotas L-B99A9384 (AWS's default is 1,000); None: the caller may not read it (AccessDenied)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def partition_of(region: str) -> tuple[str, str]:
    """(partition, DNS suffix) of a region, as ``aws.get_partition()`` answers there: botocore's partition data
    (:mod:`orderflow.regions`); ``aws`` for a region no partition claims."""
    partition = partition_of_region(region) or "aws"
    return partition, dns_suffix(partition)


def _computed(typ: str, name: str, inputs: dict[str, Any], region: str, account: str) -> tuple[str, dict[str, Any]]:
    """The id and computed outputs AWS returns for a resource, derived from its (physical) name."""
    phys = inputs.get("name") or name
    partition, domain = partition_of(region)
    arn = f"arn:{partition}:{{svc}}:{region}:{account}:{{res}}"
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{region}.{domain}/{account}/{phys}"
        return url, {"arn": arn.format(svc="sqs", res=phys), "url": url, "name": phys}
    if typ == "aws:iam/role:Role":
        return phys, {"arn": f"arn:{partition}:iam::{account}:role/{phys}", "name": phys,
                      "uniqueId": f"AROA{_digest(phys)[:16].upper()}"}
    if typ == "aws:iam/rolePolicy:RolePolicy":
        return f"{inputs.get('role')}:{phys}", {"name": phys}
    if typ == "aws:sqs/queuePolicy:QueuePolicy":
        return str(inputs.get("queueUrl")), {}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return phys, {"arn": arn.format(svc="logs", res=f"log-group:{phys}"), "name": phys}
    if typ == "aws:lambda/function:Function":
        fn_arn = arn.format(svc="lambda", res=f"function:{phys}")
        return phys, {"arn": fn_arn, "qualifiedArn": f"{fn_arn}:$LATEST", "version": "$LATEST", "name": phys,
                      "invokeArn": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}"
                                   "/invocations"}
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
    if typ == "aws:sns/topicSubscription:TopicSubscription":
        sub_arn = f"{inputs.get('topic')}:{_digest(name)[:8]}-{_digest(name)[8:12]}"
        return sub_arn, {"arn": sub_arn, "pendingConfirmation": inputs.get("protocol") in ("email", "https")}
    return f"{name}-id", {}


class SynthMocks(pmocks.Mocks):
    """Answers registrations and invokes as AWS would for the emulator's account in ``region``."""

    def __init__(self, region: str, account: AccountFixture, *, computed: bool, preview: bool) -> None:
        self.region = region
        self.partition, self.domain = partition_of(region)
        self.account = account
        self.computed = computed
        self.preview = preview
        self.provider_regions: dict[str, str] = {}
        """Region of each explicit aws provider the program registers, by URN: its invokes answer there."""

    def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return None, {}
        if args.typ == "pulumi:providers:aws":
            urn = f"urn:pulumi:{get_stack()}::{get_project()}::{args.typ}::{args.name}"
            self.provider_regions[urn] = str(args.inputs.get("region") or self.region)
        rid, outputs = _computed(args.typ, args.name, args.inputs, self.region, ACCOUNT_ID)
        if not self.computed:
            return (None if self.preview else rid), dict(args.inputs)
        return rid, {**with_provider_defaults(args.typ, dict(args.inputs)), **outputs}

    def call(self, args: pmocks.MockCallArgs) -> Any:
        """Answer an invoke as the provider it was sent to would (its region; the default: the stack's)."""
        token = args.token
        region = self.provider_regions.get((args.provider or "").rsplit("::", 1)[0], self.region)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:{self.partition}:iam::{ACCOUNT_ID}:user/synth",
                    "userId": "synth", "id": ACCOUNT_ID}
        if token == "aws:index/getRegion:getRegion":
            return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.{self.domain}",
                    "description": region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": self.partition, "dnsSuffix": self.domain, "id": self.partition,
                    "reverseDnsPrefix": ".".join(reversed(self.domain.split(".")))}
        if token == "aws:ssm/getParameter:getParameter":
            return self._parameter(str(args.args["name"]), region)
        if token == "aws:servicequotas/getServiceQuota:getServiceQuota":
            return self._quota(args.args)
        raise NotImplementedError(f"synth mocks do not answer {token}")

    def _parameter(self, name: str, region: str) -> Any:
        parts = name.split("/")  # /aws/service/powertools/python/<arch>/<runtime>/<version>
        if partition_of(region)[0] != "aws" or len(parts) != 8 or parts[:5] != ["", "aws", "service", "powertools", "python"]:
            return {}, [("name", f"reading SSM Parameter ({name}): ParameterNotFound")]
        value = POWERTOOLS_LAYER.format(region=region, arch=parts[5], runtime=parts[6].replace(".", ""))
        return {"name": name, "value": value, "type": "String", "id": name, "version": 1, "insecureValue": value,
                "arn": f"arn:aws:ssm:{region}::parameter{name}", "withDecryption": True}

    def _quota(self, args: dict[str, Any]) -> Any:
        quota = self.account.lambda_concurrency_quota
        if quota is None:
            return {}, [("quotaCode", "AccessDeniedException: not authorized to perform servicequotas:GetServiceQuota")]
        code = args.get("quotaCode")
        return {"quotaCode": code, "serviceCode": args.get("serviceCode"), "value": quota, "adjustable": True,
                "defaultValue": 1000.0, "globalQuota": False, "id": f"{args.get('serviceCode')}/{code}",
                "quotaName": "Concurrent executions", "serviceName": "AWS Lambda"}
