"""C2SP signed notes, checkpoints and cosignatures, against published vectors.

Sources: golang.org/x/mod sumdb/note/note_test.go (the PeterNeumann and EnochRoot keys and
signatures); a sum.golang.org checkpoint from transparency-dev/formats log/note_test.go;
Sigsum checkpoints from FiloSottile/torchwood internal/witness/witness_test.go; the
cosignature layout and the example cosignature of C2SP tlog-cosignature.md.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest

from tichub.reports.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from tichub.reports.note import (
    COSIGNATURE,
    NoteError,
    Signer,
    Verifier,
    cosigned_message,
    open_note,
    sign,
    split,
)

PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_PRIVATE = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_LINE = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
              "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
ENOCH_LINE = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGr"
              "Q5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n")
SUMDB = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINT = ("go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
                    "\n\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1x"
                    "bFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n")
SIGSUM_KEY = bytes.fromhex("ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")
SIGSUM_CHECKPOINTS = [
    (1, "KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
     "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY="),
    (3, "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=",
     "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go="),
    (5, "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=",
     "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww="),
]


def test_keys_decode_and_their_ids_are_recomputed() -> None:
    peter = Verifier.parse(PETER)
    assert (peter.name, peter.key_id.hex(), peter.encode()) == ("PeterNeumann", "c74f20a3", PETER)
    signer = Signer.parse(PETER_PRIVATE)
    assert signer.verifier() == peter
    assert signer.encode() == PETER_PRIVATE
    assert "AYEK" not in repr(signer)  # the seed stays out of logs
    for broken in ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                   "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                   "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
                   "PeterNeumann+c74f20a3"):
        with pytest.raises(NoteError):
            Verifier.parse(broken)


def test_signing_gives_the_published_note_byte_for_byte() -> None:
    # Ed25519 is deterministic, so our signature must be the published one.
    assert sign(TEXT, [Signer.parse(PETER_PRIVATE)]) == TEXT + "\n" + PETER_LINE


def test_unknown_signatures_are_ignored_and_a_bad_known_one_refuses_the_note() -> None:
    both = TEXT + "\n" + PETER_LINE + ENOCH_LINE
    opened = open_note(both, [Verifier.parse(PETER)])
    assert opened.text == TEXT and [v.verifier.name for v in opened.verified] == ["PeterNeumann"]
    assert len(opened.signatures) == 2
    assert [v.verifier.name for v in open_note(both, [Verifier.parse(ENOCH)]).verified] == [
        "EnochRoot"]
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(TEXT + "\n" + ENOCH_LINE, [Verifier.parse(PETER)])
    with pytest.raises(NoteError, match="does not verify"):
        open_note(TEXT.replace("problem,", "problems,") + "\n" + PETER_LINE,
                  [Verifier.parse(PETER)])
    for malformed in (TEXT + PETER_LINE, TEXT + "\n", TEXT + "\n" + PETER_LINE[2:],
                      TEXT.rstrip("\n") + "\n\n" + PETER_LINE.rstrip("\n")):
        with pytest.raises(NoteError):
            split(malformed)


def test_published_checkpoints_parse_and_verify() -> None:
    with pytest.raises(NoteError, match="not of"):
        open_checkpoint(SUMDB_CHECKPOINT, Verifier.parse(SUMDB))
    opened = open_checkpoint(SUMDB_CHECKPOINT, Verifier.parse(SUMDB),
                             origin="go.sum database tree")
    assert (opened.checkpoint.origin, opened.checkpoint.size) == ("go.sum database tree",
                                                                  6476701)
    assert opened.checkpoint.body() + "\n" + SUMDB_CHECKPOINT.split("\n\n")[1] == \
        SUMDB_CHECKPOINT
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(SIGSUM_KEY).hexdigest()
    log = Verifier(origin, 0x01, SIGSUM_KEY)
    for size, root, signature in SIGSUM_CHECKPOINTS:
        opened = open_checkpoint(f"{origin}\n{size}\n{root}\n\n\u2014 {origin} {signature}\n",
                                 log)
        assert opened.checkpoint.size == size
        assert opened.checkpoint.root_hash == base64.b64decode(root)


def test_a_checkpoint_body_follows_the_format() -> None:
    cp = Checkpoint("tichub.example/log", 8, bytes(range(32)), ("ext one",))
    assert cp.body() == ("tichub.example/log\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
                         "\next one\n")
    assert Checkpoint.parse(cp.body()) == cp
    for bad in ("o\n08\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
                "o\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
                "o\n8\nAAECAw==\n", "o\n8\n", "o\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "o\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n"):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def test_the_published_cosignature_layout() -> None:
    # tlog-cosignature.md's example: key ID, then the time as a big-endian uint64.
    raw = base64.b64decode("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
                           "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==")
    assert (len(raw), raw[:4].hex(), struct.unpack(">Q", raw[4:12])[0]) == (
        76, "8d66cf3f", 1679315147)
    assert cosigned_message("origin\n1\nroot\n", 1679315147) == (
        b"cosignature/v1\ntime 1679315147\norigin\n1\nroot\n")


def test_k_of_n_witness_cosignatures() -> None:
    log = Signer.generate("tichub.example/log")
    witnesses = [Signer.generate(f"witness-{i}.example", COSIGNATURE) for i in range(3)]
    checkpoint = Checkpoint("tichub.example/log", 5, hashlib.sha256(b"x").digest())
    note = sign_checkpoint(checkpoint, log)
    body = checkpoint.body()
    cosigned = note + witnesses[0].signature_line(body, 1764000000) \
        + witnesses[2].signature_line(body, 1764000001)
    keys = [w.verifier() for w in witnesses]
    opened = open_checkpoint(cosigned, log.verifier(), keys, quorum=2)
    assert opened.checkpoint == checkpoint
    assert opened.cosigned_at == {"witness-0.example": 1764000000,
                                  "witness-2.example": 1764000001}
    with pytest.raises(NoteError, match="2 of the 3"):
        open_checkpoint(cosigned, log.verifier(), keys, quorum=3)
    # A cosignature over another checkpoint, or moved to another time, does not verify.
    other = Checkpoint("tichub.example/log", 6, hashlib.sha256(b"y").digest()).body()
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note + witnesses[1].signature_line(other, 1764000000),
                        log.verifier(), keys, quorum=1)
    line = witnesses[1].signature_line(body, 1764000000)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1
    moved = line.split(" ")[0] + " " + line.split(" ")[1] + " " + \
        base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note + moved, log.verifier(), keys, quorum=1)
    # A witness's cosignature alone is not the log's signature.
    with pytest.raises(NoteError, match="log did not sign"):
        open_checkpoint(body + "\n" + line, log.verifier(), keys)
