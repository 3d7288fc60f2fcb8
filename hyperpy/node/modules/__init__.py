"""Runtime modules of the local node (http-server, vfs, kv, sqlite, timer, ...)."""
