"""Run in the sample's kernel: `import hello; hello.where()`."""
import sys


def where() -> str:
    return sys.executable
