"""The inventory-check service: one callback worker and its inventory table, built from stack config."""

from __future__ import annotations

import pulumi
from orderflow.alarms import AlarmTargets, unheard
from orderflow.aws_context import AwsContext
from orderflow.quota import check_reserved_concurrency

from components.inventory_service.service import inventory_service
from stack_config import load_stack_config

config = load_stack_config()
check_reserved_concurrency(config.settings.reserved_concurrency)
table, worker = inventory_service("inventory", config, AwsContext.current())
silence = unheard(AlarmTargets(config.alarm_topic, config.alarm_topic_arn, config.alarm_emails,
                               config.alarm_https_endpoints))
if silence and not config.development:  # a development stack may run without anyone listening
    pulumi.log.warn(f"stack {pulumi.get_stack()}: its alarms notify no one ({silence}); set orderflow:alarmEmails or "
                    "orderflow:alarmHttpsEndpoints (with alarmTopic: true), or orderflow:alarmTopicArn")

pulumi.export("queueUrl", worker.queue_url)
pulumi.export("queueArn", worker.queue_arn)
pulumi.export("dlqUrl", worker.dlq_url)
pulumi.export("dlqArn", worker.dlq_arn)
pulumi.export("stateMachineArn", worker.state_machine_arn)
pulumi.export("functionName", worker.function_name)
pulumi.export("functionArn", worker.function_arn)
pulumi.export("workerRoleArn", worker.worker_role_arn)
pulumi.export("stateMachineRoleArn", worker.state_machine_role_arn)
pulumi.export("alarmTopicArn", worker.alarm_topic_arn)
pulumi.export("tableName", table.table_name)
