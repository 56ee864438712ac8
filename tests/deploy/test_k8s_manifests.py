# SPDX-License-Identifier: MIT
"""The Kubernetes manifests of deploy/k8s, checked without a cluster.

Debian 12 has no schema validator that works offline (no kubeconform; its
kubectl needs a server for --dry-run), so this parses every YAML document
and checks the structure the shards need: an Indexed Job whose N agrees
everywhere, the headless Service behind the barrier address, Guaranteed
whole-CPU and hugepage resources, the SR-IOV and af_packet variants, the
shared report volume and the merge step. The two scripts of the image run
here with a stub swarmgen that records its command line. yamllint runs when
installed (required with SWARMGEN_REQUIRE_YAMLLINT).

    test_k8s_manifests.py DEPLOY_K8S_DIR

Prints a Criterion-style synthesis line for tools/check; exit 0 when every
check passed, 1 otherwise, 77 (skipped) without PyYAML unless
SWARMGEN_REQUIRE_PYYAML is set.
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

try:
    import yaml
except ImportError:
    if os.environ.get("SWARMGEN_REQUIRE_PYYAML"):
        print("PyYAML is not installed (python3-yaml)")
        sys.exit(1)
    print("PyYAML is not installed (tools/install-deps test installs python3-yaml): skipped")
    sys.exit(77)

K8S = os.path.abspath(sys.argv[1])
API = {
    "Service": "v1",
    "PersistentVolumeClaim": "v1",
    "Pod": "v1",
    "Job": "batch/v1",
    "NetworkAttachmentDefinition": "k8s.cni.cncf.io/v1",
}
VARIANTS = ("sriov.yaml", "af-packet.yaml")
INDEX_PATH = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
UID_PATH = "metadata.labels['batch.kubernetes.io/controller-uid']"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
RESOURCE_NAME = "k8s.v1.cni.cncf.io/resourceName"
SET_BY_ENTRYPOINT = ("--shard", "--barrier", "--port", "--report")

checks = []


def check(fn):
    checks.append(fn)
    return fn


def load(name):
    with open(os.path.join(K8S, name)) as f:
        text = f.read()
    assert text.startswith("# SPDX-License-Identifier: MIT\n"), f"{name}: no SPDX line first"
    return [d for d in yaml.safe_load_all(text) if d is not None]


def docs_of(name, kind):
    return [d for d in load(name) if d["kind"] == kind]


def one(name, kind, component=None):
    found = [d for d in docs_of(name, kind)
             if component is None or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component]
    assert len(found) == 1, f"{name}: {len(found)} {kind} documents (component {component}), expected 1"
    return found[0]


def shard_job(variant):
    return one(variant, "Job", "shard")


def merge_job():
    return one("common.yaml", "Job", "merge")


def container(pod_spec, name=None):
    cs = pod_spec["containers"]
    assert len(cs) == 1, f"{len(cs)} containers, expected 1"
    assert name is None or cs[0]["name"] == name, f"container {cs[0]['name']}, expected {name}"
    return cs[0]


def env(c):
    """name -> value (a literal) or ('fieldRef', path)."""
    out = {}
    for e in c.get("env", []):
        assert e["name"] not in out, f"env {e['name']} twice"
        if "value" in e:
            out[e["name"]] = e["value"]
        else:
            out[e["name"]] = ("fieldRef", e["valueFrom"]["fieldRef"]["fieldPath"])
    return out


def mounts(pod_spec, c):
    """volume name -> (mountPath, volume source)."""
    vols = {v["name"]: v for v in pod_spec.get("volumes", [])}
    out = {}
    for m in c.get("volumeMounts", []):
        assert m["name"] in vols, f"mount of an undeclared volume {m['name']}"
        out[m["name"]] = (m["mountPath"], vols[m["name"]])
    return out


def resource_env_name(resource):
    """The variable the SR-IOV device plugin sets: PCIDEVICE_<RESOURCE>."""
    return "PCIDEVICE_" + re.sub(r"[^A-Za-z0-9]", "_", resource).upper()


def sriov_resources(c):
    return {k: v for k, v in c["resources"]["limits"].items() if "/" in k}


def headless_service():
    svcs = [s for s in docs_of("common.yaml", "Service") if s["spec"].get("clusterIP") == "None"]
    assert len(svcs) == 1, f"{len(svcs)} headless Services in common.yaml"
    return svcs[0]


# ---- the manifests ----

@check
def every_document_has_a_known_kind_and_api_version():
    names = sorted(f for f in os.listdir(K8S) if f.endswith(".yaml"))
    assert set(VARIANTS) | {"common.yaml", "reports-pod.yaml"} <= set(names), f"files: {names}"
    kinds = set()
    for name in names:
        docs = load(name)
        assert docs, f"{name}: no YAML document"
        for d in docs:
            assert d.get("kind") in API, f"{name}: unexpected kind {d.get('kind')}"
            assert d.get("apiVersion") == API[d["kind"]], f"{name}: {d['kind']} has apiVersion {d.get('apiVersion')}"
            assert d.get("metadata", {}).get("name"), f"{name}: a {d['kind']} without a name"
            kinds.add(d["kind"])
    assert kinds == set(API), f"kinds present: {sorted(kinds)}"


@check
def the_shard_job_is_indexed_with_n_everywhere_the_same():
    n_merge = env(container(merge_job()["spec"]["template"]["spec"]))["SWARMGEN_SHARDS"]
    for v in VARIANTS:
        spec = shard_job(v)["spec"]
        assert spec.get("completionMode") == "Indexed", f"{v}: completionMode {spec.get('completionMode')}"
        n = spec["completions"]
        assert isinstance(n, int) and n >= 2, f"{v}: completions {n}"
        assert spec["parallelism"] == n, f"{v}: parallelism {spec['parallelism']} != completions {n}"
        assert spec.get("backoffLimit") == 0, f"{v}: a shard cannot rejoin: backoffLimit must be 0"
        pod = spec["template"]["spec"]
        assert pod.get("restartPolicy") == "Never", f"{v}: restartPolicy {pod.get('restartPolicy')}"
        e = env(container(pod, "shard"))
        assert e.get("SWARMGEN_SHARDS") == str(n), f"{v}: SWARMGEN_SHARDS {e.get('SWARMGEN_SHARDS')} != {n}"
        assert n_merge == str(n), f"merge Job's SWARMGEN_SHARDS {n_merge} != {v}'s completions {n}"


@check
def the_shard_index_comes_from_the_downward_api():
    for v in VARIANTS:
        c = container(shard_job(v)["spec"]["template"]["spec"], "shard")
        assert env(c).get("JOB_COMPLETION_INDEX") == ("fieldRef", INDEX_PATH), \
            f"{v}: JOB_COMPLETION_INDEX is {env(c).get('JOB_COMPLETION_INDEX')}"
        assert c["command"] == ["/usr/local/bin/shard-entrypoint.sh"], f"{v}: command {c['command']}"
        flags = [a.split("=")[0] for a in c.get("args", [])]
        assert any(f == "--seed" for f in flags), f"{v}: no --seed in the args (every shard needs the same)"
        for f in SET_BY_ENTRYPOINT:
            assert f not in flags, f"{v}: {f} in the args, but the entrypoint sets it"


@check
def shard_0_is_reachable_through_the_headless_service():
    svc = headless_service()
    assert svc["spec"].get("publishNotReadyAddresses") is True, "the record must exist before shard 0 is Ready"
    ports = svc["spec"]["ports"]
    assert len(ports) == 1 and ports[0].get("protocol", "TCP") == "TCP", f"Service ports {ports}"
    port = ports[0]["port"]
    assert ports[0].get("targetPort", port) == port, "targetPort differs from port"
    selector = svc["spec"]["selector"]
    merge_labels = merge_job()["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= merge_labels.items(), "the Service selects the merge pod too"
    for v in VARIANTS:
        job = shard_job(v)
        pod = job["spec"]["template"]
        assert pod["spec"].get("subdomain") == svc["metadata"]["name"], \
            f"{v}: subdomain {pod['spec'].get('subdomain')}, Service {svc['metadata']['name']}"
        labels = pod["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{v}: Service selector {selector} misses pod labels {labels}"
        c = container(pod["spec"], "shard")
        want = f"{job['metadata']['name']}-0.{svc['metadata']['name']}:{port}"
        assert env(c).get("SWARMGEN_BARRIER") == want, f"{v}: SWARMGEN_BARRIER {env(c).get('SWARMGEN_BARRIER')}, expected {want}"
        cports = [p["containerPort"] for p in c.get("ports", [])]
        assert cports == [port], f"{v}: containerPorts {cports}, barrier {port}"


@check
def shards_are_guaranteed_whole_cpus_with_hugepages():
    for v in VARIANTS:
        pod = shard_job(v)["spec"]["template"]["spec"]
        c = container(pod, "shard")
        req, lim = c["resources"]["requests"], c["resources"]["limits"]
        assert req == lim, f"{v}: requests {req} != limits {lim} (not Guaranteed)"
        assert re.fullmatch(r"[1-9][0-9]*", str(lim.get("cpu", ""))), f"{v}: cpu {lim.get('cpu')} is not whole CPUs"
        assert lim.get("memory"), f"{v}: no memory limit"
        assert re.fullmatch(r"[1-9][0-9]*(Mi|Gi)", str(lim.get("hugepages-2Mi", ""))), \
            f"{v}: hugepages-2Mi {lim.get('hugepages-2Mi')}"
        m = mounts(pod, c)
        path, vol = m.get("hugepages", (None, {}))
        assert path == "/dev/hugepages", f"{v}: hugepages mounted at {path}"
        assert vol.get("emptyDir", {}).get("medium") == "HugePages-2Mi", f"{v}: hugepages volume {vol}"
        path, vol = m.get("shm", (None, {}))
        assert path == "/dev/shm" and vol.get("emptyDir", {}).get("medium") == "Memory", \
            f"{v}: /dev/shm (the run image) is not a memory volume: {path} {vol}"
        sc = c.get("securityContext", {})
        caps = set(sc.get("capabilities", {}).get("add", []))
        assert sc.get("privileged") is True or {"IPC_LOCK", "NET_RAW"} <= caps, \
            f"{v}: neither privileged nor IPC_LOCK and NET_RAW: {sc}"


@check
def the_sriov_variant_asks_for_a_vf_and_passes_its_pci_address():
    nad = one("sriov.yaml", "NetworkAttachmentDefinition")
    resource = nad["metadata"]["annotations"][RESOURCE_NAME]
    cfg = json.loads(nad["spec"]["config"])
    assert cfg["type"] == "sriov", f"CNI type {cfg['type']}"
    assert cfg.get("spoofchk") == "off", "spoofchk must be off: the agents send from their own MACs"
    assert cfg.get("trust") == "on", "trust must be on: the dataplane sets promiscuous mode"
    pod = shard_job("sriov.yaml")["spec"]["template"]
    assert pod["metadata"]["annotations"][NETWORKS] == nad["metadata"]["name"], \
        f"Multus annotation {pod['metadata']['annotations'].get(NETWORKS)}, NAD {nad['metadata']['name']}"
    c = container(pod["spec"], "shard")
    assert sriov_resources(c) == {resource: "1"}, f"extended resources {sriov_resources(c)}, want {resource}: 1"
    e = env(c)
    assert e.get("SWARMGEN_PORT_PCI_ENV") == resource_env_name(resource), \
        f"SWARMGEN_PORT_PCI_ENV {e.get('SWARMGEN_PORT_PCI_ENV')}, the device plugin sets {resource_env_name(resource)}"
    assert "SWARMGEN_PORT" not in e, "SWARMGEN_PORT set beside SWARMGEN_PORT_PCI_ENV"


@check
def the_fallback_uses_af_packet_on_the_multus_interface():
    nad = one("af-packet.yaml", "NetworkAttachmentDefinition")
    cfg = json.loads(nad["spec"]["config"])
    assert cfg["type"] == "macvlan" and cfg.get("mode") == "passthru", \
        f"{cfg['type']} mode {cfg.get('mode')}: a macvlan must be passthru to receive the agents' MACs"
    pod = shard_job("af-packet.yaml")["spec"]["template"]
    assert pod["metadata"]["annotations"][NETWORKS] == nad["metadata"]["name"], "Multus annotation names another NAD"
    c = container(pod["spec"], "shard")
    e = env(c)
    assert re.fullmatch(r"net_af_packet[0-9]+,iface=net1(,.*)?", e.get("SWARMGEN_PORT", "")), \
        f"SWARMGEN_PORT {e.get('SWARMGEN_PORT')}"
    assert "SWARMGEN_PORT_PCI_ENV" not in e and not sriov_resources(c), "SR-IOV parts in the fallback"


@check
def the_variants_differ_only_in_the_network():
    def strip(v):
        job = copy.deepcopy(shard_job(v))
        pod = job["spec"]["template"]
        del pod["metadata"]["annotations"][NETWORKS]
        c = container(pod["spec"])
        c["env"] = [e for e in c["env"] if e["name"] not in ("SWARMGEN_PORT", "SWARMGEN_PORT_PCI_ENV")]
        for k in ("requests", "limits"):
            c["resources"][k] = {r: q for r, q in c["resources"][k].items() if "/" not in r}
        return job
    a, b = strip(VARIANTS[0]), strip(VARIANTS[1])
    assert a == b, f"the shard Jobs differ beyond the network:\n{json.dumps(a, indent=1)}\n{json.dumps(b, indent=1)}"


@check
def reports_go_to_one_read_write_many_volume():
    pvc = one("common.yaml", "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"], f"accessModes {pvc['spec']['accessModes']}"
    name = pvc["metadata"]["name"]
    pods = [(v, shard_job(v)["spec"]["template"]["spec"]) for v in VARIANTS]
    pods += [("merge", merge_job()["spec"]["template"]["spec"])]
    pods += [("reports-pod", one("reports-pod.yaml", "Pod")["spec"])]
    for what, pod in pods:
        c = container(pod)
        claimed = {n: p for n, (p, vol) in mounts(pod, c).items()
                   if vol.get("persistentVolumeClaim", {}).get("claimName") == name}
        assert len(claimed) == 1, f"{what}: mounts {len(claimed)} volumes of the claim {name}"
        if what != "reports-pod":
            (path,) = claimed.values()
            assert env(c).get("SWARMGEN_REPORT_DIR") == path, \
                f"{what}: SWARMGEN_REPORT_DIR {env(c).get('SWARMGEN_REPORT_DIR')}, mounted at {path}"
    for v in VARIANTS:
        e = env(container(shard_job(v)["spec"]["template"]["spec"]))
        assert e.get("SWARMGEN_RUN_ID") == ("fieldRef", UID_PATH), f"{v}: SWARMGEN_RUN_ID {e.get('SWARMGEN_RUN_ID')}"


@check
def the_image_is_debian_12_built_by_install_deps_and_meson():
    with open(os.path.join(K8S, "Dockerfile")) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("#"))
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(f == "debian:12" for f in froms), f"base images {froms}"
    for step in ("tools/install-deps", "meson setup", "ninja -C", "meson install"):
        assert step in text, f"the Dockerfile does not run {step}"
    copied = re.findall(r"^COPY (deploy/k8s/.+) /usr/local/bin/$", text, re.M)
    scripts = [os.path.relpath(w, "deploy/k8s") for w in copied[0].split()] if copied else []
    assert {"shard-entrypoint.sh", "merge-reports.sh"} <= set(scripts), f"scripts copied into the image: {scripts}"
    assert merge_job()["spec"]["template"]["spec"]["containers"][0]["command"] == ["/usr/local/bin/merge-reports.sh"]
    for s in ("shard-entrypoint.sh", "merge-reports.sh"):
        assert os.access(os.path.join(K8S, s), os.X_OK), f"{s} is not executable"


@check
def yamllint_passes():
    if not shutil.which("yamllint"):
        if os.environ.get("SWARMGEN_REQUIRE_YAMLLINT"):
            raise AssertionError("yamllint is not installed")
        return "yamllint is not installed (tools/install-deps test installs it)"
    r = subprocess.run(["yamllint", "-s", "-c", os.path.join(K8S, ".yamllint"), K8S],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"yamllint:\n{r.stdout}{r.stderr}"


# ---- the scripts, with a stub swarmgen ----

STUB = """#!/bin/sh
# records its arguments, one a line, and exits with STUB_RC
printf '%s\\n' "$@" > "$STUB_LOG"
exit "${STUB_RC:-0}"
"""


class Sandbox:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="swarmgen-k8s-")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        stub = os.path.join(self.bin, "swarmgen")
        with open(stub, "w") as f:
            f.write(STUB)
        os.chmod(stub, 0o755)
        self.log = os.path.join(self.dir, "argv")
        self.reports = os.path.join(self.dir, "reports")

    def run(self, script, env, args=(), timeout=20):
        if os.path.exists(self.log):
            os.unlink(self.log)
        full = {"PATH": self.bin + ":/usr/bin:/bin", "STUB_LOG": self.log}
        full.update(env)
        return subprocess.run(["bash", os.path.join(K8S, script), *args], env=full,
                              capture_output=True, text=True, timeout=timeout)

    def argv(self):
        if not os.path.exists(self.log):
            return None
        with open(self.log) as f:
            return f.read().splitlines()

    def close(self):
        shutil.rmtree(self.dir)


def job_env(variant, sb, index):
    """The shard container's environment as the pod would see it."""
    c = container(shard_job(variant)["spec"]["template"]["spec"])
    out = {}
    for k, v in env(c).items():
        if v == ("fieldRef", INDEX_PATH):
            out[k] = str(index)
        elif v == ("fieldRef", UID_PATH):
            out[k] = "6f1c2a9e-run"
        else:
            out[k] = v
    out["SWARMGEN_REPORT_DIR"] = sb.reports
    return out, c.get("args", [])


