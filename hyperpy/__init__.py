"""hyperpy: write Hyperware processes in Python."""
