#!/usr/bin/env python3
"""Writes Services/<service>/README.md for each service from its contract in Proto/.

Each README says what the service is (the .proto file's header comment), where its contract and code are, and lists
every RPC with the least role that may call it through the gateway and the comment that documents it. Generated, so
the table cannot drift from the contract: edit the .proto comments, then run scripts/generate-contracts.sh (which runs
this script; --check fails when a README differs). Only the Python standard library is needed.

    scripts/service-readmes.py [--check]
"""
import pathlib
import re
import sys

SERVICES = {
    "profile": "profile-service",
    "interaction": "interaction-service",
    "feedback": "feedback-service",
    "success": "success-service",
    "outreach": "outreach-service",
    "gateway": "gateway",
}

# Each service's library module and its typed configuration (Sources/Assembly/): (module, configuration type).
MODULES = {
    "profile-service": ("C360Profile", "ProfileServiceConfiguration"),
    "interaction-service": ("C360Interaction", "InteractionServiceConfiguration"),
    "feedback-service": ("C360Feedback", "FeedbackServiceConfiguration"),
    "success-service": ("C360Success", "SuccessServiceConfiguration"),
    "outreach-service": ("C360Outreach", "OutreachServiceConfiguration"),
    "gateway": ("C360Gateway", "GatewayConfiguration"),
}

RPC = re.compile(
    r"((?:^[ \t]*//[^\n]*\n)*)^[ \t]*rpc (\w+)\((stream )?(\w+)\)\s*returns\s*\((stream )?(\w+)\)\s*\{(.*?)^[ \t]*\}",
    re.S | re.M)


def header(text: str) -> str:
    """The leading comment block of a .proto file, as one paragraph per blank comment line."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].strip())
    paragraphs, current = [], []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def policy(options: str) -> str:
    fields = dict(re.findall(r"(\w+):\s*(\w+)", options))
    if fields.get("internal") == "true":
        return "internal"
    role = fields.get("least_role", "").replace("ACCESS_ROLE_", "").lower() or "—"
    marks = ("†" if fields.get("audited") == "true" else "") + ("‡" if fields.get("redacted") == "true" else "")
    return role + marks


def rpc_rows(body: str) -> list:
    """One table row per RPC of a service's body."""
    rows = []
    for comment, method, client_stream, request, server_stream, response, options in RPC.findall(body):
        texts = [line.strip()[2:].strip() for line in comment.strip().splitlines()]
        doc = " ".join(t for t in texts if not t.startswith("---")).replace("|", "\\|") or "as the RPC above"
        shape = {(False, False): "unary", (True, False): "client stream", (False, True): "server stream",
                 (True, True): "bidirectional"}[(bool(client_stream), bool(server_stream))]
        rows.append(f"| `{method}` | {shape} | {policy(options)} | {doc} |")
    return rows


def comment_above(text: str, start: int) -> str:
    """The comment block right above position `start` of `text`, as one paragraph per blank comment line."""
    lines = []
    for line in reversed(text[:start].rstrip("\n").splitlines()):
        if not line.startswith("//"):
            break
        lines.append(line)
    return header("\n".join(reversed(lines)))


def readme(stem: str, folder: str, text: str, root: pathlib.Path) -> str:
    services = list(re.finditer(r"^service (\w+) \{(.*?)^\}", text, re.S | re.M))
    name, body = services[0].group(1), services[0].group(2)
    rows = rpc_rows(body)
    # Further services of the contract: internal ones beside the client contract (the processes' own among
    # themselves), each with its comment and its RPCs.
    others = []
    for service in services[1:]:
        others += [
            "",
            f"## `customer360.v1.{service.group(1)}`",
            "",
            comment_above(text, service.start()),
            "",
            "| RPC | shape | least role | what it does |",
            "|---|---|---|---|",
            *rpc_rows(service.group(2)),
        ]
    code = sorted(p.name for p in (root / "Services" / folder / "Sources").iterdir() if p.is_dir()) \
        if (root / "Services" / folder / "Sources").is_dir() else []
    lines = [
        f"# {folder}",
        "",
        header(text),
        "",
        f"- Contract: [`Proto/customer360/v1/{stem}.proto`](../../Proto/customer360/v1/{stem}.proto), "
        f"service `customer360.v1.{name}`.",
        f"- Code: module `{MODULES[folder][0]}` in `Sources/` ({', '.join(f'`{c}/`' for c in code)}); `Assembly/` holds "
        f"`{MODULES[folder][1]}` (every setting, typed, with its flag, variable and default) and the one builder of the "
        f"whole service, `make{MODULES[folder][1].removesuffix('Configuration').removesuffix('Service')}ServiceGroup`, "
        "which `Main/` (flags and `C360_*` variables → configuration) and the in-process tests run.",
        "- Configuration, operations and benchmarks: the [top-level README](../../README.md).",
        "",
        "| RPC | shape | least role | what it does |",
        "|---|---|---|---|",
        *rows,
        *others,
        "",
        "Roles are the least a caller needs through the gateway; † audited, ‡ personal data redacted for viewers and "
        "analysts, internal: service-to-service only. Generated by `scripts/service-readmes.py` from the contract — "
        "edit the `.proto` comments and options, not this file.",
        "",
    ]
    return "\n".join(lines)


def main():
    check = "--check" in sys.argv[1:]
    root = pathlib.Path(__file__).resolve().parent.parent
    stale = []
    for stem, folder in SERVICES.items():
        text = (root / "Proto" / "customer360" / "v1" / f"{stem}.proto").read_text()
        target = root / "Services" / folder / "README.md"
        wanted = readme(stem, folder, text, root)
        if check:
            if not target.exists() or target.read_text() != wanted:
                stale.append(str(target.relative_to(root)))
        else:
            target.write_text(wanted)
    if stale:
        sys.exit("out of date: " + ", ".join(stale) + " — run scripts/generate-contracts.sh and commit them")


if __name__ == "__main__":
    main()
