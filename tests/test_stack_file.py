"""Stack files read as the Pulumi CLI reads them: yaml.v3's scalars and duplicate keys, Pulumi's config values,
`secure:` values of the passphrase provider, and `aws:region` checked against botocore's regions.

Each row cites the upstream rule it follows (go-yaml/yaml v3.0.1, pulumi/pulumi, the Python SDK).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stack_config import parse_namespaced
from tools.go_yaml import load
from tools.stack_file import read_stack_file
from tools.stack_secrets import derive_key, encrypt_value
from tools.synth import main as synth_main

HEAD = "config:\n  aws:region: us-east-1\n"

# (YAML value of orderflow:x, the string the program receives, the upstream rule)
SCALARS = [
    ("010", "8", "yaml.v3 resolve.go: ParseInt(plain, 0, 64), base 0 reads a leading 0 as octal"),
    ("1_0", "10", "yaml.v3 resolve.go: underscores removed before ParseInt"),
    ("0x10", "16", "yaml.v3 resolve.go: base 0 reads 0x as hex"),
    ("0o17", "15", "yaml.v3 resolve.go: base 0 reads 0o as octal"),
    ("0b101", "5", "yaml.v3 resolve.go: base 0 reads 0b as binary"),
    ("-0b101", "-5", "yaml.v3 resolve.go: sign then prefix"),
    ("08", "8", "yaml.v3 resolve.go: not octal, so a yamlStyleFloat: float64 8, JSON 8"),
    ("+3", "3", "yaml.v3 resolve.go: ParseInt accepts a sign; Pulumi prints the int64"),
    ("3.0", "3", "Pulumi object.go MarshalString: float64 3 as encoding/json writes it"),
    ("1e3", "1000", "yaml.v3 yamlStyleFloat, then encoding/json"),
    (".5", "0.5", "yaml.v3 resolve.go: hint '.' -> ParseFloat"),
    ("99999999999999999999", "100000000000000000000", "beyond uint64: a float, written without exponent < 1e21"),
    ("1e21", "1e+21", "encoding/json: exponent form from 1e21"),
    ("1e-7", "1e-7", "encoding/json: exponent form below 1e-6, e-07 cleaned to e-7"),
    ("18446744073709551615", "18446744073709551615", "yaml.v3 resolve.go: ParseUint after ParseInt"),
    ("on", "on", "yaml.v3 resolve.go resolveMapList: on/off/yes/no are not booleans (YAML 1.2)"),
    ("yes", "yes", "yaml.v3 resolve.go resolveMapList"),
    ("TRUE", "true", "yaml.v3 resolve.go resolveMapList: true True TRUE; Pulumi writes the JSON bool"),
    ("True", "true", "yaml.v3 resolve.go resolveMapList"),
    ("'TRUE'", "TRUE", "a quoted scalar is a string"),
    ("'010'", "010", "a quoted scalar is a string"),
    ("!!str 010", "010", "an explicit !!str tag keeps the text"),
    ("!!float 3", "3", "yaml.v3 resolve(): an int under !!float becomes a float"),
    ("~", "", "null: the value is not set (the CLI warns and passes an empty string)"),
    ("", "", "an empty value is null"),
    ("2024-01-02", "2024-01-02 00:00:00 +0000 UTC", "yaml.v3 parseTimestamp; Pulumi object.go: time.Time.String()"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500", "RFC 3339 with lower-case t"),
    ("'<a&b>'", "<a&b>", "a string is passed as written"),
    ("[a, 010, on]", '["a",8,"on"]', "Pulumi object.go: a list is an object, passed as JSON"),
    ("{b: 1, a: <x>}", '{"a":"\\u003cx\\u003e","b":1}', "encoding/json: sorted keys, HTML characters escaped"),
    ("[1.5, 2.0, null]", "[1.5,2,null]", "encoding/json floats and null inside an object"),
]


@pytest.mark.parametrize(("text", "received", "rule"), SCALARS, ids=[row[0] or "empty" for row in SCALARS])
def test_a_value_reaches_the_program_as_the_cli_passes_it(tmp_path: Path, text: str, received: str,
                                                          rule: str) -> None:
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text(f"{HEAD}  orderflow:x: {text}\n")
    assert read_stack_file("t", stack)["orderflow:x"] == received, rule


# (stack file body after `config:`, the one problem it gives, the upstream rule)
REFUSED = [
    ("  orderflow:maxConcurrency: 2\n  orderflow:maxConcurrency: 3\n",
     'line 3: mapping key "orderflow:maxConcurrency" already defined at line 2 (the Pulumi CLI refuses the file '
     "too); fix the file", "yaml.v3 decode.go d.mapping, uniqueKeys"),
    ("  a: 2\n  'a': 3\n", 'line 3: mapping key "a" already defined at line 2 (the Pulumi CLI refuses the file '
                           "too); fix the file",
     "yaml.v3 compares a key's kind and text, not its style"),
    ("  maxConcurrency: 2\n  orderflow:maxConcurrency: 3\n",
     "orderflow:maxConcurrency is given twice (as 'maxConcurrency' and 'orderflow:maxConcurrency'); keep one",
     "Pulumi loaders.go stackConfigNamespacedWithProject: both name one key"),
    ("  a:b:c: 1\n", "'a:b:c' is not a config key the Pulumi CLI can parse (<namespace>:<name>)",
     "Pulumi config/key.go ParseKey"),
    ("  orderflow:x: .nan\n", "orderflow:x: nan is not a value the Pulumi CLI can pass on (json: unsupported value: "
                              "nan: JSON has no NaN or infinity)", "encoding/json refuses NaN"),
    ("  base: &b {a: 1}\n  orderflow:x: {<<: *b}\n",
     "line 3: merge keys (<<) are not supported in a stack file here; write the keys out; fix the file",
     "refused here: stricter than yaml.v3, which merges"),
]


@pytest.mark.parametrize(("body", "problem", "rule"), REFUSED, ids=[r[2].split()[0] + str(i)
                                                                     for i, r in enumerate(REFUSED)])
def test_a_file_the_cli_refuses_is_one_error_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         body: str, problem: str, rule: str) -> None:
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text("config:\n" + body)
    assert synth_main(["--stack", "t", "--stack-file", str(stack)]) == 2, rule
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: {stack}: {problem}"]


# (the string the program receives for orderflow:alarmTopic, accepted value or None, the SDK rule)
BOOLEANS = [
    ("true", True, "Config.get_bool accepts true/True"), ("True", True, "Config.get_bool"),
    ("false", False, "Config.get_bool"), ("False", False, "Config.get_bool"),
    ("TRUE", None, "a quoted 'TRUE' reaches the program as TRUE: get_bool raises ConfigTypeError"),
    ("on", None, "yaml.v3 keeps on a string; get_bool raises"), ("yes", None, "get_bool raises"),
    ("1", None, "get_bool raises"),
]


@pytest.mark.parametrize(("value", "parsed", "rule"), BOOLEANS)
def test_booleans_as_the_sdk_reads_them(value: str, parsed: bool | None, rule: str) -> None:
    from orderflow.settings import SettingsError

    if parsed is None:
        with pytest.raises(SettingsError) as raised:
            parse_namespaced({"orderflow:alarmTopic": value})
        assert raised.value.problems == [f"alarmTopic={value!r} is not one of {{true, false}}"], rule
    else:
        assert parse_namespaced({"orderflow:alarmTopic": value}).alarm_topic is parsed, rule


def test_integers_from_yaml_reach_the_settings_as_the_cli_makes_them(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text(f"{HEAD}  orderflow:functionTimeoutSeconds: 010\n  orderflow:maxConcurrency: 1_0\n"
                     "  orderflow:batchSize: 1e1\n")
    parsed = parse_namespaced(read_stack_file("t", stack)).settings
    assert (parsed.function_timeout_seconds, parsed.max_concurrency, parsed.batch_size) == (8, 10, 10)


# (aws:region, the problem line; None: accepted)
REGIONS = [
    ("eu-centrl-1", "aws:region='eu-centrl-1' is not a region of the aws partition ({botocore}); did you mean "
                    "eu-central-1?"),
    ("EU-CENTRAL-1", "aws:region='EU-CENTRAL-1' is not an AWS region ({botocore}); did you mean eu-central-1?"),
    ("mars-1", "aws:region='mars-1' is not an AWS region ({botocore}); did you mean me-west-1?"),
    ("cn-nort-1", "aws:region='cn-nort-1' is not a region of the aws-cn partition ({botocore}); did you mean "
                  "cn-north-1?"),
    ("us-east-1 ", "aws:region='us-east-1 ' is not an AWS region ({botocore}); did you mean us-east-1?"),
    ("", "aws:region is empty; give the stack's region (e.g. us-east-1), or leave the key out to use the AWS SDK's"),
    ("eu-central-1", None), ("cn-north-1", None), ("us-gov-west-1", None), ("eusc-de-east-1", None),
]


@pytest.mark.parametrize(("region", "problem"), REGIONS)
def test_region_is_checked_against_botocores_partitions(region: str, problem: str | None) -> None:
    import botocore
    from orderflow.settings import SettingsError

    if problem is None:
        parse_namespaced({"aws:region": region})
        return
    with pytest.raises(SettingsError) as raised:
        parse_namespaced({"aws:region": region})
    botocore_data = f"botocore {botocore.__version__}'s endpoint data"
    assert raised.value.problems == [problem.replace("{botocore}", botocore_data)]


# --- secure values (the passphrase provider) ---------------------------------------------------------------

GO_STATE = "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ=="
"""An encryptionsalt written by Pulumi's Go code for the passphrase ``password`` (pulumi/pulumi
pkg/secrets/passphrase/manager_test.go, ``state``): opening it proves the key derivation is Go's."""
GO_PASSPHRASE = "password"


