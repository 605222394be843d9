#!/usr/bin/env python3
"""The checks of deploy/ that no off-the-shelf linter makes; scripts/lint-deploy runs them with the
pinned tools' Python (PyYAML). Each subcommand prints what it checked and exits 1 on any finding.

  kubernetes RENDERED OUTDIR   cross-checks the rendered manifests (security context, probes,
                               resources, names that refer to each other, the ServiceMonitor and
                               PrometheusRule) and writes OUTDIR/core.yaml (core kinds, for
                               kubernetes-validate) and OUTDIR/rules.yml (the PrometheusRule's groups)
  render-kustomize DIR         a minimal kustomize (resources, namespace, configMapGenerator) for
                               machines without kubectl; prints the rendered documents
  compose                      deploy/compose: services, images, mounts, ports and their wiring
  dashboard OUT_RULES          deploy/grafana: dashboard JSON and provisioning; writes every panel
                               query (variables filled in) as a recording rule for promtool
"""
import json
import os
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
findings = []


def check(cond, message):
    if not cond:
        findings.append(message)
    return cond


def done(what):
    for f in findings:
        print(f"  FAIL {f}", file=sys.stderr)
    if findings:
        sys.exit(1)
    print(f"  ok   {what}")


def load_all(text):
    return [d for d in yaml.safe_load_all(text) if d]


def render_kustomize(directory):
    k = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs = []
    for r in k.get("resources", []):
        docs += load_all((directory / r).read_text())
    for g in k.get("configMapGenerator", []):
        data = {Path(f).name: (directory / f).read_text() for f in g.get("files", [])}
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": g["name"]}, "data": data})
    for d in docs:
        if d["kind"] != "Namespace" and "namespace" in k:
            d["metadata"]["namespace"] = k["namespace"]
    return docs