@check
def the_scripts_parse():
    for s in ("shard-entrypoint.sh", "merge-reports.sh"):
        r = subprocess.run(["bash", "-n", os.path.join(K8S, s)], capture_output=True, text=True)
        assert r.returncode == 0, f"bash -n {s}: {r.stderr}"


@check
def the_entrypoint_builds_the_shard_command_line():
    sb = Sandbox()
    try:
        for variant, index in (("af-packet.yaml", 1), ("sriov.yaml", 3)):
            e, args = job_env(variant, sb, index)
            pci = "0000:3b:02.1"
            if "SWARMGEN_PORT_PCI_ENV" in e:
                e[e["SWARMGEN_PORT_PCI_ENV"]] = pci
            port = e.get("SWARMGEN_PORT", pci)
            n = e["SWARMGEN_SHARDS"]
            report = os.path.join(sb.reports, "6f1c2a9e-run", f"shard-{index}.json")
            r = sb.run("shard-entrypoint.sh", {**e, "STUB_RC": "1"}, args)
            want = ["run", "--shard", f"{index}/{n}", "--barrier", e["SWARMGEN_BARRIER"], "--port", port,
                    "--report", report, *args]
            assert sb.argv() == want, f"{variant}: swarmgen got {sb.argv()}\nexpected {want}\n{r.stderr}"
            assert r.returncode == 1, f"{variant}: exit {r.returncode}, swarmgen's was 1"
            with open(report + ".done") as f:
                assert f.read().strip() == "1", f"{variant}: the .done file does not hold swarmgen's status"
    finally:
        sb.close()


