/**
 * The release tools against a typed stand-in for the Automation API (fixtures/automation.ts)
 * and a fake registry on 127.0.0.1 speaking the token handshake.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { main as pin } from "../tools/pin";
import { main as promote } from "../tools/promote";
import { main as releases } from "../tools/releases";
import { main as rollback } from "../tools/rollback";
import { main as postDeployCheck } from "../tools/post-deploy-check";
import { main as restoreMain } from "../tools/restore";
import { Automation, localAutomation } from "../tools/lib/automation";
import {
    changesFromEvents,
    deployedTogether,
    HistoryEntry,
    outsideContainers,
    pickTarget,
    ReleaseSet,
    releasesFromHistory,
    sameSet,
    setOfRecord,
} from "../tools/lib/releases";
import { parseChallenge } from "../tools/lib/registry";
import { FakeAutomation, FakeCall, FakeChange, FakeFailure, FakeStack } from "./fixtures/automation";

const ROOT = path.join(__dirname, "..");
const FIXTURE_STACKS = path.join(__dirname, "fixtures", "stacks");
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const REPO = "acme-shop/shop";
const WEB_REPO = "acme-shop/shop-web";

const CONTAINER_CHANGES = [
    { op: "update", type: "docker:index/remoteImage:RemoteImage", name: "staging-web-1-image" },
    { op: "replace", type: "docker:index/container:Container", name: "staging-web-1-app" },
    { op: "replace", type: "command:local:Command", name: "staging-web-1-cutover" },
];

function entry(version: number, tag: string, digest: string, result = "succeeded", kind = "update"): HistoryEntry {
    const t = new Date(Date.UTC(2026, 10, 10 + version)).toISOString();
    return {
        version,
        kind,
        startTime: t,
        message: `deploy ${tag}`,
        environment: { "exec.kind": "auto.local", "git.author": "Maria" },
        config: {
            "platform:services": {
                value: JSON.stringify({ app: { image: `ghcr.io/${REPO}`, tag, ...(digest ? { digest } : {}) } }),
                secret: false,
            },
            "platform:ghcrToken": { value: "ghp_secret", secret: true },
        },
        result,
        endTime: t,
    };
}

interface Lab {
    dir: string;
    fake: FakeAutomation;
    registry: http.Server;
    url: string;
    manifests: Map<string, string>;
    pulls: number;
}

async function lab(t: { history?: HistoryEntry[]; changes?: FakeChange[]; fail?: FakeFailure } = {}): Promise<Lab> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
    // The stack files are the tests' own fixture (team A), not the repository's: a team's edits never reach here.
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const f of ["Pulumi.staging.yaml", "Pulumi.prod.yaml"])
        fs.copyFileSync(path.join(FIXTURE_STACKS, f), path.join(dir, f));
    const stackState = (tag: string, digest: string): FakeStack => ({
        history: t.history ?? [
            entry(5, "1.4.2", D(3)),
            entry(4, "1.4.2", D(3), "failed"),
            entry(3, "1.4.1", D(2)),
            entry(2, "1.4.0", D(1)),
            entry(1, "1.3.9", ""),
        ],
        outputs: {
            release: {
                services: { app: { repository: `ghcr.io/${REPO}`, tag, digest, image: `ghcr.io/${REPO}@${digest}` } },
            },
            databaseUrl: "postgresql://x",
        },
        secretOutputs: ["databaseUrl"],
        secrets: { "platform:ghcrToken": "ghp_secret" },
        changes: t.changes ?? CONTAINER_CHANGES,
    });
    const fake = new FakeAutomation({ staging: stackState("1.4.2", D(3)), prod: stackState("1.4.1", D(2)) }, t.fail);
    const manifests = new Map<string, string>([
        ["1.4.2", D(3)],
        ["1.4.1", D(2)],
        ["1.3.9", D(9)],
        [D(3), D(3)],
        [D(2), D(2)],
        [D(9), D(9)],
    ]);
    const l: Lab = { dir, fake, registry: undefined as unknown as http.Server, url: "", manifests, pulls: 0 };
    l.registry = http.createServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://x");
        if (u.pathname === "/token") {
            const ok =
                req.headers.authorization === `Basic ${Buffer.from("acme-shop-bot:ghp_secret").toString("base64")}`;
            res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(
                ok ? JSON.stringify({ token: "t0k" }) : "{}",
            );
            return;
        }
        const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(u.pathname);
        if (!m || ![REPO, WEB_REPO].includes(m[1])) {
            res.writeHead(404).end();
            return;
        }
        if (req.headers.authorization !== "Bearer t0k") {
            res.writeHead(401, {
                "www-authenticate": `Bearer realm="${l.url}/token",service="ghcr.io",scope="repository:${m[1]}:pull"`,
            }).end();
            return;
        }
        l.pulls++;
        const digest = manifests.get(decodeURIComponent(m[2]));
        if (!digest) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "docker-content-digest": digest }).end();
    });
    await new Promise<void>((r) => l.registry.listen(0, "127.0.0.1", r));
    l.url = `http://127.0.0.1:${(l.registry.address() as { port: number }).port}`;
    return l;
}

type Tool = (
    argv: string[],
    io: { out: (s: string) => void; err: (s: string) => void },
    automation?: Automation,
) => Promise<number>;
const restore: Tool = (argv, io, automation) => restoreMain(argv, io, { automation });

/**
 * Runs a tool in-process against the lab's stand-in, or, with `noPulumi`, against the real
 * Automation API with no pulumi CLI on PATH.
 */
