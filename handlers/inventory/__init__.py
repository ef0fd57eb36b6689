"""The inventory worker: answers the Check Inventory callback tasks from SQS."""
