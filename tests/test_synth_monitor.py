"""The synth's monitor refuses what the Pulumi engine refuses at registration, in the engine's words.

Each row is a tiny program that breaks one rule; the synth must fail naming the resource being registered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.synth import synthesize
from tools.synth_monitor import RegistrationError

HEAD = "import pulumi\nimport pulumi_aws as aws\n"
GHOST_QUEUE = "urn:pulumi:dev::orderflow::aws:sqs/queue:Queue::ghost"
STALE = '''
class Stale(pulumi.resource.DependencyResource):
    """A component known only by a URN this program never registered."""
    _protect = False
    _providers: dict = {}
    _transformations: list = []
    _childResources: set = set()
'''
QUEUE_Q = "urn:pulumi:dev::orderflow::aws:sqs/queue:Queue::q"

# (rule, program body, expected message: the engine's wording with this program's URNs)
CASES = [
    ("duplicate URN", 'aws.sqs.Queue("q", name="a")\naws.sqs.Queue("q", name="b")\n',
     f"Duplicate resource URN '{QUEUE_Q}'; try giving it a unique name"),
    ("parent never registered",
     STALE + 'aws.sqs.Queue("q", name="a", opts=pulumi.ResourceOptions(parent=Stale('
             '"urn:pulumi:dev::orderflow::orderflow:index:Ghost::g")))\n',
     "could not find parent resource urn:pulumi:dev::orderflow::orderflow:index:Ghost::g (resource "
     "urn:pulumi:dev::orderflow::orderflow:index:Ghost$aws:sqs/queue:Queue::q)"),
    ("depends_on not registered",
     f'ghost = pulumi.resource.DependencyResource("{GHOST_QUEUE}")\n'
     'aws.sqs.Queue("q", name="a", opts=pulumi.ResourceOptions(depends_on=[ghost]))\n',
     f"resource {QUEUE_Q}'s dependency {GHOST_QUEUE} refers to missing resource"),
    ("input from a resource not registered",
     f'ghost = pulumi.resource.DependencyResource("{GHOST_QUEUE}")\n'
     'name = pulumi.Output(resources={ghost}, future=pulumi.Output.from_input("a").future(),\n'
     '                     is_known=pulumi.Output.from_input(True).future())\n'
     'aws.sqs.Queue("q", name=name)\n',
     f"resource {QUEUE_Q}'s dependency {GHOST_QUEUE} refers to missing resource"),
    ("deleted_with not registered",
     f'ghost = pulumi.resource.DependencyResource("{GHOST_QUEUE}")\n'
     'aws.sqs.Queue("q", name="a", opts=pulumi.ResourceOptions(deleted_with=ghost))\n',
     f"resource {QUEUE_Q} is specified as being deleted with {GHOST_QUEUE}, which is missing"),
    ("provider not registered",
     'eu = pulumi.resource.DependencyProviderResource("urn:pulumi:dev::orderflow::pulumi:providers:aws::eu::1")\n'
     'aws.sqs.Queue("q", name="a", opts=pulumi.ResourceOptions(provider=eu))\n',
     f"resource {QUEUE_Q} refers to unknown provider urn:pulumi:dev::orderflow::pulumi:providers:aws::eu::1"),
    ("invalid type token", 'pulumi.CustomResource("queue", "q", {})\n',
     "Type 'queue' is not a valid type token (must have format '*:*:*') (resource "
     "urn:pulumi:dev::orderflow::queue::q)"),
]


def run(tmp_path: Path, body: str) -> dict:
    program = tmp_path / "program.py"
    program.write_text(HEAD + body)
    return synthesize("dev", program=program)


@pytest.mark.parametrize(("rule", "body", "message"), CASES, ids=[c[0] for c in CASES])
def test_the_engine_refusal_fails_the_synth(tmp_path: Path, rule: str, body: str, message: str) -> None:
    with pytest.raises(RegistrationError) as error:
        run(tmp_path, body)
    assert str(error.value) == message


def test_a_program_that_keeps_every_rule_passes_with_engine_urns(tmp_path: Path) -> None:
    body = (
        'eu = aws.Provider("eu", region="eu-west-1")\n'
        'c = pulumi.ComponentResource("orderflow:index:Thing", "c")\n'
        'a = aws.sqs.Queue("a", name="a", opts=pulumi.ResourceOptions(parent=c, provider=eu))\n'
        't = aws.sns.Topic("t", name="t", opts=pulumi.ResourceOptions(parent=a))\n'
        'aws.sqs.Queue("b", name=a.name.apply(lambda n: n + "-b"),\n'
        '              opts=pulumi.ResourceOptions(parent=c, depends_on=[a], deleted_with=a))\n'
    )
    resources = {r["urn"]: r for r in run(tmp_path, body)["deployment"]["resources"]}
    a = "urn:pulumi:dev::orderflow::orderflow:index:Thing$aws:sqs/queue:Queue::a"
    # the root stack adds no type to its children; a grandchild carries its parents' whole type chain
    assert "urn:pulumi:dev::orderflow::orderflow:index:Thing::c" in resources
    assert "urn:pulumi:dev::orderflow::orderflow:index:Thing$aws:sqs/queue:Queue$aws:sns/topic:Topic::t" in resources
    assert resources[a]["provider"] == "urn:pulumi:dev::orderflow::pulumi:providers:aws::eu::eu-id"
    assert resources["urn:pulumi:dev::orderflow::orderflow:index:Thing$aws:sqs/queue:Queue::b"]["dependencies"] == [a]
