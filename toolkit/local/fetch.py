"""Fetch DynamoDB Local from the npm package that ships it, and check it.

The jar travels inside ``amplify-dynamodb-simulator`` (folder ``emulator/``). We
take the package with ``npm pack`` (no install, so none of its JavaScript
dependencies) and check three things against values pinned here:

- the package tarball's sha512 (the registry's integrity string);
- the package's own ``emulator/sha256``, which names the Amazon release archive
  the package was built from (it is the archive's hash, not the jar's);
- the jar's sha256, so that a changed or damaged jar in the cache is caught
  every time the servers start.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import LocalServerError

PACKAGE = "amplify-dynamodb-simulator"
VERSION = "2.9.30"  # ships DynamoDB Local 1.25.1
TARBALL_SHA512 = (
    "xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
)
RELEASE_ARCHIVE_SHA256 = "55b425a9a42cfc728436eaf0e4ae64d688b64d177c99c4f4c4d7e3dbb3ac6c09"
JAR_SHA256 = "454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"


@dataclass(frozen=True)
class Emulator:
    """An unpacked, checked DynamoDB Local: run ``jar`` with ``lib`` as library path."""

    folder: Path

    @property
    def jar(self) -> Path:
        return self.folder / "DynamoDBLocal.jar"

    @property
    def lib(self) -> Path:
        return self.folder / "DynamoDBLocal_lib"


def emulator_folder(cache_dir: Path) -> Path:
    return cache_dir / f"{PACKAGE}-{VERSION}" / "emulator"


def ensure_emulator(cache_dir: Path) -> Emulator:
    """Return the checked emulator from the cache, fetching it first if absent."""
    emulator = Emulator(emulator_folder(cache_dir.resolve()))
    if not emulator.jar.is_file():
        _fetch_into(cache_dir)
    _check_emulator(emulator)
    return emulator


def _fetch_into(cache_dir: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise LocalServerError(
            "npm not found: install Node.js with npm (for example `apt-get install npm`), "
            "then run the command again"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as scratch:
        tarball = _npm_pack(npm, Path(scratch))
        _check_tarball(tarball)
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/emulator/")]
            archive.extractall(unpacked, members=members, filter="data")
        final = emulator_folder(cache_dir).parent
        shutil.rmtree(final, ignore_errors=True)
        # Rename last, so a fetch cut short never leaves a half folder behind.
        (unpacked / "package").rename(final)


def _npm_pack(npm: str, into: Path) -> Path:
    spec = f"{PACKAGE}@{VERSION}"
    result = subprocess.run(
        [npm, "pack", spec, "--silent", "--pack-destination", str(into)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise LocalServerError(
            f"`npm pack {spec}` failed ({last}); check that npm can reach its registry"
        )
    tarballs = list(into.glob("*.tgz"))
    if len(tarballs) != 1:
        raise LocalServerError(f"`npm pack {spec}` produced no tarball in {into}")
    return tarballs[0]


def _check_tarball(tarball: Path) -> None:
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != TARBALL_SHA512:
        raise LocalServerError(
            f"{PACKAGE}@{VERSION} does not match its pinned sha512; refusing to use it"
        )


def _check_emulator(emulator: Emulator) -> None:
    recorded = (emulator.folder / "sha256").read_text().split()[0]
    if recorded != RELEASE_ARCHIVE_SHA256:
        raise LocalServerError(
            f"{emulator.folder}/sha256 names another DynamoDB Local release; "
            f"delete {emulator.folder.parent} and run again"
        )
    if _sha256(emulator.jar) != JAR_SHA256:
        raise LocalServerError(
            f"{emulator.jar} does not match its pinned sha256; "
            f"delete {emulator.folder.parent} and run again"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
