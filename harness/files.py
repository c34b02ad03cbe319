"""Who may read or write a file: what the tests ask of the keys and tokens the scripts write."""

import shutil
import stat
import subprocess
from pathlib import Path


def access_besides_the_owner(path: Path) -> dict[str, str]:
    """Who besides the file's owner may read ("r") or write ("w") it, by id: a user named
    in its ACL, or its group."""
    mode = path.stat().st_mode
    if shutil.which("getfacl"):
        entries = subprocess.run(["getfacl", "--omit-header", "--numeric", str(path)], capture_output=True,
                                 text=True, check=True).stdout.split()  # fmt: skip
        acl = {tuple(entry.rsplit(":", 1)[0].split(":")): entry.rsplit(":", 1)[1] for entry in entries}
        mask = acl.get(("mask", ""), "rwx")
        found = {who: "".join(c for c in perms if c in mask and c in "rw") for (kind, who), perms in acl.items()
                 if kind == "user" and who}  # fmt: skip
        group = "".join(c for c in acl[("group", "")] if c in mask and c in "rw")
    else:
        found, group = {}, ("r" if mode & stat.S_IRGRP else "") + ("w" if mode & stat.S_IWGRP else "")
    if group:
        found[str(path.stat().st_gid)] = group
    assert not mode & stat.S_IRWXO, f"{path}: others have access"
    return {who: perms for who, perms in found.items() if perms}
