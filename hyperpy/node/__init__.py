"""Host side of the local Hyperdrive node emulator: kernel, runners, runtime modules, control API."""
