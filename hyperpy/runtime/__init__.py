"""Guest runtime: compiled into every component and also run natively. Pure Python, stdlib only."""