async function run(l: Lab, tool: Tool, argv: string[], opts: { noPulumi?: boolean } = {}) {
    const saved = process.env.PATH;
    if (opts.noPulumi) process.env.PATH = "/nonexistent";
    let out = "";
    let err = "";
    try {
        const code = await tool(
            [...argv, "--work-dir", l.dir],
            {
                out: (s) => {
                    out += s;
                },
                err: (s) => {
                    err += s;
                },
            },
            opts.noPulumi ? localAutomation : l.fake,
        );
        return { code, out, err };
    } finally {
        process.env.PATH = saved;
    }
}

async function direct(tool: Tool, argv: string[]) {
    let out = "";
    let err = "";
    const code = await tool(argv, {
        out: (s) => {
            out += s;
        },
        err: (s) => {
            err += s;
        },
    });
    return { code, out, err };
}

const calls = (l: Lab): FakeCall[] => l.fake.calls;
const ops = (l: Lab): string[] => calls(l).map((c) => c.op);
const stackYaml = (l: Lab, stack: string) =>
    parse(fs.readFileSync(path.join(l.dir, `Pulumi.${stack}.yaml`), "utf8")).config;

describe("release tools (Automation API stand-in)", function () {
    this.timeout(30_000);
    const labs: Lab[] = [];
    const open = async (t?: Parameters<typeof lab>[0]) => {
        const l = await lab(t);
        labs.push(l);
        return l;
    };
    after(() => {
        for (const l of labs) l.registry.close();
    });

    it("releases: lists successful releases newest first and marks the running one", async () => {
        const l = await open();
        const r = await run(l, releases, ["--stack", "staging"]);
        assert.strictEqual(r.code, 0, r.err);
        const lines = r.out.trim().split("\n");
        assert.deepStrictEqual(
            lines.map((x) =>
                x
                    .slice(2)
                    .split(/\s+/)
                    .slice(0, 3)
                    .filter((c) => !c.includes("T"))
                    .join(" "),
            ),
            ["#5 1.4.2", "#3 1.4.1", "#2 1.4.0", "#1 1.3.9"],
        );
        assert.ok(lines[0].startsWith("* "));
        assert.match(lines[0], /deploy 1\.4\.2 \(Maria\)/);
        const json = JSON.parse((await run(l, releases, ["--stack", "staging", "--json"])).out);
        assert.strictEqual(json.releases.length, 4);
        assert.deepStrictEqual(json.current.services.app.tag, "1.4.2");
    });

    it("rollback: goes back to the release before the current one, verified in the registry, with progress", async () => {
        const l = await open();
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /rolling back from 1\.4\.2 .* to 1\.4\.1/);
        assert.match(r.out, /target: app 1\.4\.1 \(sha256:2222.*\), present in the registry/);
        assert.match(r.out, /\[\s+\d+\.\ds\] replace\s+staging-web-1-app/);
        assert.match(
            r.out,
            /release: \{"services":\{"app":\{"repository":"ghcr.io\/acme-shop\/shop","tag":"1.4.1","digest":"sha256:2222/,
        );
        const app = servicesOf(l, "staging").app;
        assert.deepStrictEqual([app.tag, app.digest, app.pin], ["1.4.1", D(2), `1.4.1@${D(2)}`]);
        const order = ops(l);
        assert.ok(order.includes("preview") && order.indexOf("preview") < order.indexOf("up"), "preview before up");
        assert.ok(
            calls(l).some(
                (c) => c.op === "setConfig" && c.key === "platform:services.app.digest" && c.value === D(2) && c.path,
            ),
        );
        assert.deepStrictEqual(
            [...new Set(writtenKeys(l))],
            ["platform:services.app.tag", "platform:services.app.digest", "platform:services.app.pin"],
            "only the service's image keys",
        );
        assert.ok(l.pulls > 0, "asked the registry");
    });

    it("rollback --to a tag, with --json for the workflow", async () => {
        const l = await open();
        const r = await run(l, rollback, [
            "--stack",
            "staging",
            "--to",
            "1.4.0",
            "--yes",
            "--json",
            "--registry-url",
            l.url,
        ]);
        l.manifests.set("1.4.0", D(1));
        assert.strictEqual(r.code, 2, "1.4.0's digest was not in the registry yet");
        l.manifests.set(D(1), D(1));
        const ok = await run(l, rollback, [
            "--stack",
            "staging",
            "--to",
            "1.4.0",
            "--yes",
            "--json",
            "--registry-url",
            l.url,
        ]);
        const json = JSON.parse(ok.out);
        assert.strictEqual(ok.code, 0, ok.err);
        assert.deepStrictEqual(
            [json.action, json.result, json.to.app.tag, json.to.app.digest],
            ["rollback", "succeeded", "1.4.0", D(1)],
        );
        assert.strictEqual(json.changes.length, 3);
        assert.match(ok.err, /rolling back/, "progress goes to stderr in --json mode");
    });

    it("rollback --reason: says why in one line, in the progress and in --json", async () => {
        const l = await open();
        const reason = "post-deploy check failed: GET / answered 500, expected 200";
        const r = await run(l, rollback, [
            "--stack",
            "staging",
            "--yes",
            "--json",
            "--reason",
            reason,
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.err, /^rolling back because: post-deploy check failed: GET \/ answered 500, expected 200$/m);
        assert.strictEqual(JSON.parse(r.out).because, reason);
    });

    it("refuses (exit 3) without --yes and leaves the stack file as it was", async () => {
        const l = await open();
        const before = fs.readFileSync(path.join(l.dir, "Pulumi.staging.yaml"), "utf8");
        const r = await run(l, rollback, ["--stack", "staging", "--registry-url", l.url]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /refused: nothing changed: re-run with --yes/);
        assert.ok(ops(l).includes("preview") && !ops(l).includes("up"));
        assert.strictEqual(fs.readFileSync(path.join(l.dir, "Pulumi.staging.yaml"), "utf8"), before);
    });

    it("refuses a rollback whose preview touches more than the containers, unless --force", async () => {
        const l = await open({
            changes: [
                ...CONTAINER_CHANGES,
                { op: "replace", type: "digitalocean:index/droplet:Droplet", name: "staging-web-1" },
            ],
        });
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /! replace\s+digitalocean:index\/droplet:Droplet staging-web-1/);
        assert.match(r.out, /refused: 1 change\(s\) outside the containers/);
        assert.strictEqual(servicesOf(l, "staging").app.tag, "1.4.2", "config restored");
        const forced = await run(l, rollback, ["--stack", "staging", "--yes", "--force", "--registry-url", l.url]);
        assert.strictEqual(forced.code, 0, forced.err);
    });

    it("fails (exit 1) when the update fails, saying so in one line", async () => {
        const l = await open({ fail: "upError" });
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /FAILED\s+staging-web-1-image/);
        assert.match(r.out, /failed: update failed/);
    });

    const errorCases: [string, Parameters<typeof lab>[0], string[], RegExp, { noPulumi?: boolean }?][] = [
        ["an unknown stack", {}, ["--stack", "qa"], /^error: unknown stack "qa": no Pulumi\.qa\.yaml/],
        [
            "no earlier release",
            { history: [entry(1, "1.4.2", D(3))] },
            ["--stack", "staging"],
            /^error: no earlier release/,
        ],
        [
            "a target not in the history",
            {},
            ["--stack", "staging", "--to", "9.9.9"],
            /^error: target 9\.9\.9 not found in the stack's release history \(known tags: 1\.4\.2, 1\.4\.1, 1\.4\.0, 1\.3\.9\)/,
        ],
        [
            "a target gone from the registry",
            {},
            ["--stack", "staging", "--to", "1.4.0"],
            /^error: ghcr\.io\/acme-shop\/shop@sha256:1111.* no longer exists in the registry/,
        ],
        [
            "pulumi not installed",
            {},
            ["--stack", "staging"],
            /^error: the pulumi CLI is not installed or not on PATH: install it with `curl -fsSL https:\/\/get\.pulumi\.com \| sh`/,
            { noPulumi: true },
        ],
        [
            "not logged in",
            { fail: "login" },
            ["--stack", "staging"],
            /^error: not logged in to a Pulumi backend: run `pulumi login`/,
        ],
        [
            "a stack lock held by another update",
            { fail: "locked" },
            ["--stack", "staging", "--yes"],
            /^error: stack staging is locked by another update in progress: .*`pulumi cancel --stack staging`/,
        ],
    ];
    for (const [what, setup, argv, expected, opts] of errorCases) {
        it(`explains ${what} in one line and exits 2`, async () => {
            const l = await open(setup);
            const r = await run(l, rollback, [...argv, "--registry-url", l.url], opts);
            assert.strictEqual(r.code, 2, r.out + r.err);
            assert.match(r.err, expected);
            assert.strictEqual(r.err.trim().split("\n").length, 1, r.err);
            assert.ok(!/\n\s+at /.test(r.err), "no stack trace");
            if (what === "a target gone from the registry")
                assert.ok(!ops(l).includes("setConfig"), "nothing changed before the check");
        });
    }

    it("pages through a long history", async () => {
        const long = Array.from({ length: 70 }, (_, i) =>
            entry(70 - i, i === 0 ? "1.4.2" : `1.0.${70 - i}`, i === 0 ? D(3) : ""),
        );
        const l = await open({ history: long });
        const r = await run(l, releases, ["--stack", "staging", "--json"]);
        assert.strictEqual(JSON.parse(r.out).releases.length, 70);
        assert.deepStrictEqual(
            calls(l)
                .filter((c) => c.op === "history")
                .map((c) => c.op === "history" && c.page),
            [1, 2],
            "two pages of 50",
        );
    });

    it("promote: sets prod to exactly the digest staging runs, through the same guard", async () => {
        const l = await open();
        const r = await run(l, promote, ["--from", "staging", "--to", "prod", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /promoting 1\.4\.2 \(sha256:3333.*\) from staging to prod \(now 1\.4\.1\)/);
        assert.deepStrictEqual([servicesOf(l, "prod").app.tag, servicesOf(l, "prod").app.digest], ["1.4.2", D(3)]);
        const explicit = await run(l, promote, [
            "--from",
            "staging",
            "--to",
            "prod",
            "--digest",
            D(9),
            "--tag",
            "1.3.9",
            "--yes",
            "--json",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(JSON.parse(explicit.out).release.services.app.digest, D(9));
        const bad = await run(l, promote, ["--from", "staging", "--to", "staging"]);
        assert.strictEqual(bad.code, 2);
    });

    it("pin: writes the digest the configured tag has now, and keeps a digest already pinned", async () => {
        const l = await open();
        const first = await run(l, pin, ["--stack", "staging", "--registry-url", l.url, "--json"]);
        assert.strictEqual(first.code, 0, first.err);
        assert.deepStrictEqual(JSON.parse(first.out), {
            stack: "staging",
            action: "pin",
            result: "succeeded",
            changed: true,
            services: { app: { tag: "1.4.2", digest: D(3), changed: true } },
        });
        assert.strictEqual(servicesOf(l, "staging").app.digest, D(3));
        l.manifests.set("1.4.2", D(9)); // the tag moved in the registry
        const again = await run(l, pin, ["--stack", "staging", "--registry-url", l.url]);
        assert.strictEqual(again.code, 0, again.err);
        assert.match(again.out, /1\.4\.2 stays pinned to sha256:3333/);
        l.manifests.delete(D(3));
        const gone = await run(l, pin, ["--stack", "staging", "--registry-url", l.url]);
        assert.strictEqual(gone.code, 2);
        assert.match(gone.err, /no longer exists in the registry/);
    });

    it("as a process: one error line, exit 2, no stack trace", () => {
        const res = spawnSync(process.execPath, ["--import", "tsx", "tools/rollback.ts", "--stack", "nope"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        assert.strictEqual(res.status, 2);
        assert.match(res.stderr, /^error: unknown stack "nope"/);
        assert.strictEqual(res.stderr.trim().split("\n").length, 1);
    });
});

/** A stack of two services (api, web) from two repositories; its history is test/fixtures/histories/sets.json. */
const SETS_HISTORY: HistoryEntry[] = JSON.parse(
    fs.readFileSync(path.join(__dirname, "fixtures", "histories", "sets.json"), "utf8"),
);
type Img = [tag: string, digest?: string];

/** Replaces a lab stack's one service by two (api, web), and its state by a two-service stack's. */
function asServicesStack(l: Lab, stack: string, api: Img, web: Img, history: HistoryEntry[]): void {
    const file = path.join(l.dir, `Pulumi.${stack}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8"));
    const svc = (image: string, [tag, digest]: Img, port: number) => ({
        image,
        tag,
        ...(digest ? { digest, pin: `${tag}@${digest}` } : {}),
        port,
    });
    doc.config["platform:services"] = {
        api: svc(`ghcr.io/${REPO}`, api, 3000),
        web: svc(`ghcr.io/${WEB_REPO}`, web, 80),
    };
    fs.writeFileSync(file, stringify(doc));
    const rec = (repo: string, [tag, digest]: Img) => ({
        repository: `ghcr.io/${repo}`,
        tag,
        digest,
        image: `ghcr.io/${repo}@${digest}`,
    });
    l.fake.stacks[stack].history = structuredClone(history);
    l.fake.stacks[stack].outputs.release = { services: { api: rec(REPO, api), web: rec(WEB_REPO, web) } };
    for (const [ref, digest] of [
        ["1.5.0", D(5)],
        ["2.4.0", D(7)],
        ["2.3.0", D(6)],
        ["2.2.0", D(4)],
        [D(4), D(4)],
        [D(5), D(5)],
        [D(6), D(6)],
        [D(7), D(7)],
    ])
        l.manifests.set(ref, digest);
}

const servicesOf = (l: Lab, stack: string) =>
    stackYaml(l, stack)["platform:services"] as Record<string, { tag: string; digest?: string; pin?: string }>;
/** The config keys the tool wrote (`config set` and `config rm`), in order. */
const writtenKeys = (l: Lab) =>
    calls(l).flatMap((c) => (c.op === "setConfig" || c.op === "removeConfig" ? [c.key] : []));

describe("release tools on release sets (Automation API stand-in)", function () {
    this.timeout(30_000);
    const labs: Lab[] = [];
    /** staging runs api 1.5.0 + web 2.4.0 (sets.json); prod runs api 1.4.2 + web 2.3.0. */
    const open = async () => {
        const l = await lab();
        labs.push(l);
        asServicesStack(l, "staging", ["1.5.0", D(5)], ["2.4.0", D(7)], SETS_HISTORY);
        asServicesStack(
            l,
            "prod",
            ["1.4.2", D(3)],
            ["2.3.0", D(6)],
            SETS_HISTORY.filter((h) => h.version === 3),
        );
        return l;
    };
    after(() => {
        for (const l of labs) l.registry.close();
    });

    it("rollback: goes back to the newest set that differs from what runs, both services verified", async () => {
        const l = await open();
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--json", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        const json = JSON.parse(r.out);
        // v7 runs api 1.5.0 + web 2.4.0; v6 failed; v5 ran api 1.5.0 + web 2.3.0.
        assert.deepStrictEqual([json.to.api.tag, json.to.web.tag, json.to.web.digest], ["1.5.0", "2.3.0", D(6)]);
        assert.match(r.err, /target: api 1\.5\.0 \(sha256:5555.*\), present in the registry/);
        assert.match(r.err, /target: web 2\.3\.0 \(sha256:6666.*\), present in the registry/);
        const svc = servicesOf(l, "staging");
        assert.deepStrictEqual(
            [svc.api.tag, svc.api.digest, svc.web.tag, svc.web.digest, svc.web.pin],
            ["1.5.0", D(5), "2.3.0", D(6), `2.3.0@${D(6)}`],
        );
        assert.deepStrictEqual(Object.keys(json.release.services), ["api", "web"]);
        assert.ok(
            writtenKeys(l).every((k) => k.startsWith("platform:services.")),
            "path keys only",
        );
    });

    it("rollback --to <n>: the set that update ran; a release of a service the stack no longer has is refused", async () => {
        const l = await open();
        const r = await run(l, rollback, ["--stack", "staging", "--to", "3", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.deepStrictEqual(
            [servicesOf(l, "staging").api.tag, servicesOf(l, "staging").web.tag],
            ["1.4.2", "2.3.0"],
        );
        const gone = await run(l, rollback, ["--stack", "staging", "--to", "1", "--yes", "--registry-url", l.url]);
        assert.strictEqual(gone.code, 2);
        assert.match(gone.err, /^error: staging has no service app: its services are api, web$/m);
    });

    it("rollback --service: accepted when the combination ran together, and changes only that service's config", async () => {
        const l = await open();
        const before = servicesOf(l, "staging").api;
        const r = await run(l, rollback, ["--stack", "staging", "--service", "web", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /rolling back web from 2\.4\.0 .* to 2\.3\.0/);
        assert.deepStrictEqual(servicesOf(l, "staging").api, before);
        assert.strictEqual(servicesOf(l, "staging").web.tag, "2.3.0");
        const keys = writtenKeys(l);
        assert.ok(keys.length > 0 && keys.every((k) => k.startsWith("platform:services.web.")), keys.join(" "));
    });

    it("rollback --service: refused (exit 3) when the combination never ran together; --force deploys it", async () => {
        const l = await open();
        const file = fs.readFileSync(path.join(l.dir, "Pulumi.staging.yaml"), "utf8");
        // api's previous image is 1.4.2 (v3), which never ran with web 2.4.0.
        const r = await run(l, rollback, [
            "--stack",
            "staging",
            "--service",
            "api",
            "--yes",
            "--json",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(r.code, 3, r.err + r.out);
        const json = JSON.parse(r.out);
        assert.strictEqual(json.result, "refused");
        assert.match(json.reason, /^api 1\.4\.2, web 2\.4\.0 never ran together in staging's history: .*--force/);
        assert.match(r.err, /^refused: .*never ran together.*--force/m);
        assert.strictEqual(
            fs.readFileSync(path.join(l.dir, "Pulumi.staging.yaml"), "utf8"),
            file,
            "stack file untouched",
        );
        assert.deepStrictEqual(writtenKeys(l), []);
        assert.ok(!ops(l).includes("preview") && !ops(l).includes("up"));

        const forced = await run(l, rollback, [
            "--stack",
            "staging",
            "--service",
            "api",
            "--yes",
            "--force",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(forced.code, 0, forced.err + forced.out);
        assert.match(forced.out, /note: api 1\.4\.2, web 2\.4\.0 never ran together/);
        assert.deepStrictEqual(
            [servicesOf(l, "staging").api.tag, servicesOf(l, "staging").web.tag],
            ["1.4.2", "2.4.0"],
        );
        assert.ok(writtenKeys(l).every((k) => k.startsWith("platform:services.api.")));
    });

    it("a refused set puts back the keys it wrote, and removes those that were absent", async () => {
        const l = await open();
        // prod's web has no digest or pin yet; a refused preview must not leave any behind.
        asServicesStack(
            l,
            "prod",
            ["1.4.2", D(3)],
            ["2.3.0"],
            SETS_HISTORY.filter((h) => h.version === 3),
        );
        const file = fs.readFileSync(path.join(l.dir, "Pulumi.prod.yaml"), "utf8");
        const r = await run(l, promote, ["--from", "staging", "--to", "prod", "--registry-url", l.url]);
        assert.strictEqual(r.code, 3, r.err + r.out);
        assert.match(r.out, /refused: nothing changed: re-run with --yes/);
        assert.deepStrictEqual(parse(fs.readFileSync(path.join(l.dir, "Pulumi.prod.yaml"), "utf8")), parse(file));
    });

    it("promote: copies exactly the set staging runs; --service promotes one service", async () => {
        const l = await open();
        const one = await run(l, promote, [
            "--from",
            "staging",
            "--to",
            "prod",
            "--service",
            "web",
            "--yes",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(one.code, 0, one.err + one.out);
        assert.match(
            one.out,
            /promoting 2\.4\.0 \(sha256:7777.*\) from staging to prod \(now api 1\.4\.2, web 2\.3\.0\)/,
        );
        assert.deepStrictEqual([servicesOf(l, "prod").api.tag, servicesOf(l, "prod").web.tag], ["1.4.2", "2.4.0"]);
        const all = await run(l, promote, [
            "--from",
            "staging",
            "--to",
            "prod",
            "--yes",
            "--json",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(all.code, 0, all.err + all.out);
        const prod = servicesOf(l, "prod");
        assert.deepStrictEqual(
            [prod.api.tag, prod.api.digest, prod.web.tag, prod.web.digest],
            ["1.5.0", D(5), "2.4.0", D(7)],
        );
        assert.deepStrictEqual(
            setOfRecord(JSON.parse(all.out).release),
            setOfRecord(l.fake.stacks.staging.outputs.release as Parameters<typeof setOfRecord>[0]),
        );
        const ambiguous = await run(l, promote, [
            "--from",
            "staging",
            "--to",
            "prod",
            "--digest",
            D(5),
            "--tag",
            "1.5.0",
            "--registry-url",
            l.url,
        ]);
        assert.strictEqual(ambiguous.code, 2);
        assert.match(
            ambiguous.err,
            /^error: --digest and --tag name one service's image, and prod runs api, web: add --service <name>$/m,
        );
    });

    it("releases: one row per set with each service's tag and short digest; --json has the sets", async () => {
        const l = await open();
        const r = await run(l, releases, ["--stack", "staging"]);
        assert.strictEqual(r.code, 0, r.err);
        const lines = r.out.trim().split("\n");
        assert.strictEqual(lines.length, 5, r.out);
        assert.match(lines[0], /^\* #7 .* api 1\.5\.0 \(555555555555\), web 2\.4\.0 \(777777777777\) /);
        assert.match(lines[1], /^ {2}#5 .* api 1\.5\.0 \(555555555555\), web 2\.3\.0 \(666666666666\) /);
        assert.match(
            lines[4],
            /^ {2}#1 .* 1\.4\.2 +sha256:333333333333 +restore point/,
            "the one-service release before api and web",
        );
        const json = JSON.parse((await run(l, releases, ["--stack", "staging", "--json"])).out);
        assert.deepStrictEqual(
            json.releases.map((x: { version: number; services: ReleaseSet }) => [
                x.version,
                Object.keys(x.services).join("+"),
            ]),
            [
                [7, "api+web"],
                [5, "api+web"],
                [3, "api+web"],
                [2, "api+web"],
                [1, "app"],
            ],
        );
    });

    it("pin: pins every service's tag to its digest, or only --service", async () => {
        const l = await open();
        asServicesStack(l, "prod", ["1.5.0"], ["2.4.0"], []);
        const one = await run(l, pin, ["--stack", "prod", "--service", "web", "--json", "--registry-url", l.url]);
        assert.strictEqual(one.code, 0, one.err);
        assert.deepStrictEqual(JSON.parse(one.out).services, { web: { tag: "2.4.0", digest: D(7), changed: true } });
        assert.strictEqual(servicesOf(l, "prod").api.digest, undefined);
        const all = await run(l, pin, ["--stack", "prod", "--registry-url", l.url]);
        assert.strictEqual(all.code, 0, all.err);
        assert.match(all.out, /prod: pinned api 1\.5\.0 to sha256:5555/);
        assert.match(all.out, /prod: web 2\.4\.0 stays pinned to sha256:7777/);
        assert.deepStrictEqual(servicesOf(l, "prod").api, {
            tag: "1.5.0",
            digest: D(5),
            pin: `1.5.0@${D(5)}`,
            image: `ghcr.io/${REPO}`,
            port: 3000,
        });
        // A hand edit of a pinned service's tag is caught, with the commands that re-pin it.
        const doc = parse(fs.readFileSync(path.join(l.dir, "Pulumi.prod.yaml"), "utf8"));
        doc.config["platform:services"].api.tag = "1.5.1";
        fs.writeFileSync(path.join(l.dir, "Pulumi.prod.yaml"), stringify(doc));
        const edited = await run(l, pin, ["--stack", "prod", "--registry-url", l.url]);
        assert.strictEqual(edited.code, 2);
        assert.match(
            edited.err,
            /services\.api\.tag 1\.5\.1 is not the tag services\.api\.digest was pinned for \(1\.5\.0\); re-pin: pulumi config rm --path services\.api\.digest --stack prod/,
        );
    });
});

describe("--json errors are JSON on stdout", function () {
    this.timeout(30_000);
    const labs: Lab[] = [];
    after(() => {
        for (const l of labs) l.registry.close();
    });
    const cases: [string, Tool, string[], RegExp][] = [
        ["rollback", rollback, ["--stack", "qa"], /^unknown stack "qa"/],
        ["rollback", rollback, ["--stack"], /^--stack needs a value$/],
        ["rollback", rollback, ["--stack", "staging", "--bogus"], /^unknown argument --bogus$/],
        ["promote", promote, ["--from", "staging", "--to", "staging"], /^--from and --to name the same stack$/],
        ["releases", releases, ["--stack", "staging", "--since", "9d"], /^--since applies to --dora only$/],
        ["pin", pin, ["--stack", "staging", "--service", "web"], /^staging has no service web: its services are app/],
        ["restore", restore, ["--stack", "staging"], /^give exactly one of --to-release/],
        ["post-deploy-check", postDeployCheck, ["--window", "5"], /^--stack is required/],
    ];
    for (const [name, tool, argv, expected] of cases) {
        it(`${name} ${argv.join(" ")}: exit 2, one JSON object on stdout, nothing on stderr`, async () => {
            const l = await lab();
            labs.push(l);
            // post-deploy-check reads the repository's stack files: it takes no --work-dir.
            const r =
                name === "post-deploy-check"
                    ? await direct(tool, [...argv, "--json"])
                    : await run(l, tool, [...argv, "--json"]);
            assert.strictEqual(r.code, 2, r.out + r.err);
            const json = JSON.parse(r.out);
            assert.deepStrictEqual([json.action, json.result], [name, "error"]);
            assert.match(json.error, expected);
            assert.strictEqual(r.err, "");
        });
    }
});

describe("release history (pure)", () => {
    const hist = [
        entry(3, "1.4.2", D(3)),
        entry(2, "1.4.1", D(2), "failed"),
        entry(1, "1.4.0", D(1)),
        { ...entry(0, "1.3.0", D(4)), kind: "preview" },
    ];
    it("keeps successful updates only, with tag, digest, time, message and author", () => {
        const r = releasesFromHistory(hist);
        assert.deepStrictEqual(
            r.map((x) => [x.services.app.tag, x.services.app.digest, x.author]),
            [
                ["1.4.2", D(3), "Maria"],
                ["1.4.0", D(1), "Maria"],
            ],
        );
        assert.match(r[0].time, /^2026-11-13T/);
    });
    it("picks the previous release, or a named tag or digest", () => {
        const r = releasesFromHistory(hist);
        assert.strictEqual(pickTarget(r, { app: { tag: "1.4.2", digest: D(3) } }).services.app.tag, "1.4.0");
        assert.strictEqual(pickTarget(r, { app: { tag: "1.4.2" } }, D(1)).services.app.tag, "1.4.0");
        assert.strictEqual(
            pickTarget(r, { app: { tag: "1.4.2" } }, "1").services.app.tag,
            "1.4.0",
            "a number is the update's version",
        );
        assert.throws(() => pickTarget([], {}), /no release/);
    });
    it("reads a history of sets: each service's image, including an update that ran one service, app", () => {
        const r = releasesFromHistory(SETS_HISTORY);
        assert.deepStrictEqual(
            r.map((x) => x.version),
            [7, 5, 3, 2, 1],
            "failed updates and refreshes are not releases",
        );
        assert.deepStrictEqual(r[0].services, {
            api: { tag: "1.5.0", digest: D(5), repository: `ghcr.io/${REPO}` },
            web: { tag: "2.4.0", digest: D(7), repository: `ghcr.io/${WEB_REPO}` },
        });
        assert.deepStrictEqual(r[4].services, { app: { tag: "1.4.2", digest: D(3), repository: `ghcr.io/${REPO}` } });
    });
    it("a set ran together only when every service's image matches one release", () => {
        const r = releasesFromHistory(SETS_HISTORY);
        assert.strictEqual(
            deployedTogether(r, { api: { tag: "1.5.0", digest: D(5) }, web: { tag: "2.3.0", digest: D(6) } })?.version,
            5,
        );
        assert.strictEqual(
            deployedTogether(r, { api: { tag: "1.4.2", digest: D(3) }, web: { tag: "2.4.0", digest: D(7) } }),
            undefined,
        );
        assert.strictEqual(
            deployedTogether(r, { api: { tag: "1.5.0", digest: D(8) }, web: { tag: "2.3.0", digest: D(6) } }),
            undefined,
            "the same tag with another digest is another image",
        );
        assert.strictEqual(
            deployedTogether(r, { api: { tag: "1.4.2", digest: D(3) } }),
            undefined,
            "a subset is not the set",
        );
    });
    it("rollback --service picks that service's previous image; --to matches that service's tag", () => {
        const r = releasesFromHistory(SETS_HISTORY);
        const now = r[0].services;
        assert.strictEqual(pickTarget(r, now, "previous", "api").version, 3);
        assert.strictEqual(pickTarget(r, now, "previous", "web").version, 5);
        assert.strictEqual(pickTarget(r, now, "2.2.0", "web").version, 2);
        assert.throws(
            () => pickTarget(r, now, "2.2.0", "api"),
            /target 2\.2\.0 not found in the stack's release history of service api \(known tags: 1\.5\.0, 1\.4\.2\)/,
        );
        assert.throws(() => pickTarget(r, now, "previous", "worker"), /no release of service worker/);
        const numbered = releasesFromHistory([entry(3, "2", D(3)), entry(2, "1.0.1", D(2)), entry(1, "1.0.0", D(1))]);
        assert.throws(
            () => pickTarget(numbered, numbered[0].services, "2"),
            /--to 2 names both update #2 and the release tagged 2 \(update #3\): give that release's digest instead/,
        );
    });
    it("reads the release record: each service's image", () => {
        const app = { repository: `ghcr.io/${REPO}`, tag: "1.4.2", digest: D(3), image: "x" };
        const two = { services: { api: { ...app, tag: "1.5.0", digest: D(5) }, web: { tag: "2.4.0", digest: "" } } };
        assert.deepStrictEqual(setOfRecord(two), {
            api: { tag: "1.5.0", digest: D(5), repository: `ghcr.io/${REPO}` },
            web: { tag: "2.4.0", digest: undefined, repository: undefined },
        });
        assert.deepStrictEqual(setOfRecord({}), {});
        assert.ok(
            sameSet(setOfRecord({ services: { app } }), { app: { tag: "1.4.2" } }),
            "an unknown digest does not make a difference",
        );
    });
    it("separates container-side changes from everything else", () => {
        const changes = changesFromEvents([
            { resourcePreEvent: { metadata: { op: "same", type: "digitalocean:index/vpc:Vpc", urn: "u::vpc" } } },
            {
                resourcePreEvent: {
                    metadata: { op: "create-replacement", type: "docker:index/container:Container", urn: "u::app" },
                },
            },
            {
                resourcePreEvent: {
                    metadata: { op: "replace", type: "docker:index/container:Container", urn: "u::app" },
                },
            },
            {
                resourcePreEvent: {
                    metadata: { op: "update", type: "digitalocean:index/dnsRecord:DnsRecord", urn: "u::api" },
                },
            },
            // The same event delivered twice counts once.
            {
                resourcePreEvent: {
                    metadata: { op: "update", type: "digitalocean:index/dnsRecord:DnsRecord", urn: "u::api" },
                },
            },
            { summaryEvent: {} },
        ]);
        assert.deepStrictEqual(
            changes.map((c) => `${c.op} ${c.name}`),
            ["replace app", "update api"],
        );
        assert.deepStrictEqual(
            outsideContainers(changes).map((c) => c.name),
            ["api"],
        );
    });
    it("reads a registry's bearer challenge", () => {
        assert.deepStrictEqual(
            parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'),
            { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:a/b:pull" },
        );
    });
});