def secret(plaintext: str, nonce: bytes = b"\x01" * 12) -> str:
    """A value encrypted as the passphrase provider encrypts it, with GO_STATE's salt and passphrase."""
    salt = base64.b64decode(GO_STATE.split(":")[1])
    return encrypt_value(derive_key(GO_PASSPHRASE, salt), plaintext, nonce)


def secret_stack(tmp_path: Path, body: str, salt: str | None = GO_STATE, provider: str | None = None) -> Path:
    stack = tmp_path / "Pulumi.s.yaml"
    head = (f"encryptionsalt: {salt}\n" if salt else "") + (f"secretsprovider: {provider}\n" if provider else "")
    stack.write_text(head + HEAD + body)
    return stack


def test_passphrase_secrets_decrypt_as_the_program_gets_them(tmp_path: Path) -> None:
    emails = secret('["ops@example.com"]')
    hook = secret("https://hooks.example.com/a?b=1&c=2", bytes([2]) * 12)
    stack = secret_stack(tmp_path, f"  orderflow:alarmTopic: true\n  orderflow:alarmEmails:\n    secure: {emails}\n"
                                   f"  orderflow:alarmHttpsEndpoints:\n    - secure: {hook}\n")
    config = read_stack_file("s", stack, environ={"PULUMI_CONFIG_PASSPHRASE": GO_PASSPHRASE})
    assert config["orderflow:alarmEmails"] == '["ops@example.com"]'
    assert config["orderflow:alarmHttpsEndpoints"] == '["https://hooks.example.com/a?b=1\\u0026c=2"]'
    parsed = parse_namespaced(config)
    assert parsed.alarm_emails == ("ops@example.com",)
    assert parsed.alarm_https_endpoints == ("https://hooks.example.com/a?b=1&c=2",)


