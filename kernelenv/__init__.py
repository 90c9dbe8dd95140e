"""kernelenv: a per-project venv that shows up, working, as a Jupyter kernel."""

__version__ = "0.1.0"
