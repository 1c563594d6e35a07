#!/usr/bin/env bash
# Validates everything under deploy/ offline, without a cluster, a container engine or a Swift build:
#
#   1. systemd: deploy/systemd/verify.sh (systemd-analyze verify and security, units against env files).
#   2. Kubernetes: every manifest listed in deploy/kubernetes/kustomization.yaml validated against the Kubernetes
#      $K8S_VERSION API schema with --strict (unknown fields fail) by PyPI's kubernetes-validate, in a virtualenv
#      under .build/ci-venv; then cross-checks kustomize itself would not make: every file the kustomization names
#      exists and every file in deploy/kubernetes is named, generator and image names match what the pods use, ports
#      agree between config.env, containers, probes, Services and scrape annotations, peer addresses name real
#      Services, config.env only sets variables the executables document. kustomize is not needed; when kubectl
#      happens to be installed, `kubectl kustomize` also renders the whole thing and the result is validated too.
#   3. Container: the Containerfile has a stage per executable and its ignore file is in place.
#
# Installs what it lacks (Debian: systemd, python3-venv; needs root for that) and is safe to run again. Exits
# non-zero on any problem.
#   scripts/ci-validate-deploy.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

K8S_VERSION=1.30.0
KUBERNETES_VALIDATE_VERSION=1.37.0
venv=$repo/.build/ci-venv
executables=(profile-service interaction-service feedback-service success-service outreach-service gateway)

