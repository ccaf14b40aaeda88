# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Files on a host, written so that nothing is ever lost or half-written.

A destination is only ever replaced by a rename of a fully written, fsynced temporary file in the
same directory (``.<name>.<random>.tmp``, a name no glob of the daemons loads), and the directory is
fsynced after the rename: a process killed at any moment leaves the old or the new file, never a
part of one. Files whose bytes and attributes are already right are not touched (their mtime stays).
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import hashlib
import os
import pwd
import re
import tempfile

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigFileError

DEFAULT_MODE = 0o640


class FileAttributes:
    """Owner, group and mode of a file: uid/gid ``None`` keep what the file has (or the process')."""

    __slots__ = ("uid", "gid", "mode")

    def __init__(self, uid: int | None = None, gid: int | None = None, mode: int = DEFAULT_MODE) -> None:
        self.uid = uid
        self.gid = gid
        self.mode = mode

    def matches(self, path: str) -> bool:
        """Whether the existing file ``path`` already has these attributes."""
        st = os.stat(path)
        return (
            (self.uid is None or st.st_uid == self.uid)
            and (self.gid is None or st.st_gid == self.gid)
            and (st.st_mode & 0o7777) == self.mode
        )

    def of_directory(self) -> FileAttributes:
        """The attributes of a directory holding such files: search permission wherever read is granted."""
        return FileAttributes(self.uid, self.gid, self.mode | ((self.mode & 0o444) >> 2))

    @classmethod
    def of(cls, path: str) -> FileAttributes:
        """The attributes ``path`` has now."""
        st = os.stat(path)
        return cls(st.st_uid, st.st_gid, st.st_mode & 0o7777)


def parse_mode(mode) -> int:
    """An octal mode given as a string (``"0640"``) or as the int YAML makes of ``0640``."""
    if isinstance(mode, int) and not isinstance(mode, bool):
        value = mode
    elif isinstance(mode, str) and re.match(r"^0?[0-7]{3,4}$", mode):
        value = int(mode, 8)
    else:
        raise ConfigFileError("mode must be an octal number such as '0640' (got %r)" % (mode,))
    if not 0 <= value <= 0o7777:
        raise ConfigFileError("mode must be between 0000 and 7777 in octal (got %o)" % value)
    return value


def _account_id(kind: str, name: str | None, lookup, missing_ok: bool) -> int | None:
    if name is None:
        return None
    try:
        return int(name) if str(name).isdigit() else lookup(name)
    except KeyError:
        if missing_ok:
            return None
        raise ConfigFileError("%s %r: no such %s on this machine" % ("owner" if kind == "user" else kind, name, kind)) \
            from None


def user_id(owner: str | None, missing_ok: bool = False) -> int | None:
    """The uid of user name (or numeric id) ``owner``; None for None, or when it does not exist and ``missing_ok``."""
    return _account_id("user", owner, lambda name: pwd.getpwnam(name).pw_uid, missing_ok)


def group_id(group: str | None, missing_ok: bool = False) -> int | None:
    """The gid of group name (or numeric id) ``group``; None for None, or when it does not exist and ``missing_ok``."""
    return _account_id("group", group, lambda name: grp.getgrnam(name).gr_gid, missing_ok)


def resolve_attributes(owner: str | None, group: str | None, mode, missing_ok: bool = False) -> FileAttributes:
    """Owner and group names (or numeric ids) looked up on this machine, the mode parsed.

    With ``missing_ok`` (check mode on a machine not set up yet) a user or group that does not exist
    yet resolves to None instead of failing."""
    return FileAttributes(user_id(owner, missing_ok), group_id(group, missing_ok), parse_mode(mode))


