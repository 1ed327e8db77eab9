#!/usr/bin/python3
"""Offline checks of the deployment files (no cluster, no containers).

  check_manifests.py README.md deploy/kubernetes docker-compose.yml \
      [docker-compose.scale.yml deploy/haproxy/haproxy.cfg]

Exits 1 naming every mismatch found:
- every YAML document parses; each service has a Deployment, a Service, a
  PodDisruptionBudget and a HorizontalPodAutoscaler that select its pods;
- every environment variable given to a tollgate container (Kubernetes and
  docker-compose) is a setting of README.md's configuration table;
- the gRPC and HTTP ports the settings listen on are the container ports,
  the Service's target ports and the probes' ports;
- readiness and liveness are native gRPC probes: readiness asks the whole
  server (""), liveness the health name "liveness";
- secrets come from Secrets (no literal database URL, password or key);
- SumService's key source names AuthService's Service and port;
- the scale-out file: each replica publishes only its HTTP port (gRPC goes
  through the balancer); the balancer's backends are exactly the replicas,
  at their gRPC ports, health-checked on their HTTP ports; its frontends
  are the ports it publishes; SumService fetches keys through it.
"""
import os
import re
import sys

import yaml

errors = []


def check(condition, message):
    if not condition:
        errors.append(message)
    return condition


def settings_in_readme(path):
    text = open(path, encoding="utf-8").read()
    begin = text.index("<!-- config-table:begin -->")
    end = text.index("<!-- config-table:end -->")
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text[begin:end], re.M))


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def load_all(directory):
    docs = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                docs += [(name, d) for d in yaml.safe_load_all(f) if d]
    return docs


SECRET_SETTINGS = {"AUTH_DATABASE_URL", "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "JWT_SECRET_KEY",
                   "AUTH_SMTP_PASSWORD", "AUTH_SMTP_URL"}


