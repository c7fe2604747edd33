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
import { main as status, problemsOn } from "../tools/status";
import { FIXTURES, tmpdir } from "./helpers";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const ps = (
    name: string,
    service: string,
    role: string,
    release: string,
    digest: string,
    status: string,
    state = "running",
) =>
    JSON.stringify({
        Names: name,
        Image: role === "proxy" ? `caddy:2.10-alpine@${D("e")}` : `ghcr.io/duo-store/${service}@${digest}`,
        Labels: `platform.release=${release},platform.role=${role}${role === "proxy" ? "" : `,platform.service=${service}`}`,
        State: state,
        Status: status,
    });

interface Lab {
    dir: string;
    bin: string;
    data: string;
    log: string;
}

/** Team "duo" (services api, with a worker, and web; two servers in staging), its servers faked per host. */
function lab(): Lab {
    const dir = tmpdir("daytwo-");
    for (const s of ["dev", "staging", "prod"])
        fs.copyFileSync(path.join(FIXTURES.duo, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
    const bin = path.join(dir, "bin");
    const data = path.join(dir, "hosts");
    const log = path.join(dir, "ssh.log");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "ssh"),
        `#!/bin/sh
# Stand-in for ssh deploy@<host> <remote command>: options first, then the target.
while [ "$#" -gt 0 ]; do case "$1" in -o) shift 2 ;; -t) shift ;; *) break ;; esac; done
target="$1"; shift
printf '%s\\t%s\\n' "$target" "$*" >> "${log}"
host="\${target#deploy@}"
[ "$target" = "deploy@$host" ] || { echo "ssh: expected deploy@<host>, got $target" >&2; exit 255; }
[ -f "${data}/$host/hostkey-changed" ] && { echo "Host key verification failed." >&2; exit 255; }
[ -d "${data}/$host" ] || { echo "ssh: Could not resolve hostname $host: Name or service not known" >&2; exit 255; }
FAKE_HOST="$host" exec sh -c "$*"
`,
        { mode: 0o755 },
    );
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/sh
h="${data}/$FAKE_HOST"
case "$1" in
  ps)
    if [ "$2" = "-a" ]; then cat "$h/ps.jsonl"; exit 0; fi
    role=$(printf '%s\\n' "$@" | sed -n 's/^label=platform.role=//p')
    svc=$(printf '%s\\n' "$@" | sed -n 's/^label=platform.service=//p')
    f="$h/running-\${svc:+$svc-}$role"
    [ -f "$f" ] && cat "$f"; exit 0 ;;
  logs)
    shift; echo "argv: $*"; for a in "$@"; do c="$a"; done; cat "$h/logs-$c" ;;
  exec)
    shift; [ "$1" = "-it" ] && shift; c="$1"; shift
    echo "container=$c"; i=0; for a in "$@"; do echo "arg$i=[$a]"; i=$((i+1)); done
    [ "$1" = "false" ] && exit 7; exit 0 ;;
