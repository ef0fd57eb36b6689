"""``secure:`` values of a stack file, decrypted offline where Pulumi's passphrase secrets provider wrote them.

The passphrase provider (pulumi/pulumi ``pkg/secrets/passphrase/manager.go``) keeps its state in the stack file's
``encryptionsalt``: ``v1:<salt, base64>:<the word "pulumi" encrypted with the key>``. The key is PBKDF2-SHA256 of
the passphrase and the salt, 1,000,000 iterations, 32 bytes; every value is ``v1:<nonce, base64>:<AES-256-GCM
ciphertext and tag, base64>`` with a 12-byte nonce (``sdk/go/common/resource/config/crypt.go``,
``NewSymmetricCrypterFromPassphrase``, ``symmetricCrypter.DecryptValue``). The passphrase is read as the CLI
reads it (``readPassphrase``): ``PULUMI_CONFIG_PASSPHRASE`` when set (even empty), else the file named by
``PULUMI_CONFIG_PASSPHRASE_FILE``, its content stripped of surrounding white space
(https://www.pulumi.com/docs/iac/concepts/secrets/#passphrase).

Other providers (Pulumi Cloud, awskms://, gcpkms://, azurekeyvault://, hashivault://) need their service: an
offline command cannot decrypt their values, and says which key and what to provide instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretError(ValueError):
    """A secure value that cannot be decrypted here; ``str(error)`` names the key and what to provide."""


@cache
def derive_key(passphrase: str, salt: bytes) -> bytes:
    """The AES-256 key of a passphrase and salt (PBKDF2-SHA256, 1,000,000 iterations)."""
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, PBKDF2_ITERATIONS, KEY_BYTES)


def decrypt_value(key: bytes, ciphertext: str) -> str:
    """``v1:<nonce>:<ciphertext>`` decrypted with ``key``; ValueError when it is not one this key wrote."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    parts = ciphertext.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise ValueError("not a passphrase provider value")
    try:
        nonce, sealed = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise ValueError("not a passphrase provider value") from None
    if len(nonce) != NONCE_BYTES:
        raise ValueError("not a passphrase provider value")
    try:
        return AESGCM(key).decrypt(nonce, sealed, None).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise ValueError("another key wrote it") from None


def encrypt_value(key: bytes, plaintext: str, nonce: bytes) -> str:
    """``v1:<nonce>:<ciphertext>`` as the passphrase provider writes it (tests make values with it)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def read_passphrase(environ: dict[str, str] | None = None) -> tuple[str | None, str]:
    """(passphrase or None, where it came from), as the CLI's ``readPassphrase`` looks for it."""
    env = os.environ if environ is None else environ
    if "PULUMI_CONFIG_PASSPHRASE" in env:
        return env["PULUMI_CONFIG_PASSPHRASE"], "PULUMI_CONFIG_PASSPHRASE"
    path = env.get("PULUMI_CONFIG_PASSPHRASE_FILE", "")
    if path:
        source = f"PULUMI_CONFIG_PASSPHRASE_FILE={path}"
        try:
            return Path(path).read_text().strip(), source
        except OSError as error:
            raise SecretError(f"{source}: cannot read it ({error.strerror}); give a readable file holding the "
                              "stack's passphrase") from None
    return None, ""


@dataclass
class Decrypter:
    """Decrypts the ``secure:`` values of one stack file (its ``encryptionsalt`` and ``secretsprovider``)."""

    encryption_salt: str | None
    secrets_provider: str | None
    environ: dict[str, str] | None = None
    _key: bytes | None = field(default=None, init=False)

    def provider(self) -> str:
        if self.encryption_salt:
            return "passphrase"
        if self.secrets_provider and "://" in self.secrets_provider:
            return self.secrets_provider.split("://", 1)[0]
        return self.secrets_provider or "Pulumi Cloud"

    def decrypt(self, key_name: str, ciphertext: str) -> str:
        """The plaintext of ``key_name``'s secure value; SecretError naming the key and what to provide."""
        if self.provider() != "passphrase":
            raise SecretError(
                f"{key_name} is a secret of the stack's {self.provider()} secrets provider, which needs its service; "
                f"offline commands cannot decrypt it: give them a stack file of their own with the plain value "
                f"(`pulumi config get {key_name}` prints it), or move the stack to the passphrase provider "
                "(`pulumi stack change-secrets-provider passphrase`)")
        key = self._passphrase_key(key_name)
        try:
            return decrypt_value(key, ciphertext)
        except ValueError:
            raise SecretError(f"{key_name}: its secure value was not written with this stack's passphrase; set it "
                              f"again (`pulumi config set --secret {key_name} ...`)") from None

    def _passphrase_key(self, key_name: str) -> bytes:
        if self._key is not None:
            return self._key
        passphrase, source = read_passphrase(self.environ)
        if passphrase is None:
            raise SecretError(f"{key_name} is a secret: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE"
                              "), as for the Pulumi CLI, to the stack's passphrase so offline commands can decrypt it")
        parts = (self.encryption_salt or "").split(":", 2)
        try:
            salt = base64.b64decode(parts[1], validate=True) if len(parts) == 3 and parts[0] == "v1" else None
        except binascii.Error:
            salt = None
        if salt is None:
            raise SecretError("encryptionsalt is not the passphrase provider's state (v1:<salt>:<check value>); "
                              "restore it from version control or create the stack's secrets again")
        key = derive_key(passphrase, salt)
        try:
            check = decrypt_value(key, parts[2])
        except ValueError:
            check = None
        if check != "pulumi":
            raise SecretError(f"{source} is not this stack's passphrase (it does not open encryptionsalt), so "
                              f"{key_name} cannot be decrypted; give the passphrase the stack was created with")
        self._key = key
        return key
