"""Project templates for `hyperpy new NAME [--template T]`.

Each folder here is one template; its files end in `.tmpl` (so linters and test collectors leave the
unrendered sources alone) and may use `{{package}}`, `{{module}}`, `{{App}}`, `{{publisher}}` and
`{{process_id}}`; a `__module__` path segment becomes the module name and `gitignore.tmpl` becomes
`.gitignore`. `scaffold.render` does the substitution; `tests/templates` renders every template,
lints it, builds it and runs its own tests.
"""
