"""orderflow's CrossGuard policy pack: rules in ``rules``, the served pack in ``pack``, the offline ``audit``.

Self-contained: every import inside this folder is relative, so it works as ``policy`` from the repository, and
as a copy of the folder alone (``pulumi policy publish``) loaded by ``__main__``.
"""
