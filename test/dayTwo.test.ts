/**
 * status, logs and exec against a local stand-in of the tailnet path: a fake `ssh` on PATH
 * that runs the remote command with `sh -c` (so the quoting the tools send is parsed by a
 * real shell, as on the server) and a fake `docker` answering per host from files. The
 * real path (`ssh deploy@<stack>-web-N docker ...` to real Docker) is exercised by the
 * Docker lab, not here.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { main as exec } from "../tools/exec";
import { logsCommand, main as logs } from "../tools/logs";
import { parsePs } from "../tools/lib/remote";
import { main as status } from "../tools/status";
import { FIXTURES, tmpdir } from "./helpers";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const REPO = "registry.gitlab.com/northwind/rentals-api";
const ps = (name: string, role: string, release: string, digest: string, status: string, state = "running") =>
    JSON.stringify({ Names: name, Image: role === "proxy" ? "caddy:2.10-alpine@" + D("e") : `${REPO}@${digest}`, Labels: `platform.release=${release},platform.role=${role}`, State: state, Status: status });

interface Lab { dir: string; bin: string; data: string; log: string }

function lab(): Lab {
    const dir = tmpdir("daytwo-");
    for (const s of ["dev", "staging", "prod"]) fs.copyFileSync(path.join(FIXTURES.other, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
    const bin = path.join(dir, "bin");
    const data = path.join(dir, "hosts");
    const log = path.join(dir, "ssh.log");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh
# Stand-in for ssh deploy@<host> <remote command>: options first, then the target.
while [ "$#" -gt 0 ]; do case "$1" in -o) shift 2 ;; -t) shift ;; *) break ;; esac; done
target="$1"; shift
printf '%s\\t%s\\n' "$target" "$*" >> "${log}"
host="\${target#deploy@}"
[ "$target" = "deploy@$host" ] || { echo "ssh: expected deploy@<host>, got $target" >&2; exit 255; }
[ -d "${data}/$host" ] || { echo "ssh: Could not resolve hostname $host: Name or service not known" >&2; exit 255; }
FAKE_HOST="$host" exec sh -c "$*"
`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh
h="${data}/$FAKE_HOST"
case "$1" in
  ps)
    if [ "$2" = "-a" ]; then cat "$h/ps.jsonl"; exit 0; fi
    role=$(printf '%s\\n' "$@" | sed -n 's/^label=platform.role=//p')
    [ -f "$h/running-$role" ] && cat "$h/running-$role"; exit 0 ;;
  logs)
    shift; echo "argv: $*"; for a in "$@"; do c="$a"; done; cat "$h/logs-$c" ;;
  exec)
    shift; [ "$1" = "-it" ] && shift; c="$1"; shift
    echo "container=$c"; i=0; for a in "$@"; do echo "arg$i=[$a]"; i=$((i+1)); done
    [ "$1" = "false" ] && exit 7; exit 0 ;;
esac
`, { mode: 0o755 });
    const host = (name: string, files: Record<string, string>) => {
        fs.mkdirSync(path.join(data, name), { recursive: true });
        for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(data, name, f), t);
    };
    host("staging-web-1", {
        "ps.jsonl": [ps("app-2.10-a1b2", "app", "2.10", D("a"), "Up 3 hours (healthy)"), ps("jobs-2.10-c3", "jobs", "2.10", D("a"), "Up 3 hours"), ps("edge-proxy", "proxy", "-", "", "Up 5 days")].join("\n") + "\n",
        "running-app": "cid-app-1\n", "running-jobs": "cid-jobs-1\n",
        "logs-cid-app-1": "2026-11-23T10:00:00Z GET /healthz 200\n", "logs-cid-jobs-1": "2026-11-23T10:00:01Z job done\n",
    });
    host("staging-web-2", {
        "ps.jsonl": [ps("app-2.10-d4e5", "app", "2.10", D("a"), "Up 2 minutes (unhealthy)"), ps("app-2.9-old", "app", "2.9", D("b"), "Exited (0) 1 minute ago", "exited")].join("\n") + "\n",
        "running-app": "cid-app-2\n", "logs-cid-app-2": "2026-11-23T10:00:02Z boom\n",
    });
    return { dir, bin, data, log };
}

async function run(l: Lab, tool: typeof status, argv: string[]) {
    const saved = process.env.PATH;
    process.env.PATH = `${l.bin}:${saved}`;
    let out = "";
    let err = "";
    try {
        const code = await tool(["--work-dir", l.dir, ...argv], { out: (s) => { out += s; }, err: (s) => { err += s; } });
        return { code, out, err };
    } finally {
        process.env.PATH = saved;
    }
}

const sshCalls = (l: Lab) => fs.readFileSync(l.log, "utf8").trim().split("\n").map((x) => x.split("\t"));

describe("day two over the tailnet (fake ssh and docker)", function () {
    this.timeout(30_000);

    it("status: per server, each process's release, digest, state, health and uptime; exit 1 when an app is unhealthy", async () => {
        const l = lab();
        const r = await run(l, status, ["--stack", "staging"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /^SERVER\s+PROCESS\s+CONTAINER\s+RELEASE\s+DIGEST\s+STATE\s+HEALTH\s+UPTIME$/m);
        assert.match(r.out, /^staging-web-1\s+app\s+app-2\.10-a1b2\s+2\.10\s+sha256:aaaaaaaaaaaa…\s+running\s+healthy\s+3 hours$/m);
        assert.match(r.out, /^staging-web-1\s+jobs\s+jobs-2\.10-c3\s+2\.10\s+.*no healthcheck\s+3 hours$/m);
        assert.match(r.out, /^staging-web-2\s+app\s+app-2\.9-old\s+2\.9\s+sha256:bbbbbbbbbbbb…\s+exited/m);
        assert.match(r.err, /^problem: staging-web-2: app container app-2\.10-d4e5 is unhealthy$/m);
        assert.deepStrictEqual(sshCalls(l).map((c) => c[0]), ["deploy@staging-web-1", "deploy@staging-web-2"]);
        const one = await run(l, status, ["--stack", "staging", "--server", "web-1", "--json"]);
        assert.strictEqual(one.code, 0);
        const j = JSON.parse(one.out);
        assert.deepStrictEqual(j.containers.map((c: { role: string }) => c.role), ["app", "jobs", "proxy"]);
        assert.strictEqual(j.containers[0].digest, D("a"));
    });

    it("logs: one process from every server, prefixed by server, with -f, --since and --lines passed to docker logs", async () => {
        const l = lab();
        const r = await run(l, logs, ["--stack", "staging", "-f", "--since", "10m"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /^\[staging-web-1\] argv: --timestamps --follow --since 10m cid-app-1$/m);
        assert.match(r.out, /^\[staging-web-1\] 2026-11-23T10:00:00Z GET \/healthz 200$/m);
        assert.match(r.out, /^\[staging-web-2\] 2026-11-23T10:00:02Z boom$/m);
        const jobs = await run(l, logs, ["--stack", "staging", "--server", "web-1", "--process", "jobs", "--lines", "50"]);
        assert.strictEqual(jobs.out, "argv: --timestamps --tail 50 cid-jobs-1\n2026-11-23T10:00:01Z job done\n", "one server: no prefix");
        const none = await run(l, logs, ["--stack", "staging", "--server", "web-2", "--process", "jobs"]);
        assert.strictEqual(none.code, 1);
        assert.match(none.out, /no running jobs container on this server/);
        assert.match((await run(l, logs, ["--stack", "staging", "--since", "yesterday"])).err, /^error: --since yesterday: expected a duration/);
    });

    it("exec: the command's words arrive exactly as given, on the chosen server's app container, with its exit code", async () => {
        const l = lab();
        const r = await run(l, exec, ["--stack", "staging", "--server", "web-2", "--", "sh", "-c", `echo "$HOME" 'it''s'; ls *`]);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(r.out, `container=cid-app-2\narg0=[sh]\narg1=[-c]\narg2=[echo "$HOME" 'it''s'; ls *]\n`);
        assert.deepStrictEqual(sshCalls(l).map((c) => c[0]), ["deploy@staging-web-2"]);
        assert.strictEqual((await run(l, exec, ["--stack", "staging", "--", "false"])).code, 7);
        const none = await run(l, exec, ["--stack", "staging", "--process", "mailer", "--", "true"]);
        assert.strictEqual(none.code, 2);
        assert.match(none.err, /^error: staging-web-1: no running mailer container/);
        assert.match((await run(l, exec, ["--stack", "staging"])).err, /^error: no command: put it after --/);
    });

    it("one clear line for an unknown server, an unknown stack, or a server off the tailnet", async () => {
        const l = lab();
        assert.match((await run(l, status, ["--stack", "staging", "--server", "web-9"])).err, /^error: --server web-9: staging has staging-web-1, staging-web-2\n$/);
        assert.match((await run(l, logs, ["--stack", "qa"])).err, /^error: unknown stack "qa"/);
        const off = await run(l, status, ["--stack", "prod"]);
        assert.strictEqual(off.code, 1);
        assert.match(off.err, /problem: prod-web-1: not reachable \(ssh: Could not resolve hostname prod-web-1.*\); is this machine on the tailnet/);
    });

    it("parses docker ps output without guessing names, and builds the logs command for a process", () => {
        const rows = parsePs("h", `${ps("x", "app", "1.0", D("c"), "Up 5 seconds (health: starting)")}\nnot json\n`);
        assert.deepStrictEqual(rows.map((r) => [r.role, r.release, r.health, r.uptime]), [["app", "1.0", "health: starting", "5 seconds"]]);
        assert.match(logsCommand("app", { follow: false }), /--filter label=platform\.role=app --filter status=running/);
    });
});