def check_kubernetes(directory, settings):
    docs = load_all(directory)
    by_kind = {}
    for name, doc in docs:
        check("kind" in doc and "apiVersion" in doc, f"{name}: a document without kind or apiVersion")
        by_kind.setdefault(doc.get("kind"), {})[doc["metadata"]["name"]] = doc
    kustomization = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml")))
    listed = set(kustomization["resources"])
    on_disk = {n for n, _ in docs}
    check(listed == on_disk, f"kustomization.yaml lists {sorted(listed)}, the folder has {sorted(on_disk)}")

    services = {}
    for service, prefix in (("tollgate-auth", "AUTH_"), ("tollgate-sum", "SUM_")):
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
            check(service in by_kind.get(kind, {}), f"{service}: no {kind}")
        if service not in by_kind.get("Deployment", {}):
            continue
        deployment = by_kind["Deployment"][service]
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        check(selector.items() <= labels.items(), f"{service}: the Deployment's selector misses its pods")
        container = pod["spec"]["containers"][0]
        env = {e["name"]: e for e in container.get("env", [])}
        for name in env:
            check(name in settings, f"{service}: {name} is not a setting of the configuration table")
        for name in SECRET_SETTINGS & env.keys():
            check("valueFrom" in env[name] and "secretKeyRef" in env[name]["valueFrom"],
                  f"{service}: {name} must come from a Secret")
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        grpc_port = port_of(env[prefix + "LISTEN"]["value"]) if check(
            prefix + "LISTEN" in env, f"{service}: no {prefix}LISTEN") else None
        http_port = port_of(env[prefix + "HTTP_LISTEN"]["value"]) if check(
            prefix + "HTTP_LISTEN" in env, f"{service}: no {prefix}HTTP_LISTEN") else None
        check(ports.get("grpc") == grpc_port, f"{service}: containerPort grpc {ports.get('grpc')} != {prefix}LISTEN {grpc_port}")
        check(ports.get("http") == http_port, f"{service}: containerPort http {ports.get('http')} != {prefix}HTTP_LISTEN {http_port}")
        for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = container.get(probe_name)
            if probe is None:
                check(probe_name == "startupProbe", f"{service}: no {probe_name}")
                continue
            if "grpc" in probe:
                check(probe["grpc"]["port"] == grpc_port, f"{service}: {probe_name} probes gRPC port {probe['grpc']['port']}, not {grpc_port}")
            elif "httpGet" in probe:
                port = probe["httpGet"]["port"]
                check(ports.get(port, port) == http_port, f"{service}: {probe_name} probes HTTP port {port}, not {http_port}")
                check(probe["httpGet"]["path"] in ("/healthz", "/readyz"), f"{service}: {probe_name} path {probe['httpGet']['path']}")
            else:
                check(False, f"{service}: {probe_name} is neither grpc nor httpGet")
        readiness = container.get("readinessProbe", {})
        liveness = container.get("livenessProbe", {})
        if check("grpc" in readiness, f"{service}: readiness must be the native gRPC probe"):
            check(readiness["grpc"].get("service", "") == "",
                  f"{service}: readiness asks {readiness['grpc'].get('service')!r}, not the whole server ('')")
        # "" goes NOT_SERVING in a database outage: as liveness it would
        # restart every replica; "liveness" stays SERVING until the stop.
        if check("grpc" in liveness, f"{service}: liveness must be the native gRPC probe"):
            check(liveness["grpc"].get("service") == "liveness",
                  f"{service}: liveness asks {liveness['grpc'].get('service')!r}, not 'liveness'")
        # The Secret's files (the signing key) where the setting points.
        for mount in container.get("volumeMounts", []):
            volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
            check("secret" in volume, f"{service}: volume {mount['name']} is not a Secret")
        if "AUTH_SIGNING_KEYS" in env:
            key_path = env["AUTH_SIGNING_KEYS"]["value"]
            mounted = [
                os.path.join(m["mountPath"], item["path"])
                for m in container.get("volumeMounts", [])
                for v in pod["spec"]["volumes"] if v["name"] == m["name"] and "secret" in v
                for item in v["secret"].get("items", [])]
            check(key_path in mounted, f"{service}: AUTH_SIGNING_KEYS {key_path} is not a mounted Secret file ({mounted})")

        svc = by_kind.get("Service", {}).get(service)
        if svc:
            check(svc["spec"]["selector"].items() <= labels.items(), f"{service}: the Service selects no pod of the Deployment")
            for p in svc["spec"]["ports"]:
                target = p["targetPort"]
                check(ports.get(target, target) in (grpc_port, http_port), f"{service}: Service port {p['name']} targets {target}")
            services[service] = {p["name"]: p["port"] for p in svc["spec"]["ports"]}
        pdb = by_kind.get("PodDisruptionBudget", {}).get(service)
        if pdb:
            check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), f"{service}: the PDB selects no pod")
        hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(service)
        if hpa:
            check(hpa["spec"]["scaleTargetRef"]["name"] == service and hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment",
                  f"{service}: the HPA scales {hpa['spec']['scaleTargetRef']}")
            check(hpa["spec"]["minReplicas"] >= 2, f"{service}: the HPA may scale below 2 replicas (the PDB needs one up)")
        if service == "tollgate-sum":
            source = env.get("SUM_KEYS_SOURCE", {}).get("value", "")
            services_auth = services.get("tollgate-auth", {})
            check(source == f"grpc://tollgate-auth:{services_auth.get('grpc')}",
                  f"tollgate-sum: SUM_KEYS_SOURCE {source!r} is not the tollgate-auth Service's gRPC port")


def check_compose(path, settings):
    """The tollgate services of a compose file: {name: (command, grpc port, http port, env)}."""
    file = os.path.basename(path)
    compose = yaml.safe_load(open(path, encoding="utf-8"))
    behind_balancer = "balancer" in compose["services"]
    replicas = {}
    for name, service in compose["services"].items():
        command = service.get("command", [])
        if not command or command[0] not in ("auth_service", "sum_service"):
            continue
        prefix = "AUTH_" if command[0] == "auth_service" else "SUM_"
        env = service.get("environment", {})
        for variable in env:
            check(variable in settings, f"{file} {name}: {variable} is not a setting of the configuration table")
        grpc_port = port_of(env[prefix + "LISTEN"])
        http_port = port_of(env[prefix + "HTTP_LISTEN"])
        published = {int(p.rsplit(":", 1)[1]) for p in service.get("ports", [])}
        # Behind the balancer, gRPC goes through it; the HTTP port stays for
        # each replica's /metrics.
        wanted = {http_port} if behind_balancer else {grpc_port, http_port}
        check(published == wanted, f"{file} {name}: publishes {sorted(published)}, should {sorted(wanted)}")
        replicas[name] = (command[0], grpc_port, http_port, env)
    return compose, replicas


