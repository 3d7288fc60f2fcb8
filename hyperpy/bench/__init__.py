"""`hyperpy bench`: figures measured against a baseline in the same run.

How to add a figure: see `hyperpy.bench.registry` (its module docstring is the guide).
Layout: `registry` (figures, targets, benchmarks), `runner` (repetitions and statistics),
`report` (terminal table, JSON, Markdown), `chart` (PNG), `environment` (machine and versions),
`figures/` (the registered figures), `cli` (the command).
"""
