"""The outside world behind core's ports: the Dental-Exec reader, the Twenty client, the sandbox."""
