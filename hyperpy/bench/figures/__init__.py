"""Figure modules: each registers its benchmarks at import (see `hyperpy.bench.registry`)."""
