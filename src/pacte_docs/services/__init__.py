"""The jobs, one module each, over an opened Workspace: what the CLI, the demo and a user's script call."""