apt_install() {
  if ((EUID != 0)); then
    echo "ci-validate-deploy: needs the Debian packages $*; run as root or install them first" >&2
    exit 1
  fi
  echo "==> apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

command -v systemd-analyze >/dev/null || apt_install systemd
command -v python3 >/dev/null || apt_install python3 python3-venv
# Debian's python3 ships venv without ensurepip until python3-venv is installed.
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv

echo "==> 1/3 systemd units"
deploy/systemd/verify.sh

echo "==> 2/3 Kubernetes manifests"
if ! "$venv/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null ||
  [[ $("$venv/bin/kubernetes-validate" --version 2>/dev/null) != *"$KUBERNETES_VALIDATE_VERSION"* ]]; then
  echo "    installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into ${venv#"$repo"/}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

# The cross-checks; they write the list of resource files for kubernetes-validate to $resource_list.
resource_list=$(mktemp)
rendered=$(mktemp --suffix=.yaml)
trap 'rm -f "$resource_list" "$rendered"' EXIT
"$venv/bin/python" - "$repo" "$resource_list" <<'PY' || { echo "ci-validate-deploy: cross-checks failed" >&2; exit 1; }
import pathlib, re, sys
import yaml

repo = pathlib.Path(sys.argv[1])
base = repo / "deploy/kubernetes"
problems = []
def problem(message): problems.append(message)

kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
known_fields = {"apiVersion", "kind", "resources", "components", "configMapGenerator", "secretGenerator",
                "generatorOptions", "images", "labels", "commonLabels", "commonAnnotations", "namePrefix", "nameSuffix",
                "namespace", "patches", "replacements", "replicas", "buildMetadata", "sortOptions"}
for field in sorted(set(kustomization) - known_fields):
    problem(f"kustomization.yaml: unknown field '{field}'")

# Every file the kustomization names exists (inside deploy/kubernetes), and every file there is named.
referenced = {}
for path in kustomization.get("resources", []):
    referenced[path] = "resources"
for kind in ("configMapGenerator", "secretGenerator"):
    for generator in kustomization.get(kind, []):
        for entry in generator.get("envs", []) + generator.get("files", []):
            referenced[entry.split("=", 1)[-1]] = f"{kind} {generator['name']}"
for path, where in referenced.items():
    file = (base / path).resolve()
    if base.resolve() not in file.parents or not file.is_file():
        problem(f"kustomization.yaml ({where}) names {path}, which is not a file in deploy/kubernetes")
for file in sorted(p for p in base.rglob("*") if p.is_file()):
    name = file.relative_to(base).as_posix()
    if name != "kustomization.yaml" and name not in referenced:
        problem(f"deploy/kubernetes/{name} is not named in kustomization.yaml")

# config.env: KEY=value lines only, keys the executables document, nothing the pods set on the command line.
config = {}
for number, line in enumerate((base / "config.env").read_text().splitlines(), 1):
    if not line.strip() or line.startswith("#"):
        continue
    match = re.fullmatch(r"(C360_[A-Z0-9_]+)=(\S*)", line)
    if not match:
        problem(f"config.env:{number}: not a C360_*=value line: {line!r}")
        continue
    config[match[1]] = match[2]
shared = (repo / "Shared/ServerKit/ServerOptions.swift").read_text()
documented = {}
for executable in ["profile-service", "interaction-service", "feedback-service", "success-service", "outreach-service",
                   "gateway"]:
    key = executable.split("-")[0].upper()
    sources = shared + "".join(p.read_text() for p in (repo / f"Services/{executable}/Main").glob("*.swift"))
    found = re.findall(rf"C360_(?:<SERVICE>|{key})_[A-Z0-9_]+", sources)
    # Peer options are generic (Shared/ServerKit/PeerOptions.swift): PeerAddressOption<ProfilePeer> reads
    # C360_<SERVICE>_PROFILE_ADDR, PeerDeadlineOption C360_<SERVICE>_PEER_DEADLINE_MS.
    found += [f"C360_{key}_{peer.upper()}_ADDR" for peer in re.findall(r"PeerAddressOption<(\w+)Peer>", sources)]
    found += [f"C360_{key}_PEER_DEADLINE_MS"] if "PeerDeadlineOption" in sources else []
    documented[key] = {m.replace("<SERVICE>", key) for m in found}
every_variable = set().union(*documented.values())
for name in sorted(config):
    if name not in every_variable:
        problem(f"config.env sets {name}, which no executable documents")
    elif re.search(r"_(DATA_DIR|SERVICE_TOKEN|SERVICE_TOKEN_FILE)$", name):
        problem(f"config.env sets {name}, which the pods' --data-dir/--service-token-file flags override")

# The manifests, and how they refer to each other and to the generators.
documents = []
resource_files = [p for p, where in referenced.items() if where == "resources"]
for path in resource_files:
    try:
        documents += [(path, d) for d in yaml.safe_load_all((base / path).read_text()) if d]
    except yaml.YAMLError as error:
        problem(f"{path}: {error}")
services = {d["metadata"]["name"]: d for _, d in documents if d.get("kind") == "Service"}
workloads = [(p, d) for p, d in documents if d.get("kind") in ("StatefulSet", "Deployment")]
config_maps = {g["name"] for g in kustomization.get("configMapGenerator", [])}
secrets = {g["name"]: {e.split("=", 1)[0] if "=" in e else pathlib.PurePath(e).name for e in g.get("files", [])}
           for g in kustomization.get("secretGenerator", [])}
images = {i["name"] for i in kustomization.get("images", [])}
used_images = set()
for path, workload in workloads:
    name = workload["metadata"]["name"]
    where = f"{path} {workload['kind']} {name}"
    spec = workload["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if spec.get("replicas") != 1:
        problem(f"{where}: replicas must be 1 (one SQLite writer)")
    if pod.get("enableServiceLinks") is not False:
        problem(f"{where}: enableServiceLinks must be false (Service variables clash with C360_*_PORT)")
    service = services.get(spec.get("serviceName", name))
    if service is None:
        problem(f"{where}: no Service named {spec.get('serviceName', name)}")
        continue
    if any(labels.get(k) != v for k, v in service["spec"].get("selector", {}).items()):
        problem(f"{where}: Service {service['metadata']['name']} does not select its pods")
    key = name.removeprefix("c360-").upper()
    for volume in pod.get("volumes", []):
        secret = volume.get("secret")
        if secret and secret["secretName"] not in secrets:
            problem(f"{where}: Secret {secret['secretName']} is not generated by kustomization.yaml")
        elif secret:
            for item in secret.get("items", []):
                if item["key"] not in secrets[secret["secretName"]]:
                    problem(f"{where}: Secret {secret['secretName']} has no key {item['key']}")
    for container in pod["containers"]:
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] not in secrets:
                problem(f"{where}: {variable['name']} names Secret {ref['name']}, not generated by kustomization.yaml")
            elif ref and ref["key"] not in secrets[ref["name"]]:
                problem(f"{where}: {variable['name']} names key {ref['key']}, which Secret {ref['name']} lacks")
        image = container["image"].rsplit(":", 1)[0]
        used_images.add(image)
        if image not in images:
            problem(f"{where}: image {image} is not listed under images: in kustomization.yaml")
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref and ref not in config_maps:
                problem(f"{where}: ConfigMap {ref} is not generated by kustomization.yaml")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            port = container.get(probe, {}).get("grpc", {}).get("port")
            if port != ports.get("grpc"):
                problem(f"{where}: {probe} must be a grpc probe on the grpc port {ports.get('grpc')}, not {port}")
        expected = {"PORT": ports.get("grpc"), "METRICS_PORT": ports.get("metrics")}
        if "http" in ports:
            expected["HTTP_PORT"] = ports["http"]
        for variable, port in expected.items():
            value = config.get(f"C360_{key}_{variable}")
            if value != str(port):
                problem(f"{where}: config.env C360_{key}_{variable}={value}, but the container port is {port}")
        if config.get(f"C360_{key}_HOST") != "0.0.0.0":
            problem(f"config.env: C360_{key}_HOST must be 0.0.0.0 (probes and peers use the pod IP)")
        for service_port in service["spec"]["ports"]:
            if service_port["targetPort"] not in ports:
                problem(f"Service {service['metadata']['name']}: targetPort {service_port['targetPort']} "
                        "is not a container port")
        scrape = service["metadata"].get("annotations", {}).get("prometheus.io/port")
        if scrape != str(ports.get("metrics")):
            problem(f"Service {service['metadata']['name']}: prometheus.io/port {scrape} is not the metrics port")
for image in sorted(images - used_images):
    problem(f"kustomization.yaml: images: lists {image}, which no manifest uses")
grpc_ports = {name: next(p["port"] for p in s["spec"]["ports"] if p["name"] == "grpc") for name, s in services.items()}
for variable, value in sorted(config.items()):
    if variable.endswith("_ADDR"):
        host, _, port = value.rpartition(":")
        if grpc_ports.get(host) != int(port or 0):
            problem(f"config.env: {variable}={value} is not a Service's gRPC port ({grpc_ports})")

if problems:
    print("\n".join(f"FAIL: {p}" for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"    kustomization: {len(referenced)} files named, all present, none left out; {len(workloads)} workloads, "
      f"{len(services)} Services, {len(config)} settings cross-checked")
pathlib.Path(sys.argv[2]).write_text("\n".join(resource_files) + "\n")
PY

# kubernetes-validate exits 0 after a WARN (e.g. a kind it has no schema for), so anything it prints fails.
validate() {
  local output
  if ! output=$("$venv/bin/kubernetes-validate" --kubernetes-version "$K8S_VERSION" --strict --quiet "$@" 2>&1) ||
    [[ -n $output ]]; then
    printf '%s\n' "$output" >&2
    echo "ci-validate-deploy: kubernetes-validate failed" >&2
    exit 1
  fi
}
mapfile -t resource_files <"$resource_list"
(cd deploy/kubernetes && validate "${resource_files[@]}")
echo "    kubernetes-validate $KUBERNETES_VALIDATE_VERSION --strict against Kubernetes $K8S_VERSION:" \
  "${resource_files[*]} valid"
if command -v kubectl >/dev/null; then
  kubectl kustomize deploy/kubernetes >"$rendered"
  validate "$rendered"
  echo "    kubectl kustomize: $(grep -c '^kind:' "$rendered") rendered objects valid"
  # The TLS overlay, rendered with throwaway certificates (its certs/ is not in the repository): every workload
  # gets its own certificate, key and the CA, and probes that present them (no gRPC probe is left).
  tls_work=$(mktemp -d)
  cp -r deploy/kubernetes deploy/kubernetes-tls "$tls_work/"
  rm -rf "$tls_work/kubernetes-tls/certs"
  scripts/dev-certs.sh "$tls_work/kubernetes-tls/certs" "${executables[@]}" >/dev/null
  kubectl kustomize "$tls_work/kubernetes-tls" >"$tls_work/rendered.yaml"
  validate "$tls_work/rendered.yaml"
  python3 - "$tls_work/rendered.yaml" <<'PY'
import sys, yaml
problems = []
workloads = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") in ("StatefulSet", "Deployment")]
for workload in workloads:
    for container in workload["spec"]["template"]["spec"]["containers"]:
        key = container["name"].split("-")[0].upper()
        names = {e["name"]: e.get("value") for e in container.get("env", [])}
        for suffix, file in (("CERT", f"{container['name']}.pem"), ("KEY", f"{container['name']}.key"), ("CA", "ca.pem")):
            if names.get(f"C360_{key}_TLS_{suffix}") != f"/etc/c360-tls/{file}":
                problems.append(f"{container['name']}: C360_{key}_TLS_{suffix} must be /etc/c360-tls/{file}")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container.get(probe, {})
            if "grpc" in spec or "health" not in spec.get("exec", {}).get("command", []):
                problems.append(f"{container['name']}: {probe} must run the health subcommand, not a gRPC probe")
if problems or len(workloads) != 6:
    print("\n".join(f"FAIL: {p}" for p in problems) or f"FAIL: {len(workloads)} workloads, not 6", file=sys.stderr)
    sys.exit(1)
PY
  echo "    kubectl kustomize deploy/kubernetes-tls: $(grep -c '^kind:' "$tls_work/rendered.yaml") rendered objects valid, every workload on TLS with TLS probes"
  rm -rf "$tls_work"
  # The sharded overlay: the map is a valid one (every slot owned once), the interaction StatefulSet has one pod per
  # shard named as the map names it, reachable at the headless Service's per-pod name, and every workload reads it.
  sharded="$tls_work.sharded.yaml"
  kubectl kustomize deploy/kubernetes-sharded >"$sharded"
  validate "$sharded"
  python3 - "$sharded" <<'PY'
import json, sys, yaml
problems = []
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
maps = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "c360-shard-map"]
config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("c360-config"))
shard_map = json.loads(maps[0]["data"]["shard-map.json"])
for service, shards in shard_map["services"].items():
    owner = [None] * 1024
    for shard in shards:
        for text in shard["slots"]:
            first, _, last = text.partition("-")
            for slot in range(int(first), int(last or first) + 1):
                if owner[slot] is not None:
                    problems.append(f"{service}: slot {slot} owned by {owner[slot]} and {shard['shard']}")
                owner[slot] = shard["shard"]
    if None in owner:
        problems.append(f"{service}: slot {owner.index(None)} belongs to no shard")
    short = service.removesuffix("-service")
    sets = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == f"c360-{short}"]
    replicas = sets[0]["spec"]["replicas"]
    expected = [f"c360-{short}-{i}" for i in range(replicas)]
    if [s["shard"] for s in shards] != expected:
        problems.append(f"{service}: the map's shards {[s['shard'] for s in shards]} are not the pods {expected}")
    headless = sets[0]["spec"]["serviceName"]
    for shard in shards:
        if not shard["address"].startswith(f"{shard['shard']}.{headless}:"):
            problems.append(f"{shard['shard']}: address {shard['address']} is not its pod's name under {headless}")
    container = sets[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container.get("env", [])}
    key = f"C360_{short.upper()}_SHARD"
    if env.get(key, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
        problems.append(f"{service}: {key} must come from the pod's name")
    if not any(d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == f"c360-{short}" for d in docs):
        problems.append(f"{service}: no PodDisruptionBudget")
    pod = sets[0]["spec"]["template"]["spec"]
    if not any("replicate" in c.get("args", []) for c in pod["containers"]):
        problems.append(f"{service}: no Litestream sidecar replicating the shard")
    if not any("litestream restore" in " ".join(c.get("command", [])) for c in pod.get("initContainers", [])):
        problems.append(f"{service}: no init container restoring the shard from its replica")
    # Profile shards find each other's identifiers only under one blind-index key, from a secret mounted in each.
    if service == "profile-service":
        path = env.get("C360_PROFILE_BLIND_INDEX_KEY_FILE", {}).get("value", "")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        volume = volumes.get(mounts.get(path.rsplit("/", 1)[0], ""), {})
        if not path or not volume.get("secret", {}).get("secretName", "").startswith("c360-profile-blind-index-key"):
            problems.append("profile-service: each shard needs C360_PROFILE_BLIND_INDEX_KEY_FILE from the shared secret")
for workload in (d for d in docs if d["kind"] in ("StatefulSet", "Deployment")):
    container = workload["spec"]["template"]["spec"]["containers"][0]
    key = "C360_" + container["name"].removesuffix("-service").upper() + "_SHARD_MAP"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    if mounts.get("shard-map") != "/etc/c360-shards" or config["data"].get(key) != "/etc/c360-shards/shard-map.json":
        problems.append(f"{workload['metadata']['name']}: must mount the shard map and set {key}")
# The gateway as replicas: a Deployment without volumes pointing at the StatefulSet's authority port, both behind
# the clients' Service, with a disruption budget and an autoscaler.
def named(kind, name):
    return next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name), None)
