"""An app that does not import: ferry must exit 2 with this message."""

raise ImportError("broken_app cannot be imported on purpose")
