"""The node's control surface: kit's rpc endpoint, the emulated app store, the REST API and their client."""
