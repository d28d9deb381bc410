#!/usr/bin/env python3
"""Software bill of materials of the portal binary in CycloneDX 1.5 JSON.

    python3 .ci/sbom.py > amtsweg.cdx.json

Reads `cargo metadata` (the locked dependency graph of the server binary for the build target,
dev-only dependencies excluded) and Cargo.lock checksums; every component carries its purl,
declared licence and SHA-256 as published on crates.io.
"""
import datetime
import json
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

root = Path(__file__).resolve().parent.parent
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform",
     subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True)
     .stdout.split("host: ")[1].split()[0]],
    cwd=root, capture_output=True, text=True, check=True).stdout)
lock = tomllib.loads((root / "Cargo.lock").read_text())
checksums = {(p["name"], p["version"]): p.get("checksum") for p in lock["package"]}
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

server = next(p for p in meta["packages"] if p["name"] == "amtsweg-server")

# Walk normal and build dependencies from the server; dev-dependencies are not in the binary.
seen, todo = set(), [server["id"]]
while todo:
    pid = todo.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
            todo.append(dep["pkg"])


def ref(p):
    return f"pkg:cargo/{p['name']}@{p['version']}"


def component(p):
    c = {"type": "library", "bom-ref": ref(p), "name": p["name"], "version": p["version"],
         "purl": ref(p)}
    if p.get("license"):
        c["licenses"] = [{"expression": p["license"]}]
    if p.get("description"):
        c["description"] = p["description"].strip()
    sha = checksums.get((p["name"], p["version"]))
    if sha:
        c["hashes"] = [{"alg": "SHA-256", "content": sha}]
    if p.get("repository"):
        c["externalReferences"] = [{"type": "vcs", "url": p["repository"]}]
    return c


bom = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": f"urn:uuid:{uuid.uuid4()}",
    "version": 1,
    "metadata": {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tools": [{"name": ".ci/sbom.py"}],
        "component": dict(component(server), type="application"),
    },
    "components": [component(packages[i]) for i in sorted(seen) if i != server["id"]],
    "dependencies": [
        {"ref": ref(packages[i]),
         "dependsOn": sorted({ref(packages[d["pkg"]]) for d in nodes[i]["deps"]
                              if d["pkg"] in seen
                              and any(k["kind"] in (None, "build") for k in d["dep_kinds"])})}
        for i in sorted(seen)
    ],
}
json.dump(bom, sys.stdout, indent=1)
sys.stdout.write("\n")
