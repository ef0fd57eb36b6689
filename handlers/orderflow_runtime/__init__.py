"""orderflow_runtime: the worker side of the callback protocol, with a worker's own functions wired in.

Modules: ``contract`` (message keys and environment names, shared with the component), ``config`` (the required
environment), ``envelope``, ``heartbeat``, ``tasks`` (the Step Functions calls), ``batch`` (the concurrent SQS
batch processor), ``logs``, ``limits``, ``trace`` (the execution's trace context on a record's log lines),
``ledger`` (the generic reservation ledger: counters, holds, one ``Layout`` per service) and ``runtime``
(``CallbackRuntime``, ``Worker``, ``Answer``). Nothing is imported here: the component imports ``contract`` without
Powertools or botocore.
"""
