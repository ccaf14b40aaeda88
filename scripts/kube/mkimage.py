"""Write a directory as a one-layer image in docker-archive format, which ``ctr images import``
reads: no registry and no image builder are needed.

    mkimage.py ROOTFS REFERENCE OUT.tar [--entrypoint JSON] [--cmd JSON] [--user UID] [--workdir DIR]

The layer is reproducible: entries sorted, times zeroed, owners kept (a directory owned by the
image's user stays so). The same ROOTFS gives the same image ID.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tarfile
import tempfile


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_layer(rootfs: str, layer) -> None:
    def reproducible(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(os.listdir(rootfs)):
            archive.add(os.path.join(rootfs, name), arcname=name, filter=reproducible)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("rootfs")
    parser.add_argument("reference")
    parser.add_argument("out")
    parser.add_argument("--entrypoint", default="null", help="JSON list")
    parser.add_argument("--cmd", default="null", help="JSON list")
    parser.add_argument("--user", default="")
    parser.add_argument("--workdir", default="/")
    args = parser.parse_args()
    with tempfile.TemporaryFile() as layer:
        write_layer(args.rootfs, layer)
        size = layer.tell()
        layer.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: layer.read(1 << 20), b""):
            digest.update(chunk)
        config = json.dumps({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Entrypoint": json.loads(args.entrypoint),
                "Cmd": json.loads(args.cmd),
                "User": args.user,
                "WorkingDir": args.workdir,
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + digest.hexdigest()]},
            "history": [{"created_by": "scripts/kube/mkimage.py"}],
        }, sort_keys=True).encode()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        manifest = json.dumps([{"Config": config_name, "RepoTags": [args.reference], "Layers": ["layer.tar"]}])
        with tarfile.open(args.out + ".partial", "w") as archive:
            add_bytes(archive, config_name, config)
            add_bytes(archive, "manifest.json", manifest.encode())
            layer.seek(0)
            info = tarfile.TarInfo("layer.tar")
            info.size = size
            archive.addfile(info, layer)
    os.replace(args.out + ".partial", args.out)


if __name__ == "__main__":
    main()