@check
def the_entrypoint_refuses_a_missing_or_bad_variable_with_one_line():
    sb = Sandbox()
    try:
        base, args = job_env("af-packet.yaml", sb, 1)
        cases = [(k, {k: None}) for k in
                 ("JOB_COMPLETION_INDEX", "SWARMGEN_SHARDS", "SWARMGEN_BARRIER", "SWARMGEN_REPORT_DIR",
                  "SWARMGEN_RUN_ID", "SWARMGEN_PORT")]
        cases += [
            ("JOB_COMPLETION_INDEX", {"JOB_COMPLETION_INDEX": "4", "SWARMGEN_SHARDS": "4"}),
            ("JOB_COMPLETION_INDEX", {"JOB_COMPLETION_INDEX": "x"}),
            ("SWARMGEN_SHARDS", {"SWARMGEN_SHARDS": "1", "JOB_COMPLETION_INDEX": "0"}),
            ("SWARMGEN_RUN_ID", {"SWARMGEN_RUN_ID": "../x"}),
            ("PCIDEVICE_X", {"SWARMGEN_PORT": None, "SWARMGEN_PORT_PCI_ENV": "PCIDEVICE_X"}),
            ("several", {"SWARMGEN_PORT": None, "SWARMGEN_PORT_PCI_ENV": "PCIDEVICE_X",
                         "PCIDEVICE_X": "0000:3b:02.1,0000:3b:02.2"}),
            ("not both", {"SWARMGEN_PORT_PCI_ENV": "PCIDEVICE_X", "PCIDEVICE_X": "0000:3b:02.1"}),
        ]
        for name, change in cases:
            e = {k: v for k, v in {**base, **change}.items() if v is not None}
            r = sb.run("shard-entrypoint.sh", e, args)
            lines = r.stderr.splitlines()
            assert r.returncode == 2, f"{change}: exit {r.returncode}, expected 2"
            assert len(lines) == 1 and name in lines[0] and lines[0].startswith("shard-entrypoint: "), \
                f"{change}: stderr {r.stderr!r}, expected one line naming {name}"
            assert sb.argv() is None, f"{change}: swarmgen ran anyway"
        r = sb.run("shard-entrypoint.sh", base, [*args, "--port", "net_null0"])
        assert r.returncode == 2 and "--port" in r.stderr and sb.argv() is None, \
            f"--port in the args: exit {r.returncode}, {r.stderr!r}"
    finally:
        sb.close()


