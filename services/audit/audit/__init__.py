"""The auditor's tools: replay the history, verify it, export it, show a timeline."""
