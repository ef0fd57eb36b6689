"""Offline tooling: synth under Pulumi mocks, the local emulator, the benchmark."""
