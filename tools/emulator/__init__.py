"""The embedded default: the synthesized stack deployed into moto, with Lambda's SQS poller played here."""
