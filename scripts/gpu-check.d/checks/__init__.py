"""The sections of gpu-check's acceptance run (acceptance.py runs them in order)."""
