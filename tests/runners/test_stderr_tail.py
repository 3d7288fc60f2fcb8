"""The stderr tail both runners keep for a crash printout: the last 5000 bytes, whoever writes them."""

from __future__ import annotations

from hyperpy.node.runners.stderr_tail import STDERR_TAIL_BYTES, StderrTail


def test_text_and_bytes_share_one_bounded_tail() -> None:
    tail = StderrTail()
    assert tail.write("HEAD" + "x" * 4000) == 4004  # a text stream's write returns characters written
    assert tail.write(b"y" * 2000) == 2000
    tail.write("TAIL-MARKER\n")
    kept = tail.text()
    assert len(kept.encode()) == STDERR_TAIL_BYTES
    assert "HEAD" not in kept and kept.endswith("y" * 2000 + "TAIL-MARKER\n")


def test_the_limit_counts_bytes_as_hyperdrive_does() -> None:
    tail = StderrTail(limit=10)
    tail.write("ééééé")  # 5 characters, 10 bytes in UTF-8
    tail.write("abc")
    assert tail.text() == "\ufffdéééabc"  # the first character was cut in half, shown as U+FFFD
