"""`hyperpy bench`: figures measured against a baseline in the same run."""
