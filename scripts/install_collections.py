"""Install the collections this project needs without a Galaxy server.

The collections come out of the wheel of the ``ansible`` community package on PyPI:
``pip download --no-deps ansible==<version>`` into a cache folder, then only the folders of the
collections listed in ``collections/requirements.yml`` are extracted into
``collections/ansible_collections/<namespace>/<name>``.

The wheel drops some files of each collection (CI files, tests), so its FILES.json lists files
that are not there. FILES.json is pruned to the files that are present and the checksum of
FILES.json in MANIFEST.json is updated, so ``ansible-galaxy collection verify --offline`` passes.

Nothing is done when every collection is already installed at the version the wheel ships
(recorded in a stamp file next to the collections).

With ``--tarballs DIR`` each collection is also packed as ``DIR/<namespace>-<name>-<version>.tar.gz``,
an artifact ``ansible-galaxy collection install`` takes offline (scripts/ee_image.sh: the execution
environment's collections).

Run with the project's virtualenv python (needs PyYAML and packaging) from the repository root:

    .venv/bin/python scripts/install_collections.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

DEFAULT_SOURCE = "ansible==12.3.0"
STAMP_NAME = ".promfleet-collections.json"


def log(message: str) -> None:
    print(f"collections: {message}", flush=True)


def wanted_collections(requirements: Path) -> dict[str, SpecifierSet]:
    """Names and version constraints from a Galaxy requirements file."""
    data = yaml.safe_load(requirements.read_text(encoding="utf-8")) or {}
    wanted: dict[str, SpecifierSet] = {}
    for entry in data.get("collections", []):
        if isinstance(entry, str):
            name, version = entry, "*"
        else:
            name, version = entry["name"], str(entry.get("version", "*"))
        spec = "" if version.strip() in ("", "*") else version
        wanted[name] = SpecifierSet(spec)
    if not wanted:
        raise SystemExit(f"no collections listed in {requirements}")
    return wanted


def installed_version(dest: Path, name: str) -> str | None:
    manifest = dest.joinpath(*name.split("."), "MANIFEST.json")
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def up_to_date(dest: Path, source: str, wanted: dict[str, SpecifierSet]) -> bool:
    try:
        stamp = json.loads((dest / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("source") != source or set(stamp.get("collections", {})) != set(wanted):
        return False
    return all(installed_version(dest, name) == version for name, version in stamp["collections"].items())


def download_wheel(source: str, cache: Path) -> Path:
    dist, sep, version = source.partition("==")
    if not sep or not version:
        raise SystemExit(f"the source must be pinned exactly (name==version), got {source!r}")
    pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    log(f"downloading {source} from PyPI (only used as a source of collections)")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--dest", str(cache), source]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise SystemExit(f"pip download {source} failed")
    found = sorted(cache.glob(pattern))
    if not found:
        raise SystemExit(f"pip download {source} did not leave a wheel matching {pattern} in {cache}")
    return found[0]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fix_file_manifest(root: Path) -> None:
    """Prune FILES.json to what is present and record its new checksum in MANIFEST.json."""
    files_json = root / "FILES.json"
    manifest_json = root / "MANIFEST.json"
    files = json.loads(files_json.read_text(encoding="utf-8"))
    kept = []
    for entry in files["files"]:
        path = root / entry["name"]
        if entry["ftype"] == "dir" and path.is_dir() or entry["ftype"] == "file" and path.is_file():
            kept.append(entry)
    # a directory is only kept when something below it is kept too (or it is the root)
    used_dirs = {"."}
    for entry in kept:
        if entry["ftype"] == "file":
            parent = PurePosixPath(entry["name"]).parent
            while str(parent) != ".":
                used_dirs.add(str(parent))
                parent = parent.parent
    files["files"] = [e for e in kept if e["ftype"] == "file" or e["name"] in used_dirs]
    files_json.write_text(json.dumps(files, indent=1) + "\n", encoding="utf-8")
    manifest = json.loads(manifest_json.read_text(encoding="utf-8"))
    manifest["file_manifest_file"]["chksum_sha256"] = sha256_of(files_json)
    manifest_json.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def extract_collection(wheel: zipfile.ZipFile, name: str, dest: Path) -> str:
    namespace, coll = name.split(".")
    prefix = f"ansible_collections/{namespace}/{coll}/"
    members = [m for m in wheel.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
    if not members:
        raise SystemExit(f"{name} is not in the wheel")
    target = dest / namespace / coll
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{coll}-", dir=target.parent))
    try:
        for member in members:
            rel = PurePosixPath(member.filename[len(prefix):])
            if rel.is_absolute() or ".." in rel.parts:
                raise SystemExit(f"refusing the path {member.filename!r} of the wheel")
            out = staging.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with wheel.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (member.external_attr >> 16) & 0o777
            os.chmod(out, 0o755 if mode & 0o111 else 0o644)
        staging.chmod(0o755)
        fix_file_manifest(staging)
        version = json.loads((staging / "MANIFEST.json").read_text(encoding="utf-8"))["collection_info"]["version"]
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return version


def pack_collection(dest: Path, name: str, out_dir: Path) -> Path:
    """Pack an installed collection as a Galaxy artifact: MANIFEST.json, FILES.json and the listed files."""
    root = dest.joinpath(*name.split("."))
    version = installed_version(dest, name)
    if version is None:
        raise SystemExit(f"{name} is not installed in {dest}")
    files = json.loads((root / "FILES.json").read_text(encoding="utf-8"))["files"]
    out_dir.mkdir(parents=True, exist_ok=True)
    artifact = out_dir / f"{name.replace('.', '-')}-{version}.tar.gz"
    partial = artifact.with_name(artifact.name + ".new")
    with tarfile.open(partial, "w:gz") as tar:
        for member in ["MANIFEST.json", "FILES.json"] + [e["name"] for e in files if e["name"] != "."]:
            tar.add(root / member, arcname=member, recursive=False)
    partial.rename(artifact)
    return artifact


def install(source: str, cache: Path, dest: Path, wanted: dict[str, SpecifierSet]) -> None:
    """Extract the wanted collections from the wheel of ``source`` into ``dest`` and stamp it."""
    wheel_path = download_wheel(source, cache)
    dest.mkdir(parents=True, exist_ok=True)
    installed: dict[str, str] = {}
    with zipfile.ZipFile(wheel_path) as wheel:
        for name in sorted(wanted):
            version = extract_collection(wheel, name, dest)
            if Version(version) not in wanted[name]:
                raise SystemExit(f"{name} {version} from {source} does not satisfy {wanted[name]}")
            installed[name] = version
            log(f"installed {name} {version} from {wheel_path.name}")
    stamp = {"source": source, "collections": installed}
    (dest / STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="pinned pip requirement of the wheel (%(default)s)")
    parser.add_argument("--requirements", type=Path, default=Path("collections/requirements.yml"))
    parser.add_argument("--dest", type=Path, default=Path("collections/ansible_collections"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/collections"))
    parser.add_argument("--force", action="store_true", help="reinstall even when up to date")
    parser.add_argument("--tarballs", type=Path, help="also pack each collection as a .tar.gz artifact here")
    args = parser.parse_args()

    wanted = wanted_collections(args.requirements)
    if args.force or not up_to_date(args.dest, args.source, wanted):
        install(args.source, args.cache, args.dest, wanted)
    else:
        log("up to date (" + ", ".join(f"{n} {installed_version(args.dest, n)}" for n in sorted(wanted)) + ")")
    if args.tarballs:
        for name in sorted(wanted):
            log(f"packed {pack_collection(args.dest, name, args.tarballs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