@check
def the_merge_waits_for_every_shard_then_merges_them_in_order():
    n = int(env(container(merge_job()["spec"]["template"]["spec"]))["SWARMGEN_SHARDS"])
    sb = Sandbox()
    try:
        menv = {"SWARMGEN_SHARDS": str(n), "SWARMGEN_REPORT_DIR": sb.reports, "SWARMGEN_WAIT_SECONDS": "1"}
        run = os.path.join(sb.reports, "uid-1")
        os.makedirs(run)
        for i in range(n):
            with open(os.path.join(run, f"shard-{i}.json"), "w") as f:
                f.write("{}\n")
        for running in (0, n - 1):  # every shard but this one has finished
            for i in range(n):
                with open(os.path.join(run, f"shard-{i}.json.done"), "w") as f:
                    f.write("0\n")
            os.unlink(os.path.join(run, f"shard-{running}.json.done"))
            try:
                sb.run("merge-reports.sh", menv, timeout=3)
                raise AssertionError(f"the merge finished with shard {running} still running")
            except subprocess.TimeoutExpired:
                pass
            assert sb.argv() is None, f"swarmgen ran with shard {running} still running"
        with open(os.path.join(run, f"shard-{n - 1}.json.done"), "w") as f:
            f.write("1\n")
        r = sb.run("merge-reports.sh", menv)
        reports = [os.path.join(run, f"shard-{i}.json") for i in range(n)]
        want = ["report", "--merge", *reports, "--report", os.path.join(run, "merged.json"),
                "--html", os.path.join(run, "merged.html")]
        assert r.returncode == 0, f"merge exit {r.returncode}: {r.stderr}"
        assert sb.argv() == want, f"swarmgen got {sb.argv()}\nexpected {want}"
        # a shard that finished without its report fails the merge at once
        run2 = os.path.join(sb.reports, "uid-2")
        os.makedirs(run2)
        for i in range(n):
            with open(os.path.join(run2, f"shard-{i}.json.done"), "w") as f:
                f.write("2\n")
        r = sb.run("merge-reports.sh", menv)
        assert r.returncode == 2 and "shard 0" in r.stderr and sb.argv() is None, \
            f"missing report: exit {r.returncode}, {r.stderr!r}"
    finally:
        sb.close()


def main():
    passed = failed = 0
    for fn in checks:
        try:
            note = fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
            failed += 1
            print(f"[FAIL] {fn.__name__}: {e}")
            if not isinstance(e, AssertionError):
                traceback.print_exc(file=sys.stdout)
            continue
        if note:
            print(f"[SKIP] {fn.__name__}: {note}")
            continue
        passed += 1
        print(f"[ OK ] {fn.__name__}")
    print(f"[====] k8s manifests: Tested: {passed + failed} | Passing: {passed} | Failing: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
