#!/usr/bin/env python3
"""The HTTP client of scripts/load_life: one keep-alive connection per thread, standard
library only, every request timed on its own (its start as wall-clock time, so that the
shell can cut a window out of a run).

    load_life.py arrange API ADMIN              -> prints the service token and policy id
    load_life.py start API SERVICE N ROUNDS     -> start latency of stopped codespaces (JSON)
    load_life.py create API SERVICE ADMIN POLICY SECONDS THREADS OUT
                                                -> creations (and a policy edit every 250 ms)
                                                   for SECONDS, one "start latency status"
                                                   line a creation in OUT
    load_life.py window OUT FROM TO             -> creations' latency between FROM and TO (JSON)
"""

import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse

ORG = "life"
REPO = "app"
IMAGE = "mcr.microsoft.com/devcontainers/javascript-node:18"


class Client:
    def __init__(self, api, token):
        url = urllib.parse.urlparse(api)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.token = token

    def call(self, method, path, body=None):
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read()
        return response.status, (json.loads(text) if text else None)

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        if status // 100 != 2:
            sys.exit(f"{method} {path} answered {status}: {answer}")
        return answer


def constraints(idle=60, limited=False):
    """Every constraint a start re-applies; `limited`: with max_codespaces_per_user too."""
    held = {"base_images": {"allowed_values": ["mcr.microsoft.com/devcontainers/*"]},
            "machine_types": {"allowed_values": ["basicLinux32gb", "standardLinux32gb"]},
            "max_idle_timeout_minutes": {"value": idle},
            "port_visibility": {"allowed_values": ["org"]}}
    if limited:
        held["max_codespaces_per_user"] = {"value": 100}
    return held


def arrange(api, admin, limited=""):
    """The org, its repository and member, a policy holding every constraint a start
    re-applies (and the per-user limit, if `limited`), and the orchestrator's token."""
    client = Client(api, admin)
    client.ok("POST", "/orgs", {"login": ORG})
    client.ok("PUT", f"/orgs/{ORG}/repos/{REPO}")
    client.ok("PUT", f"/orgs/{ORG}/memberships/mona", {"role": "member"})
    policy = client.ok("POST", f"/orgs/{ORG}/codespaces/policies", {
        "name": "Life", "target": "all_repositories",
        "constraints": constraints(limited=bool(limited))})
    service = client.ok("POST", "/service-tokens", {"name": "orchestrator"})["token"]
    print(service, policy["id"])


def creation(user="mona"):
    return {"repository": f"{ORG}/{REPO}", "user": user, "devcontainer": {"image": IMAGE},
            "idle_timeout_minutes": 120}


def start_latency(api, service, count, rounds):
    """`count` codespaces with three forwarded ports each; `rounds` times each is stopped,
    then its start is timed."""
    client = Client(api, service)
    ids = [client.ok("POST", "/codespaces", creation())["id"] for _ in range(count)]
    for codespace in ids:
        for port, visibility in ((22, "private"), (3000, "org"), (8080, "org")):
            client.ok("PATCH", f"/codespaces/{codespace}/ports/{port}", {"visibility": visibility})
    samples = []
    for _ in range(rounds):
        for codespace in ids:
            client.ok("POST", f"/codespaces/{codespace}/stop")
            began = time.perf_counter()
            started = client.ok("POST", f"/codespaces/{codespace}/start")
            samples.append(time.perf_counter() - began)
            assert started["state"] == "Available" and started["idle_timeout_minutes"] == 60
    print(json.dumps(summary(samples)))


def summary(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3
    return {"samples": len(ordered), "median_ms": round(statistics.median(ordered) * 1e3, 3),
            "p90_ms": round(pick(0.90), 3), "p99_ms": round(pick(0.99), 3),
            "max_ms": round(ordered[-1] * 1e3, 3)}


def create_load(api, service, admin, policy, seconds, threads, out, users):
    """Creations for the members `user-0` to `user-(users - 1)` in turn, under the per-user
    limit, while the policy is edited every 250 ms."""
    deadline = time.time() + seconds
    lines, lock = [], threading.Lock()

    def creator(first):
        client = Client(api, service)
        mine = []
        turn = first
        while time.time() < deadline:
            turn += 1
            began_wall, began = time.time(), time.perf_counter()
            status, _ = client.call("POST", "/codespaces", creation(f"user-{turn % users}"))
            mine.append(f"{began_wall:.6f} {time.perf_counter() - began:.6f} {status}")
        with lock:
            lines.extend(mine)

    def editor():
        client = Client(api, admin)
        idle = 60
        while time.time() < deadline:
            idle = 61 if idle == 60 else 60
            client.ok("PATCH", f"/orgs/{ORG}/codespaces/policies/{policy}",
                      {"constraints": constraints(idle, limited=True)})
            time.sleep(0.25)

    workers = [threading.Thread(target=creator, args=(n * users // threads,))
               for n in range(threads)]
    workers.append(threading.Thread(target=editor))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with open(out, "w") as file:
        file.write("\n".join(lines) + "\n")


def window(out, begin, end):
    samples, failed = [], 0
    with open(out) as file:
        for line in file:
            at, latency, status = line.split()
            if begin <= float(at) <= end:
                samples.append(float(latency))
                failed += status != "201"
    result = summary(samples)
    result["non_201"] = failed
    result["per_second"] = round(len(samples) / (end - begin), 1)
    print(json.dumps(result))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "arrange":
        arrange(*args)
    elif command == "start":
        start_latency(args[0], args[1], int(args[2]), int(args[3]))
    elif command == "create":
        create_load(args[0], args[1], args[2], args[3], float(args[4]), int(args[5]), args[6],
                    int(args[7]))
    elif command == "window":
        window(args[0], float(args[1]), float(args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