def check_balancer(compose_path, haproxy_path, settings):
    compose, replicas = check_compose(compose_path, settings)
    file = os.path.basename(compose_path)
    text = open(haproxy_path, encoding="utf-8").read()
    sections = {}
    current = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line[0].isspace():
            current = tuple((line.split() + [""])[:2])  # ("backend", "auth"), ("global", "")
            sections[current] = []
        elif current:
            sections[current].append(line.split())
    balancer = compose["services"].get("balancer", {})
    published = {int(p.rsplit(":", 1)[1]) for p in balancer.get("ports", [])}
    binds = {}
    for (kind, name), lines in sections.items():
        if kind == "frontend":
            for words in lines:
                if words[0] == "bind":
                    binds[name] = port_of(words[1])
    check(published == set(binds.values()), f"haproxy.cfg binds {binds}, {file}'s balancer publishes {sorted(published)}")
    for backend, binary in (("auth", "auth_service"), ("sum", "sum_service")):
        lines = sections.get(("backend", backend))
        if not check(lines is not None, f"haproxy.cfg: no backend {backend}"):
            continue
        expected = {n for n, r in replicas.items() if r[0] == binary}
        check(len(expected) >= 2, f"{file}: {len(expected)} {binary} replicas, not 2 or more")
        defaults = next((w for w in lines if w[0] == "default-server"), [])
        servers = {w[1]: w for w in lines if w[0] == "server"}
        check(set(servers) == expected, f"haproxy.cfg backend {backend}: servers {sorted(servers)}, replicas {sorted(expected)}")
        check(["balance", "roundrobin"] in lines, f"haproxy.cfg backend {backend}: not balance roundrobin")
        check(["option", "httpchk", "GET", "/readyz"] in lines, f"haproxy.cfg backend {backend}: no httpchk of /readyz")
        for name, words in servers.items():
            if name not in replicas:
                continue
            options = defaults[1:] + words[3:]
            host, port = words[2].rsplit(":", 1)
            check(host == name and int(port) == replicas[name][1],
                  f"haproxy.cfg server {name}: {words[2]}, the replica's gRPC port is {replicas[name][1]}")
            proto = options[options.index("proto") + 1] if "proto" in options else None
            check("check" in options and proto == "h2", f"haproxy.cfg server {name}: not health-checked over HTTP/2 (proto {proto})")
            check_port = int(options[options.index("port") + 1]) if "port" in options else None
            check(check_port == replicas[name][2], f"haproxy.cfg server {name}: checks port {check_port}, the replica's HTTP port is {replicas[name][2]}")
    auth_port = binds.get("auth_grpc")
    for name, (binary, _, _, env) in replicas.items():
        if binary == "sum_service":
            check(env.get("SUM_KEYS_SOURCE") == f"grpc://balancer:{auth_port}",
                  f"{file} {name}: SUM_KEYS_SOURCE {env.get('SUM_KEYS_SOURCE')!r} is not the balancer's AuthService port")


def main():
    readme, kubernetes_dir, compose_file = sys.argv[1:4]
    settings = settings_in_readme(readme)
    check(len(settings) > 40, f"{readme}: only {len(settings)} settings in the configuration table")
    check_kubernetes(kubernetes_dir, settings)
    check_compose(compose_file, settings)
    if len(sys.argv) > 5:
        check_balancer(sys.argv[4], sys.argv[5], settings)
    for e in errors:
        print("check_manifests:", e)
    if errors:
        return 1
    print(f"check_manifests: ok ({len(settings)} settings known)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