def read(path: str) -> bytes | None:
    """The bytes of ``path``, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def remove(path: str) -> bool:
    """Remove ``path`` if it exists; whether it did."""
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _owner_of(path: str, attributes: FileAttributes) -> tuple:
    """uid and gid for a new version of ``path``: the wanted ones, else those of the file it replaces."""
    uid, gid = attributes.uid, attributes.gid
    if uid is None or gid is None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return (-1 if uid is None else uid), (-1 if gid is None else gid)
        uid = st.st_uid if uid is None else uid
        gid = st.st_gid if gid is None else gid
    return uid, gid


def set_attributes(path: str, attributes: FileAttributes) -> None:
    uid, gid = _owner_of(path, attributes)
    if (uid, gid) != (-1, -1):
        os.chown(path, uid, gid)
    os.chmod(path, attributes.mode)


def write_temp(final_path: str, data: bytes, attributes: FileAttributes, directory: str | None = None) -> str:
    """Write ``data`` to a new temporary file next to ``final_path`` (or in ``directory``), with the
    attributes ``final_path`` will have, fsynced; returns its path."""
    directory = directory or os.path.dirname(final_path)
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(final_path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            uid, gid = _owner_of(final_path, attributes)
            if (uid, gid) != (-1, -1):
                os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), attributes.mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        remove(temp)
        raise
    return temp


def remove_leftover_temps(final_path: str) -> list:
    """Remove the temporary files of ``final_path`` that an interrupted run left behind (the names
    ``write_temp`` gives); returns their paths."""
    directory, name = os.path.split(final_path)
    if not os.path.isdir(directory):
        return []
    prefix = "." + name + "."
    found = [os.path.join(directory, entry) for entry in sorted(os.listdir(directory))
             if entry.startswith(prefix) and entry.endswith(".tmp")]
    for path in found:
        remove(path)
    return found


def install(temp: str, final_path: str) -> None:
    """Move ``temp`` over ``final_path`` atomically (same directory) and make the rename durable."""
    os.replace(temp, final_path)
    fsync_dir(os.path.dirname(final_path))


def atomic_write(path: str, data: bytes, attributes: FileAttributes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file in its directory, then a rename)."""
    remove_leftover_temps(path)
    temp = write_temp(path, data, attributes)
    try:
        install(temp, path)
    finally:
        remove(temp)


def needs_write(path: str, data: bytes, attributes: FileAttributes) -> str | None:
    """Why ``path`` must be written to hold ``data`` with ``attributes``: ``content`` (missing or other
    bytes), ``attributes`` (owner, group or mode), or None when it is right already."""
    if read(path) != data:
        return "content"
    if not attributes.matches(path):
        return "attributes"
    return None


def converge_file(path: str, data: bytes, attributes: FileAttributes) -> bool:
    """Make ``path`` hold ``data`` with ``attributes``, rewriting it only when its bytes differ;
    whether anything changed."""
    why = needs_write(path, data, attributes)
    if why == "content":
        atomic_write(path, data, attributes)
    elif why == "attributes":
        set_attributes(path, attributes)
    return why is not None


def directory_changes(path: str, attributes: FileAttributes) -> str | None:
    """What ``converge_directory`` would do: ``create``, ``attributes`` or None."""
    if not os.path.isdir(path):
        return "create"
    return None if attributes.matches(path) else "attributes"


def directory_diff(path: str) -> dict:
    """The ``--diff`` entry of a directory about to be created."""
    return {"before_header": path, "after_header": path,
            "before": {"path": path, "state": "absent"}, "after": {"path": path, "state": "directory"}}


def file_diff(path: str, text: str, before: bytes | None = None) -> dict:
    """The ``--diff`` entry of ``path`` about to hold ``text`` (``before``: its bytes, read if not given)."""
    if before is None:
        before = read(path)
    return {"before_header": path, "after_header": path,
            "before": "" if before is None else before.decode("utf-8", "replace"), "after": text}


def secret_diff(path: str, data: bytes) -> dict:
    """The ``--diff`` entry of a file that holds a secret (a private key, a password): that it changes,
    with a short digest of each side, never the content."""
    def digest(content: bytes | None) -> str:
        return "" if content is None else "(secret, sha256 %s...)\n" % hashlib.sha256(content).hexdigest()[:12]
    return {"before_header": path, "after_header": path, "before": digest(read(path)), "after": digest(data)}


def converge_directory(path: str, attributes: FileAttributes) -> bool:
    """Make ``path`` a directory with ``attributes`` (its parent must exist); whether anything changed."""
    why = directory_changes(path, attributes)
    if why == "create":
        os.mkdir(path, attributes.mode)
        set_attributes(path, attributes)
        fsync_dir(os.path.dirname(os.path.abspath(path)))
    elif why == "attributes":
        set_attributes(path, attributes)
    return why is not None


@contextlib.contextmanager
def locked(path: str):
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block: several
    processes on one machine (one per daemon instance) take turns for the machine-wide steps."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