def test_the_passphrase_file_is_read_and_stripped_as_the_cli_does(tmp_path: Path) -> None:
    (tmp_path / "phrase").write_text(f"  {GO_PASSPHRASE}\n")
    stack = secret_stack(tmp_path, f"  orderflow:kmsKeyArn:\n    secure: {secret('x')}\n")
    config = read_stack_file("s", stack, environ={"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "phrase")})
    assert config["orderflow:kmsKeyArn"] == "x"


SECRET_PROBLEMS = [
    ({}, GO_STATE, None,
     "orderflow:alarmEmails is a secret: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), as for the "
     "Pulumi CLI, to the stack's passphrase so offline commands can decrypt it"),
    ({"PULUMI_CONFIG_PASSPHRASE": "wrong"}, GO_STATE, None,
     "PULUMI_CONFIG_PASSPHRASE is not this stack's passphrase (it does not open encryptionsalt), so "
     "orderflow:alarmEmails cannot be decrypted; give the passphrase the stack was created with"),
    ({"PULUMI_CONFIG_PASSPHRASE_FILE": "/nonexistent/phrase"}, GO_STATE, None,
     "PULUMI_CONFIG_PASSPHRASE_FILE=/nonexistent/phrase: cannot read it (No such file or directory); give a readable "
     "file holding the stack's passphrase"),
    ({"PULUMI_CONFIG_PASSPHRASE": GO_PASSPHRASE}, "v1:AAAA", None,
     "encryptionsalt is not the passphrase provider's state (v1:<salt>:<check value>); restore it from version "
     "control or create the stack's secrets again"),
    ({}, None, "awskms://alias/pulumi?region=us-east-1",
     "orderflow:alarmEmails is a secret of the stack's awskms secrets provider, which needs its service; offline "
     "commands cannot decrypt it: give them a stack file of their own with the plain value (`pulumi config get "
     "orderflow:alarmEmails` prints it), or move the stack to the passphrase provider (`pulumi stack "
     "change-secrets-provider passphrase`)"),
    ({}, None, None,
     "orderflow:alarmEmails is a secret of the stack's Pulumi Cloud secrets provider, which needs its service; "
     "offline commands cannot decrypt it: give them a stack file of their own with the plain value (`pulumi config "
     "get orderflow:alarmEmails` prints it), or move the stack to the passphrase provider (`pulumi stack "
     "change-secrets-provider passphrase`)"),
]


@pytest.mark.parametrize(("environ", "salt", "provider", "problem"), SECRET_PROBLEMS)
def test_a_secret_that_cannot_be_decrypted_names_the_key_and_what_to_give(
        tmp_path: Path, environ: dict[str, str], salt: str | None, provider: str | None, problem: str) -> None:
    from orderflow.settings import SettingsError

    stack = secret_stack(tmp_path, "  orderflow:alarmEmails:\n    secure: AAABAMx0aGlzIGlzIG5vdCBhIHZhbHVl\n",
                         salt, provider)
    if salt == GO_STATE and environ.get("PULUMI_CONFIG_PASSPHRASE") == GO_PASSPHRASE:
        pytest.fail("row would decrypt")
    with pytest.raises(SettingsError) as raised:
        read_stack_file("s", stack, environ=environ)
    assert raised.value.problems == [problem]
    assert "not an email address" not in str(raised.value)


def test_a_value_another_passphrase_wrote_is_named_not_described(tmp_path: Path) -> None:
    from orderflow.settings import SettingsError

    stack = secret_stack(tmp_path, "  orderflow:alarmEmails:\n    secure: v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==\n")
    with pytest.raises(SettingsError) as raised:
        read_stack_file("s", stack, environ={"PULUMI_CONFIG_PASSPHRASE": GO_PASSPHRASE})
    assert raised.value.problems == [
        "orderflow:alarmEmails: its secure value was not written with this stack's passphrase; set it again "
        "(`pulumi config set --secret orderflow:alarmEmails ...`)"]


def test_synth_reports_an_undecryptable_secret_as_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    stack = secret_stack(tmp_path, f"  orderflow:alarmTopic: true\n  orderflow:alarmEmails:\n    secure: {secret('a')}\n")
    assert synth_main(["--stack", "s", "--stack-file", str(stack)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {stack}: orderflow:alarmEmails is a secret: set PULUMI_CONFIG_PASSPHRASE")


def test_the_loader_resolves_keys_and_nesting_as_yaml_v3() -> None:
    assert load("1: a\ntrue: b\n~: c\n1.5: d\n") == {"1": "a", "true": "b", "<nil>": "c", "1.5": "d"}
    assert load("a: [1, {b: on}]\n") == {"a": [1, {"b": "on"}]}