def kubernetes(rendered, outdir):
    docs = load_all(Path(rendered).read_text())
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in ["Namespace", "ServiceAccount", "PersistentVolumeClaim", "Deployment", "Service",
                 "ServiceMonitor", "PrometheusRule", "ConfigMap"]:
        check(len(by_kind.get(kind, [])) == 1, f"expected one {kind}, found {len(by_kind.get(kind, []))}")
    if findings:
        done("kubernetes")
    ns = by_kind["Namespace"][0]["metadata"]["name"]
    for d in docs:
        if d["kind"] != "Namespace":
            check(d["metadata"].get("namespace") == ns, f"{d['kind']} is not in namespace {ns}")
    sa, dep, svc = by_kind["ServiceAccount"][0], by_kind["Deployment"][0], by_kind["Service"][0]
    pvc, cm = by_kind["PersistentVolumeClaim"][0], by_kind["ConfigMap"][0]
    sm, rule = by_kind["ServiceMonitor"][0], by_kind["PrometheusRule"][0]

    role = (sa["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn", "")
    check(re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", role), f"ServiceAccount IRSA annotation: {role!r}")

    spec = dep["spec"]
    pod = spec["template"]["spec"]
    check(spec.get("replicas") == 1, "Deployment: replicas must be 1 (one writer of the state)")
    check(spec.get("strategy", {}).get("type") == "Recreate", "Deployment: strategy must be Recreate")
    check(pod.get("serviceAccountName") == sa["metadata"]["name"], "Deployment: serviceAccountName")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile RuntimeDefault")
    pod_labels = spec["template"]["metadata"]["labels"]
    check(spec["selector"]["matchLabels"].items() <= pod_labels.items(), "Deployment selector vs pod labels")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check(volumes.get("config", {}).get("configMap", {}).get("name") == cm["metadata"]["name"],
          "the config volume names the generated ConfigMap")
    check(volumes.get("state", {}).get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
          "the state volume names the PVC")
    check("config.toml" in cm.get("data", {}), "ConfigMap has config.toml")
    port_names = set()
    for c in pod["containers"]:
        n = c["name"]
        sc = c.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True, f"{n}: readOnlyRootFilesystem")
        check(sc.get("allowPrivilegeEscalation") is False, f"{n}: allowPrivilegeEscalation false")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{n}: capabilities drop ALL")
        check(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{n}: runAsNonRoot")
        check(sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type") == "RuntimeDefault",
              f"{n}: seccomp RuntimeDefault")
        for kind in ["requests", "limits"]:
            for res in ["cpu", "memory"]:
                check(res in c.get("resources", {}).get(kind, {}), f"{n}: resources.{kind}.{res}")
        names = {p["name"] for p in c.get("ports", [])}
        port_names |= names
        for probe, path in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]:
            get = c.get(probe, {}).get("httpGet", {})
            check(get.get("path") == path, f"{n}: {probe} on {path}")
            check(get.get("port") in names, f"{n}: {probe} port {get.get('port')!r} is a named container port")
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, f"{n}: mount of unknown volume {m['name']}")
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        config = tomllib.loads(cm["data"]["config.toml"])
        check(config["state"]["path"].startswith(mounts.get("state", "?") + "/"), f"{n}: state path on the state volume")
        check(mounts.get("tmp") == "/tmp", f"{n}: writable /tmp under a read-only root")
    check(svc["spec"]["selector"].items() <= pod_labels.items(), "Service selector matches the pod")
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for p in svc_ports.values():
        check(p.get("targetPort") in port_names, f"Service port {p['name']} targets a named container port")
    check(sm["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
    check(sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items(),
          "ServiceMonitor selects the Service")
    for e in sm["spec"]["endpoints"]:
        check(e.get("port") in svc_ports, f"ServiceMonitor endpoint port {e.get('port')!r} is a Service port")
        check(e.get("path") == "/metrics", "ServiceMonitor path /metrics")
    check(rule["apiVersion"] == "monitoring.coreos.com/v1", "PrometheusRule apiVersion")
    check(bool(rule.get("spec", {}).get("groups")), "PrometheusRule has groups")
    out = Path(outdir)
    crds = {"ServiceMonitor", "PrometheusRule"}
    (out / "core.yaml").write_text(yaml.safe_dump_all([d for d in docs if d["kind"] not in crds]))
    (out / "rules.yml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    done(f"kubernetes: {len(docs)} rendered documents cross-checked (security context, probes, "
         "resources, IRSA, volumes, Service/ServiceMonitor wiring, PrometheusRule structure)")


def compose():
    d = DEPLOY / "compose"
    c = yaml.safe_load((d / "docker-compose.yml").read_text())
    services = c.get("services", {})
    check(set(services) >= {"agent", "prometheus", "alertmanager", "grafana"}, f"services: {sorted(services)}")
    declared = set(c.get("volumes") or {})
    mounts = {}
    for name, s in services.items():
        image = s.get("image", "")
        check(re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"),
              f"{name}: image {image!r} needs a pinned tag")
        for dep in s.get("depends_on", []):
            check(dep in services, f"{name}: depends on unknown service {dep}")
        for p in s.get("ports", []):
            check(str(p).startswith("127.0.0.1:"), f"{name}: port {p} must bind 127.0.0.1")
        for v in s.get("volumes", []):
            src, target = v.split(":")[:2]
            if src.startswith((".", "/")):
                check((d / src).exists(), f"{name}: mounted {src} does not exist")
            else:
                check(src in declared, f"{name}: volume {src} is not declared")
            mounts[(name, target)] = src
    build = services["agent"].get("build", {})
    check((d / build.get("context", "?") / build.get("dockerfile", "?")).is_file(), "agent: build context/dockerfile")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    config_path = re.search(r'"--config", "([^"]+)"', dockerfile).group(1)
    agent_cfg = mounts.get(("agent", config_path))
    check(agent_cfg is not None, f"agent: no config mounted at {config_path}")
    agent = tomllib.loads((d / (agent_cfg or "agent.toml")).read_text())
    state_dir = re.search(r'VOLUME \["([^"]+)"\]', dockerfile).group(1)
    check(mounts.get(("agent", state_dir)) in declared, f"agent: named volume at {state_dir}")
    listen_port = agent["server"]["listen"].rsplit(":", 1)[1]
    endpoint = agent.get("aws", {}).get("endpoint_url")
    if endpoint:
        check(re.match(r"http://([\w-]+):", endpoint).group(1) in services, f"agent endpoint_url {endpoint}")
    # Prometheus reads deploy/prometheus: scrape and alerting targets are services on their ports.
    check(mounts.get(("prometheus", "/etc/prometheus")) == "../prometheus", "prometheus mounts deploy/prometheus")
    prom = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    ports = {"agent": listen_port, "alertmanager": "9093", "prometheus": "9090", "moto": "5000"}
    targets = [t for sc in prom["scrape_configs"] for s in sc["static_configs"] for t in s["targets"]]
    targets += [t for a in prom["alerting"]["alertmanagers"] for s in a["static_configs"] for t in s["targets"]]
    for t in targets:
        host, port = t.split(":")
        check(host in services and ports.get(host) == port, f"prometheus target {t} is not a service's port")
    for f in prom.get("rule_files", []):
        check((DEPLOY / "prometheus" / f).is_file(), f"prometheus rule file {f}")
    # Grafana: provisioning mounted, datasource is the prometheus service, dashboard where the provider looks.
    check(mounts.get(("grafana", "/etc/grafana/provisioning")) == "../grafana/provisioning", "grafana provisioning mount")
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    check(ds["datasources"][0]["url"] == f"http://prometheus:{ports['prometheus']}", "grafana datasource url")
    prov = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/maturity-agent.yaml").read_text())
    path = prov["providers"][0]["options"]["path"]
    check(mounts.get(("grafana", f"{path}/maturity.json")) == "../grafana/maturity.json", f"dashboard mounted in {path}")
    check(mounts.get(("alertmanager", "/etc/alertmanager/alertmanager.yml")) == "./alertmanager.yml", "alertmanager config mount")
    done(f"compose: {len(services)} services (pinned images, mounts exist, loopback ports, "
         "Prometheus/Alertmanager/Grafana/agent wiring)")


def compose_replicas():
    """docker-compose.replicas.yml over docker-compose.yml: a pinned postgres service, every agent
    with the replicas config, the password as a compose secret mounted where the config reads it,
    and the config's database the postgres service."""
    d = DEPLOY / "compose"
    base = yaml.safe_load((d / "docker-compose.yml").read_text())["services"]
    over = yaml.safe_load((d / "docker-compose.replicas.yml").read_text())
    services = over.get("services", {})
    secrets = over.get("secrets", {})
    check("postgres" in services, "replicas: no postgres service")
    for name, sec in secrets.items():
        check((d / sec.get("file", "?")).is_file(), f"replicas: secret {name} file {sec.get('file')} is missing")
    agents = [n for n in services if n.startswith("agent")]
    check(len(agents) >= 2, f"replicas: expected two agents or more, found {agents}")
    host_ports = []
    for name, s in services.items():
        image = s.get("image") or base.get(name, {}).get("image", "")
        check(re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"),
              f"replicas {name}: image {image!r} needs a pinned tag")
        for dep in s.get("depends_on", []):
            check(dep in services or dep in base, f"replicas {name}: depends on unknown service {dep}")
        for p in s.get("ports", []):
            check(str(p).startswith("127.0.0.1:"), f"replicas {name}: port {p} must bind 127.0.0.1")
            host_ports.append(str(p).split(":")[1])
        for sec in s.get("secrets", []):
            check(sec in secrets, f"replicas {name}: secret {sec} is not declared")
    for p in base.values():
        host_ports += [str(x).split(":")[1] for x in p.get("ports", [])]
    check(len(host_ports) == len(set(host_ports)), f"replicas: a host port is published twice: {sorted(host_ports)}")
    for name in agents:
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name].get("volumes", [])}
        src = mounts.get("/etc/maturity-agent/config.toml")
        check(src == "./agent-replicas.toml", f"replicas {name}: config mounted from {src}")
        agent = tomllib.loads((d / "agent-replicas.toml").read_text())
        state = agent.get("state", {})
        url = state.get("url", "")
        check(re.match(r"postgres://[\w-]+@postgres:5432/", url), f"replicas {name}: state.url {url!r} is not the postgres service")
        check(state.get("password_file") == f"/run/secrets/{services[name]['secrets'][0]}",
              f"replicas {name}: state.password_file {state.get('password_file')!r} is not its secret")
        check("path" not in state, f"replicas {name}: state.path and state.url")
    pg = services["postgres"]
    check(pg.get("environment", {}).get("POSTGRES_PASSWORD_FILE") == "/run/secrets/state-password",
          "replicas postgres: POSTGRES_PASSWORD_FILE is not the shared secret")
    done(f"compose replicas: {len(agents)} agents on the postgres service (pinned images, secrets, "
         "loopback ports, the shared config)")


def kubernetes_replicas(rendered, outdir):
    """The rendered replicas overlay: several replicas, no volume claim or state volume, the
    Secret mounted where the config reads the password and the CA, the config's state in
    PostgreSQL with TLS."""
    docs = load_all(Path(rendered).read_text())
    kinds = [d["kind"] for d in docs]
    check("PersistentVolumeClaim" not in kinds, "replicas overlay: a PersistentVolumeClaim is left")
    dep = next(d for d in docs if d["kind"] == "Deployment")
    secret = next((d for d in docs if d["kind"] == "Secret"), None)
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    check(dep["spec"].get("replicas", 1) >= 2, "replicas overlay: replicas must be 2 or more")
    pod = dep["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check("state" not in volumes, "replicas overlay: the state volume is left")
    check(secret is not None, "replicas overlay: no Secret")
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0].get("volumeMounts", [])}
    check("/var/lib/maturity-agent" not in mounts, "replicas overlay: the state mount is left")
    config = tomllib.loads(cm["data"]["config.toml"])
    state = config.get("state", {})
    check(re.match(r"postgres(ql)?://[^:@/]+@", state.get("url", "")), f"replicas overlay: state.url {state.get('url')!r}")
    check("sslmode=require" in state.get("url", "") or "verify-full" in state.get("url", ""), "replicas overlay: state.url without TLS")
    for key in ["password_file", "ca_file"]:
        path = Path(state.get(key, "/nonexistent/x"))
        vol = volumes.get(mounts.get(str(path.parent), ""), {})
        check(vol.get("secret", {}).get("secretName") == secret["metadata"]["name"],
              f"replicas overlay: state.{key} {path} is not in the Secret's mount")
        check(path.name in (secret.get("stringData") or secret.get("data") or {}),
              f"replicas overlay: the Secret has no key {path.name} (state.{key})")
    crds = {"ServiceMonitor", "PrometheusRule"}
    (Path(outdir) / "replicas-core.yaml").write_text(yaml.safe_dump_all([d for d in docs if d["kind"] not in crds]))
    done(f"kubernetes replicas overlay: {dep['spec']['replicas']} replicas, the state in PostgreSQL "
         "with TLS, password and CA from the Secret, no volume claim")


