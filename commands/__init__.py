"""Ferry's commands, one module per command group, over the library in core.

`cli.py` builds what the commands need (settings, store, workspace, session, Twenty client)
and hands it to them as one `commands.context.App`; each command reads its options, calls
core, and renders the result (`commands.render`, `commands.progress`).
"""