esac
`,
        { mode: 0o755 },
    );
    const host = (name: string, files: Record<string, string>) => {
        fs.mkdirSync(path.join(data, name), { recursive: true });
        for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(data, name, f), t);
    };
    // web-1: everything up. web-2: web up, but api's new release exited and its worker is gone.
    host("staging-web-1", {
        "ps.jsonl":
            [
                ps("api-1.4.2-a1b2", "api", "app", "1.4.2", D("a"), "Up 3 hours (healthy)"),
                ps("api-worker-1.4.2-c3", "api", "worker", "1.4.2", D("a"), "Up 3 hours"),
                ps("web-2.3.0-f00d", "web", "app", "2.3.0", D("c"), "Up 3 hours"),
                ps("edge-proxy", "", "proxy", "-", "", "Up 5 days"),
            ].join("\n") + "\n",
        "running-api-app": "cid-api-1\n",
        "running-api-worker": "cid-worker-1\n",
        "running-web-app": "cid-web-1\n",
        "running-proxy": "cid-proxy-1\n",
        "logs-cid-api-1": "2026-11-23T10:00:00Z GET /api/v1/health 200\n",
        "logs-cid-worker-1": "2026-11-23T10:00:01Z job done\n",
        "logs-cid-web-1": "2026-11-23T10:00:03Z GET / 200\n",
        "logs-cid-proxy-1": "2026-11-23T10:00:04Z reload\n",
    });
    host("staging-web-2", {
        "ps.jsonl":
            [
                ps("api-1.4.3-d4e5", "api", "app", "1.4.3", D("b"), "Exited (1) 2 minutes ago", "exited"),
                ps("web-2.3.0-beef", "web", "app", "2.3.0", D("c"), "Up 2 minutes"),
                ps("edge-proxy", "", "proxy", "-", "", "Up 5 days"),
            ].join("\n") + "\n",
        "running-web-app": "cid-web-2\n",
        "running-proxy": "cid-proxy-2\n",
        "logs-cid-web-2": "2026-11-23T10:00:02Z GET / 200\n",
    });
    return { dir, bin, data, log };
}

async function run(l: Lab, tool: typeof status, argv: string[]) {
    const saved = process.env.PATH;
    process.env.PATH = `${l.bin}:${saved}`;
    let out = "";
    let err = "";
    try {
        const code = await tool(["--work-dir", l.dir, ...argv], {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        });
        return { code, out, err };
    } finally {
        process.env.PATH = saved;
    }
}

const sshCalls = (l: Lab) =>
    fs
        .readFileSync(l.log, "utf8")
        .trim()
        .split("\n")
        .map((x) => x.split("\t"));

describe("day two over the tailnet (fake ssh and docker)", function () {
    this.timeout(30_000);

    it("status: per server and service, each process's release, digest, state, health and uptime; exit 1 when any service is down", async () => {
        const l = lab();
        const r = await run(l, status, ["--stack", "staging"]);
        assert.strictEqual(r.code, 1, "web runs on both servers, but api is down on web-2");
        assert.match(r.out, /^SERVER\s+SERVICE\s+PROCESS\s+CONTAINER\s+RELEASE\s+DIGEST\s+STATE\s+HEALTH\s+UPTIME$/m);
        assert.match(
            r.out,
            /^staging-web-1\s+api\s+app\s+api-1\.4\.2-a1b2\s+1\.4\.2\s+sha256:aaaaaaaaaaaa…\s+running\s+healthy\s+3 hours$/m,
        );
        assert.match(
            r.out,
            /^staging-web-1\s+api\s+worker\s+api-worker-1\.4\.2-c3\s+1\.4\.2\s+.*no healthcheck\s+3 hours$/m,
        );
        assert.match(r.out, /^staging-web-2\s+api\s+app\s+api-1\.4\.3-d4e5\s+1\.4\.3\s+sha256:bbbbbbbbbbbb…\s+exited/m);
        assert.deepStrictEqual(r.err.trim().split("\n"), [
            "problem: staging-web-2: api: no running app container (api-1.4.3-d4e5 is exited)",
            "problem: staging-web-2: api: worker worker is not running",
        ]);
        assert.deepStrictEqual(
            sshCalls(l).map((c) => c[0]),
            ["deploy@staging-web-1", "deploy@staging-web-2"],
        );
        const one = await run(l, status, ["--stack", "staging", "--server", "web-1", "--json"]);
        assert.strictEqual(one.code, 0, one.err);
        const j = JSON.parse(one.out);
        assert.deepStrictEqual(
            j.containers.map((c: { service: string; role: string }) => `${c.service}/${c.role}`),
            ["-/proxy", "api/app", "api/worker", "web/app"],
        );
        assert.strictEqual(j.containers[1].digest, D("a"));
        const web = await run(l, status, ["--stack", "staging", "--service", "web"]);
        assert.strictEqual(web.code, 0, `web alone is up everywhere: ${web.err}`);
        assert.doesNotMatch(web.out, /\bapi\b/);
    });

    it("status: a server off the tailnet is an error (exit 2) with the cause, not a down service", async () => {
        const l = lab();
        fs.rmSync(path.join(l.data, "staging-web-2"), { recursive: true });
        const off = await run(l, status, ["--stack", "staging"]);
        assert.strictEqual(off.code, 2);
        assert.match(
            off.err,
            /^error: staging-web-2: not reachable \(ssh: Could not resolve hostname staging-web-2.*\); is this machine on the tailnet \(tailscale status\)\?$/m,
        );
        fs.mkdirSync(path.join(l.data, "staging-web-2"));
        fs.writeFileSync(path.join(l.data, "staging-web-2", "hostkey-changed"), "");
        assert.match(
            (await run(l, status, ["--stack", "staging"])).err,
            /staging-web-2: its host key is unknown or changed .*ssh-keygen -R staging-web-2/,
        );
    });

    it("logs: one service's process from every server, prefixed by server, with -f, --since and --lines passed to docker logs", async () => {
        const l = lab();
        const r = await run(l, logs, ["--stack", "staging", "--service", "web", "-f", "--since", "10m"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /^\[staging-web-1\] argv: --timestamps --follow --since 10m cid-web-1$/m);
        assert.match(r.out, /^\[staging-web-2\] 2026-11-23T10:00:02Z GET \/ 200$/m);
        const worker = await run(l, logs, [
            "--stack",
            "staging",
            "--service",
            "api",
            "--server",
            "web-1",
            "--process",
            "worker",
            "--lines",
            "50",
        ]);
        assert.strictEqual(
            worker.out,
            "argv: --timestamps --tail 50 cid-worker-1\n2026-11-23T10:00:01Z job done\n",
            "one server: no prefix",
        );
        const down = await run(l, logs, ["--stack", "staging", "--service", "api"]);
        assert.strictEqual(down.code, 1);
        assert.match(down.out, /^\[staging-web-2\] no running api app container on this server$/m);
        const proxy = await run(l, logs, ["--stack", "staging", "--process", "proxy", "--server", "web-1"]);
        assert.match(proxy.out, /cid-proxy-1\n.*reload/, "the edge proxy needs no service");
    });

    it("logs and exec: with several services one must be named; an unknown service or process is one line", async () => {
        const l = lab();
        assert.match(
            (await run(l, logs, ["--stack", "staging"])).err,
            /^error: staging runs several services \(api, web\): name one with --service\n$/,
        );
        assert.match(
            (await run(l, exec, ["--stack", "staging", "--", "ls"])).err,
            /^error: staging runs several services \(api, web\): name one with --service\n$/,
        );
        assert.match(
            (await run(l, logs, ["--stack", "staging", "--service", "shop"])).err,
            /^error: --service shop: staging runs api, web\n$/,
        );
        assert.match(
            (await run(l, logs, ["--stack", "staging", "--service", "web", "--process", "worker"])).err,
            /^error: --process worker: expected app or proxy \(web has no workers\)\n$/,
        );
        assert.match(
            (await run(l, logs, ["--stack", "staging", "--since", "yesterday"])).err,
            /^error: --since yesterday: expected a duration/,
        );
        const off = lab();
        fs.rmSync(path.join(off.data, "staging-web-1"), { recursive: true });
        const r = await run(off, logs, ["--stack", "staging", "--service", "web", "--server", "web-1"]);
        assert.strictEqual(r.code, 255);
        assert.match(r.out, /^error: staging-web-1: not reachable .*is this machine on the tailnet/m);
    });

    it("exec: the command's words arrive exactly as given, in the named service's container on the chosen server, with its exit code", async () => {
        const l = lab();
        const r = await run(l, exec, [
            "--stack",
            "staging",
            "--service",
            "web",
            "--server",
            "web-2",
            "--",
            "sh",
            "-c",
            `echo "$HOME" 'it''s'; ls *`,
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(r.out, `container=cid-web-2\narg0=[sh]\narg1=[-c]\narg2=[echo "$HOME" 'it''s'; ls *]\n`);
        assert.deepStrictEqual(
            sshCalls(l).map((c) => c[0]),
            ["deploy@staging-web-2"],
        );
        assert.strictEqual((await run(l, exec, ["--stack", "staging", "--service", "api", "--", "false"])).code, 7);
        assert.match(
            (await run(l, exec, ["--stack", "staging", "--service", "api", "--process", "worker", "--", "true"])).out,
            /^container=cid-worker-1$/m,
        );
        const none = await run(l, exec, ["--stack", "staging", "--service", "api", "--server", "web-2", "--", "true"]);
        assert.strictEqual(none.code, 2);
        assert.match(none.err, /^error: staging-web-2: no running api app container/);
        assert.match(
            (await run(l, exec, ["--stack", "staging", "--service", "api"])).err,
            /^error: no command: put it after --/,
        );
        fs.rmSync(path.join(l.data, "staging-web-1"), { recursive: true });
        const off = await run(l, exec, ["--stack", "staging", "--service", "web", "--", "true"]);
        assert.strictEqual(off.code, 255);
        assert.match(off.err, /^error: staging-web-1: not reachable .*tailnet/);
    });

    it("one clear line for an unknown server or an unknown stack", async () => {
        const l = lab();
        assert.match(
            (await run(l, status, ["--stack", "staging", "--server", "web-9"])).err,
            /^error: --server web-9: staging has staging-web-1, staging-web-2\n$/,
        );
        assert.match((await run(l, logs, ["--stack", "qa"])).err, /^error: unknown stack "qa"/);
    });

    it("parses docker ps output without guessing names, and builds the logs command for a service's process", () => {
        const rows = parsePs(
            "h",
            `${ps("x", "api", "app", "1.0", D("c"), "Up 5 seconds (health: starting)")}\nnot json\n`,
        );
        assert.deepStrictEqual(
            rows.map((r) => [r.service, r.role, r.release, r.health, r.uptime]),
            [["api", "app", "1.0", "health: starting", "5 seconds"]],
        );
        assert.match(
            logsCommand("app", { follow: false, service: "api" }),
            /--filter label=platform\.role=app --filter label=platform\.service=api --filter status=running/,
        );
        assert.doesNotMatch(logsCommand("proxy", { follow: false }), /platform\.service/);
    });

    it("status: judges every declared service, its workers and the proxy (problemsOn)", () => {
        const row = (service: string, role: string, state: string, health: string) => ({
            server: "h",
            service,
            name: `${service}-${role}`,
            role,
            release: "1",
            digest: "",
            state,
            health,
            uptime: "",
        });
        const services = [
            { name: "api", processes: ["worker"] },
            { name: "web", processes: [] },
        ];
        const up = [
            row("api", "app", "running", "healthy"),
            row("api", "worker", "running", "no healthcheck"),
            row("web", "app", "running", "no healthcheck"),
            row("-", "proxy", "running", "no healthcheck"),
        ];
        assert.deepStrictEqual(problemsOn("h", up, services), []);
        assert.deepStrictEqual(
            problemsOn(
                "h",
                up.filter((r) => r.service !== "web"),
                services,
            ),
            ["h: web: no running app container"],
        );
        assert.deepStrictEqual(
            problemsOn("h", [row("api", "app", "running", "unhealthy"), ...up.slice(1, 3)], services),
            ["h: api: app container api-app is unhealthy", "h: the edge proxy is not running"],
        );
    });
});
