"""Data files as a listing shows them, checked against manifest-files.json (pure logic)."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.export_files import (
    GZIP_MIN_BYTES,
    StoredFile,
    data_folder,
    file_problem,
    md5_hex,
)
from toolkit.logic.export_format import DataFile, md5_base64

segments = st.text(alphabet="ab/.-_0", min_size=1, max_size=8)


@given(st.lists(segments, min_size=1, max_size=8))
def test_the_folder_of_data_files_is_the_deepest_one_they_share(keys: list[str]) -> None:
    folder = data_folder(keys)
    assert folder == "" or folder.endswith("/")
    assert all(key.startswith(folder) for key in keys)
    rests = [key[len(folder) :] for key in keys]
    heads = {rest.partition("/")[0] if "/" in rest else None for rest in rests}
    assert len(heads) > 1 or None in heads  # no deeper folder holds them all


def test_the_folder_of_an_exports_data_files() -> None:
    keys = [f"exp/AWSDynamoDB/0100-aa/data/{name}.json.gz" for name in ("x1", "x2", "y")]
    assert data_folder(keys) == "exp/AWSDynamoDB/0100-aa/data/"
    assert data_folder(["data/00000.json.gz"]) == "data/"
    assert data_folder(["a.json.gz", "b/c.json.gz"]) == ""
    assert data_folder([]) == ""


@given(st.binary(max_size=200))
def test_an_md5_checksum_reads_as_the_etag_of_a_one_part_upload(body: bytes) -> None:
    assert md5_hex(md5_base64(body)) == hashlib.md5(body, usedforsecurity=False).hexdigest()


def exported(body: bytes, items: int, etag: str | None = "e1") -> DataFile:
    return DataFile("d/f.json.gz", items, md5_base64(body), etag)


@given(st.integers(0, 50), st.booleans(), st.sampled_from(["e1", "abc-3"]))
def test_a_file_stored_as_the_manifest_says_passes(items: int, in_place: bool, etag: str) -> None:
    body = gzip.compress(b'{"Item":{}}\n' * items) if items else b""
    stored = StoredFile(len(body), etag)
    assert file_problem(exported(body, items, etag), stored, in_place) is None


@pytest.mark.parametrize("in_place", [True, False])
def test_a_missing_file_or_one_too_short_for_its_items(in_place: bool) -> None:
    body = gzip.compress(b'{"Item":{}}\n')
    assert file_problem(exported(body, 1), None, in_place) == (
        "is missing (manifest-files.json lists it)"
    )
    assert file_problem(exported(body, 1), StoredFile(0, "e0"), in_place) == (
        "is 0 bytes, too few for the 1 items manifest-files.json counts in it"
    )
    short = StoredFile(GZIP_MIN_BYTES - 1, "e0")
    assert "too few" in str(file_problem(exported(body, 3), short, in_place))
    assert file_problem(exported(b"", 0), StoredFile(0, "e1"), in_place) is None


def test_an_etag_that_changed_counts_only_where_the_export_was_written() -> None:
    body = gzip.compress(b'{"Item":{}}\n')
    rewritten = StoredFile(len(body), "f00d")
    assert file_problem(exported(body, 1), rewritten, in_place=True) == (
        "has ETag f00d, but manifest-files.json gives e1: it was rewritten after the "
        "export was written"
    )
    # A copy elsewhere may be made in parts or under SSE-KMS: its ETag proves nothing.
    assert file_problem(exported(body, 1), rewritten, in_place=False) is None
    # Put again in one part, unencrypted: the ETag is the MD5 of the same bytes.
    same = StoredFile(len(body), md5_hex(md5_base64(body)))
    assert file_problem(exported(body, 1), same, in_place=True) is None
    # No ETag to compare: a local file, or a manifest without etag (the Migrator's).
    assert file_problem(exported(body, 1), StoredFile(len(body), None), True) is None
    assert file_problem(exported(body, 1, etag=None), rewritten, True) is None


def test_an_md5_checksum_that_is_not_base64_matches_no_etag() -> None:
    assert md5_hex("not base64!") is None
    assert md5_hex(None) is None