authority, replicas = named("StatefulSet", "c360-gateway"), named("Deployment", "c360-gateway-replicas")
front, internal = named("Service", "c360-gateway"), named("Service", "c360-gateway-authority")
if not (authority and replicas and front and internal):
    problems.append("gateway: the authority StatefulSet, the replicas Deployment and both Services must exist")
else:
    def env(workload):
        containers = workload["spec"]["template"]["spec"]["containers"]
        return {e["name"]: e.get("value") for e in containers[0].get("env", [])}
    port = next(p for p in internal["spec"]["ports"] if p["name"] == "authority")
    if env(replicas).get("C360_GATEWAY_AUTHORITY_ADDR") != f"c360-gateway-authority:{port['port']}":
        problems.append("gateway replicas: C360_GATEWAY_AUTHORITY_ADDR must name c360-gateway-authority's port")
    container = authority["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    if str(ports.get(port["targetPort"])) != env(authority).get("C360_GATEWAY_AUTHORITY_PORT"):
        problems.append("gateway authority: C360_GATEWAY_AUTHORITY_PORT must be the container port the Service targets")
    if any(k.startswith("C360_GATEWAY_AUTHORITY") for k in config["data"]):
        problems.append("gateway: c360-config must not set C360_GATEWAY_AUTHORITY_* (the authority and replicas differ)")
    volumes = replicas["spec"]["template"]["spec"].get("volumes", [])
    if "replicas" in replicas["spec"] or any("persistentVolumeClaim" in v for v in volumes):
        problems.append("gateway replicas: the autoscaler owns the count (no spec.replicas), and no persistent volume")
    hpa = named("HorizontalPodAutoscaler", "c360-gateway-replicas")
    if hpa and hpa["spec"].get("minReplicas", 1) < 2:
        problems.append("gateway replicas: the autoscaler must keep at least 2")
    if "fsGroup" not in replicas["spec"]["template"]["spec"].get("securityContext", {}):
        problems.append("gateway replicas: fsGroup, so the non-root process can read its mounted secrets")
    for workload in (authority, replicas):
        name = workload["metadata"]["name"]
        secret_volumes = {v["name"]: v["secret"]["secretName"] for v in workload["spec"]["template"]["spec"].get(
            "volumes", []) if "secret" in v}
        mounts = {m["name"]: m["mountPath"] for m in workload["spec"]["template"]["spec"]["containers"][0].get(
            "volumeMounts", [])}
        token_file = env(workload).get("C360_GATEWAY_AUTHORITY_TOKEN_FILE", "")
        holders = [v for v, secret in secret_volumes.items() if secret.startswith("c360-gateway-authority-token")]
        if not holders or not token_file.startswith(mounts.get(holders[0], "?") + "/"):
            problems.append(f"{name}: C360_GATEWAY_AUTHORITY_TOKEN_FILE must be in the mounted authority token Secret")
    policies = [d for d in docs if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"].get(
        "matchLabels", {}).get("statefulset.kubernetes.io/pod-name") == "c360-gateway-0"]
    if not any(any(p.get("port") == port["port"] and rule.get("from") for p in rule.get("ports", []))
               for policy in policies for rule in policy["spec"].get("ingress", [])):
        problems.append("gateway authority: no NetworkPolicy limiting who reaches the authority port")
    for workload in (authority, replicas):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in front["spec"]["selector"].items()):
            problems.append(f"{workload['metadata']['name']}: Service c360-gateway does not send clients to its pods")
    pod = authority["spec"]["template"]["spec"]
    if not any("/etc/litestream/litestream-gateway.yml" in c.get("args", []) for c in pod["containers"]) or not any(
            "litestream restore" in " ".join(c.get("command", [])) for c in pod.get("initContainers", [])):
        problems.append("gateway authority: no Litestream sidecar and restore of the keys and audit log")
    if not named("PodDisruptionBudget", "c360-gateway-replicas") or not named(
            "HorizontalPodAutoscaler", "c360-gateway-replicas"):
        problems.append("gateway replicas: no PodDisruptionBudget or HorizontalPodAutoscaler")
if problems:
    print("\n".join(f"FAIL: {p}" for p in problems), file=sys.stderr)
    sys.exit(1)
PY
  echo "    kubectl kustomize deploy/kubernetes-sharded: $(grep -c '^kind:' "$sharded") rendered objects valid, one pod per shard of the map, each replicated by Litestream, every workload reading it, the profile shards sharing one blind-index key, the gateway as replicas of one authority"
  rm -f "$sharded"
else
  echo "    (kubectl not installed: the rendered output is not checked)"
fi

echo "==> 3/3 Containerfile"
for executable in "${executables[@]}"; do
  grep -qE "^FROM runtime AS $executable\$" deploy/container/Containerfile ||
    { echo "ci-validate-deploy: deploy/container/Containerfile has no stage for $executable" >&2; exit 1; }
done
grep -qxF '.build*' deploy/container/Containerfile.dockerignore ||
  { echo "ci-validate-deploy: deploy/container/Containerfile.dockerignore must exclude .build*" >&2; exit 1; }
echo "    a stage for each of ${#executables[@]} executables; Containerfile.dockerignore present"

echo "ci-validate-deploy: all deploy checks passed"
