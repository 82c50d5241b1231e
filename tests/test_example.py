"""The digits example, shrunk to seconds: real scikit-learn digits, real simgen builds, real
PyTorch training; held-out verification must beat chance (50% same-digit pairs) clearly."""
from __future__ import annotations

import sys

from conftest import REPO


def test_digits_example_tiny_run(tmp_path, capsys):
    sys.path.insert(0, str(REPO / "examples"))
    try:
        import digits_triplets
    finally:
        sys.path.remove(str(REPO / "examples"))
    accuracy = digits_triplets.main(["--triplets", "1000", "--pairs", "300", "--epochs", "1",
                                     "--workers", "0", "--work", str(tmp_path)])
    out = capsys.readouterr().out
    assert "verification accuracy on 300 held-out pairs (30% of images" in out
    assert accuracy > 0.75
    assert len(list((tmp_path / "digits" / "heldout").iterdir())) == 10
