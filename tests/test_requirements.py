"""kernelenv/requirements.py: what a requirements file holds, read from real files."""

from __future__ import annotations

from kernelenv import requirements


def test_options_in_follows_includes_and_sees_options_on_requirement_lines(tmp_path):
    (tmp_path / "base.txt").write_text("numpy>=1.26\n# a comment\npandas \\\n  >=2\n")
    (tmp_path / "req.txt").write_text("-r base.txt\n-c base.txt\nsix\n")
    assert requirements.options_in([tmp_path / "req.txt"]) == set()  # includes are not options
    (tmp_path / "base.txt").write_text("numpy==1.26.4 \\\n    --hash=sha256:0000\n")
    assert requirements.options_in([tmp_path / "req.txt"]) == {"--hash"}  # found in the included file
    (tmp_path / "idx.txt").write_text("--extra-index-url=https://example.invalid/simple\nsix\n")
    assert requirements.options_in([tmp_path / "idx.txt"]) == {"--extra-index-url"}


def test_options_in_counts_a_file_it_cannot_read(tmp_path):
    assert requirements.options_in([tmp_path / "missing.txt"]) == {"?"}