BUILTIN_VARS = {"__range", "__rate_interval", "__interval"}


def fill(expr):
    """The query as Prometheus evaluates it with every account and practice selected."""
    return (expr.replace("$account", ".*").replace("$practice", ".*")
            .replace("$__range", "1d").replace("$__rate_interval", "5m"))


def dashboard(out_rules):
    path = DEPLOY / "grafana/maturity.json"
    dash = json.loads(path.read_text())
    check(dash.get("schemaVersion", 0) >= 39, f"schemaVersion {dash.get('schemaVersion')} < 39")
    check(bool(dash.get("uid")) and bool(dash.get("title")), "uid and title")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    check(variables.get("datasource", {}).get("type") == "datasource", "datasource variable")
    rules, ids = [], set()
    for name in ["account", "practice"]:
        v = variables.get(name, {})
        check(v.get("type") == "query" and v.get("includeAll"), f"variable {name}: a query with All")
        q = v.get("query", {})
        q = q.get("query", "") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.+), (\w+)\)", q)
        if check(m, f"variable {name}: {q!r} is not label_values(selector, label)"):
            rules.append({"record": f"dashboard:variable_{name}", "expr": fill(m.group(1))})

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))

    panels = list(walk(dash.get("panels", [])))
    for p in panels:
        title = p.get("title", "?")
        check(p.get("id") not in ids, f"{title}: duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        check(all(k in g for k in "xywh") and g["x"] + g["w"] <= 24, f"{title}: gridPos {g}")
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        check(targets, f"{title}: no query")
        check(len({t.get("refId") for t in targets}) == len(targets), f"{title}: refIds not unique")
        for t in targets:
            expr = t.get("expr", "")
            check(t.get("datasource", {}).get("uid") == "${datasource}", f"{title}: query datasource")
            for var in re.findall(r"\$(\w+)", expr):
                check(var in variables or var in BUILTIN_VARS, f"{title}: unknown variable ${var}")
            rules.append({"record": f"dashboard:panel_{p['id']}_{t.get('refId')}", "expr": fill(expr)})
    for f in (DEPLOY / "grafana/provisioning").glob("*/*.yaml"):
        check(yaml.safe_load(f.read_text()).get("apiVersion") == 1, f"{f.name}: apiVersion 1")
    Path(out_rules).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done(f"dashboard: {len(panels)} panels, {len(rules)} queries (schemaVersion {dash.get('schemaVersion')}, "
         "variables, ids, layout, datasources, provisioning)")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "render-kustomize":
        print(yaml.safe_dump_all(render_kustomize(Path(args[0]))), end="")
    elif cmd == "kubernetes":
        kubernetes(*args)
    elif cmd == "compose":
        compose()
    elif cmd == "compose-replicas":
        compose_replicas()
    elif cmd == "kubernetes-replicas":
        kubernetes_replicas(*args)
    elif cmd == "dashboard":
        dashboard(*args)
    else:
        sys.exit(f"unknown subcommand {cmd}")
