/**
 * The release tools against a fake `pulumi` on PATH: real Automation API code, fake engine,
 * and a fake registry on 127.0.0.1 speaking the token handshake.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main as pin } from "../tools/pin";
import { main as promote } from "../tools/promote";
import { main as releases } from "../tools/releases";
import { main as rollback } from "../tools/rollback";
import { changesFromEvents, outsideContainers, pickTarget, releasesFromHistory } from "../tools/lib/releases";
import { parseChallenge } from "../tools/lib/registry";
import "./fixtures/fake-pulumi/inprocess"; // the fake CLI runs in this process: no Node start per call

const ROOT = path.join(__dirname, "..");
const FAKE_BIN = path.join(__dirname, "fixtures", "fake-pulumi");
const FIXTURE_STACKS = path.join(__dirname, "fixtures", "stacks");
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const REPO = "acme-shop/shop";

const CONTAINER_CHANGES = [
    { op: "update", type: "docker:index/remoteImage:RemoteImage", name: "staging-web-1-image" },
    { op: "replace", type: "docker:index/container:Container", name: "staging-web-1-app" },
    { op: "replace", type: "command:local:Command", name: "staging-web-1-cutover" },
];

function entry(version: number, tag: string, digest: string, result = "succeeded", kind = "update") {
    const t = new Date(Date.UTC(2026, 10, 10 + version)).toISOString();
    return {
        version, kind, startTime: t, message: `deploy ${tag}`, environment: { "exec.kind": "auto.local", "git.author": "Maria" },
        config: { "platform:imageTag": { value: tag, secret: false }, "platform:imageDigest": { value: digest, secret: false }, "platform:ghcrToken": { value: "ghp_secret", secret: true } },
        result, endTime: t, resourceChanges: { same: 60 },
    };
}

interface Lab { dir: string; state: string; log: string; registry: http.Server; url: string; manifests: Map<string, string>; pulls: number }

async function lab(t: { history?: unknown[]; changes?: unknown[]; fail?: string; extra?: Record<string, unknown> } = {}): Promise<Lab> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
    // The stack files are the tests' own fixture (team A), not the repository's: a team's edits never reach here.
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const f of ["Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(FIXTURE_STACKS, f), path.join(dir, f));
    const stackState = (tag: string, digest: string) => ({
        history: t.history ?? [entry(5, "1.4.2", D(3)), entry(4, "1.4.2", D(3), "failed"), entry(3, "1.4.1", D(2)), entry(2, "1.4.0", D(1)), entry(1, "1.3.9", "")],
        outputs: { release: { repository: `ghcr.io/${REPO}`, tag, digest, image: `ghcr.io/${REPO}@${digest}` }, databaseUrl: "postgresql://x" },
        secretOutputs: ["databaseUrl"],
        secrets: { "platform:ghcrToken": "ghp_secret" },
        changes: t.changes ?? CONTAINER_CHANGES,
    });
    const state = path.join(dir, "fake-state.json");
    fs.writeFileSync(state, JSON.stringify({ fail: t.fail, stacks: { staging: stackState("1.4.2", D(3)), prod: { ...stackState("1.4.1", D(2)), ...(t.extra ?? {}) } } }));
    const manifests = new Map<string, string>([["1.4.2", D(3)], ["1.4.1", D(2)], ["1.3.9", D(9)], [D(3), D(3)], [D(2), D(2)], [D(9), D(9)]]);
    const l: Lab = { dir, state, log: path.join(dir, "argv.log"), registry: undefined as unknown as http.Server, url: "", manifests, pulls: 0 };
    l.registry = http.createServer((req, res) => {
        const u = new URL(req.url ?? "/", "http://x");
        if (u.pathname === "/token") {
            const ok = req.headers.authorization === `Basic ${Buffer.from("acme-shop-bot:ghp_secret").toString("base64")}`;
            res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(ok ? JSON.stringify({ token: "t0k" }) : "{}");
            return;
        }
        const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(u.pathname);
        if (!m || m[1] !== REPO) { res.writeHead(404).end(); return; }
        if (req.headers.authorization !== "Bearer t0k") {
            res.writeHead(401, { "www-authenticate": `Bearer realm="${l.url}/token",service="ghcr.io",scope="repository:${REPO}:pull"` }).end();
            return;
        }
        l.pulls++;
        const digest = manifests.get(decodeURIComponent(m[2]));
        if (!digest) { res.writeHead(404).end(); return; }
        res.writeHead(200, { "docker-content-digest": digest }).end();
    });
    await new Promise<void>((r) => l.registry.listen(0, "127.0.0.1", r));
    l.url = `http://127.0.0.1:${(l.registry.address() as { port: number }).port}`;
    return l;
}

type Tool = (argv: string[], io: { out: (s: string) => void; err: (s: string) => void }) => Promise<number>;

/** Runs a tool in-process with the fake CLI first on PATH (or with no pulumi at all). */
async function run(l: Lab, tool: Tool, argv: string[], opts: { noPulumi?: boolean } = {}) {
    const saved = { PATH: process.env.PATH, FAKE_PULUMI_STATE: process.env.FAKE_PULUMI_STATE, FAKE_PULUMI_LOG: process.env.FAKE_PULUMI_LOG };
    process.env.PATH = opts.noPulumi ? "/usr/bin:/bin" : `${FAKE_BIN}:${saved.PATH}`;
    process.env.FAKE_PULUMI_STATE = l.state;
    process.env.FAKE_PULUMI_LOG = l.log;
    let out = "";
    let err = "";
    try {
        const code = await tool([...argv, "--work-dir", l.dir], { out: (s) => { out += s; }, err: (s) => { err += s; } });
        return { code, out, err };
    } finally {
        Object.assign(process.env, saved);
    }
}

const calls = (l: Lab): string[][] => (fs.existsSync(l.log) ? fs.readFileSync(l.log, "utf8").trim().split("\n").map((x) => JSON.parse(x)) : []);
const stackYaml = (l: Lab, stack: string) => parse(fs.readFileSync(path.join(l.dir, `Pulumi.${stack}.yaml`), "utf8")).config;

describe("release tools (fake pulumi CLI)", function () {
    this.timeout(30_000);
    const labs: Lab[] = [];
    const open = async (t?: Parameters<typeof lab>[0]) => { const l = await lab(t); labs.push(l); return l; };
    after(() => { for (const l of labs) l.registry.close(); });

    it("releases: lists successful releases newest first and marks the running one", async () => {
        const l = await open();
        const r = await run(l, releases, ["--stack", "staging"]);
        assert.strictEqual(r.code, 0, r.err);
        const lines = r.out.trim().split("\n");
        assert.deepStrictEqual(lines.map((x) => x.slice(2).split(/\s+/)[1]), ["1.4.2", "1.4.1", "1.4.0", "1.3.9"]);
        assert.ok(lines[0].startsWith("* "));
        assert.match(lines[0], /deploy 1\.4\.2 \(Maria\)/);
        const json = JSON.parse((await run(l, releases, ["--stack", "staging", "--json"])).out);
        assert.strictEqual(json.releases.length, 4);
        assert.deepStrictEqual(json.current.tag, "1.4.2");
    });

    it("rollback: goes back to the release before the current one, verified in the registry, with progress", async () => {
        const l = await open();
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /rolling back from 1\.4\.2 .* to 1\.4\.1/);
        assert.match(r.out, /target: 1\.4\.1 \(sha256:2222.*\), present in the registry/);
        assert.match(r.out, /\[\s+\d+\.\ds\] replace\s+staging-web-1-app/);
        assert.match(r.out, /release: \{"repository":"ghcr.io\/acme-shop\/shop","tag":"1.4.1","digest":"sha256:2222/);
        const cfg = stackYaml(l, "staging");
        assert.strictEqual(cfg["platform:imageTag"], "1.4.1");
        assert.strictEqual(cfg["platform:imageDigest"], D(2));
        const argv = calls(l);
        const order = argv.map((a) => a.slice(0, 2).join(" "));
        assert.ok(order.indexOf("preview --exec-kind") < order.indexOf("up --yes"), "preview before up");
        assert.ok(argv.some((a) => a[0] === "config" && a[1] === "set" && a[2] === "platform:imageDigest" && a.at(-1) === D(2)));
        assert.ok(argv.some((a) => a[0] === "stack" && a[1] === "history" && a.includes("--page-size")), "pages the history explicitly");
        assert.ok(l.pulls > 0, "asked the registry");
    });

    it("rollback --to a tag, with --json for the workflow", async () => {
        const l = await open();
        const r = await run(l, rollback, ["--stack", "staging", "--to", "1.4.0", "--yes", "--json", "--registry-url", l.url]);
        l.manifests.set("1.4.0", D(1));
        assert.strictEqual(r.code, 2, "1.4.0's digest was not in the registry yet");
        l.manifests.set(D(1), D(1));
        const ok = await run(l, rollback, ["--stack", "staging", "--to", "1.4.0", "--yes", "--json", "--registry-url", l.url]);
        const json = JSON.parse(ok.out);
        assert.strictEqual(ok.code, 0, ok.err);
        assert.deepStrictEqual([json.action, json.result, json.to.tag, json.to.digest], ["rollback", "succeeded", "1.4.0", D(1)]);
        assert.strictEqual(json.changes.length, 3);
        assert.match(ok.err, /rolling back/, "progress goes to stderr in --json mode");
    });

    it("rollback --reason: says why in one line, in the progress and in --json", async () => {
        const l = await open();
        const reason = "post-deploy check failed: GET / answered 500, expected 200";
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--json", "--reason", reason, "--registry-url", l.url]);
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
        assert.ok(!calls(l).some((a) => a[0] === "up"));
        assert.strictEqual(parse(fs.readFileSync(path.join(l.dir, "Pulumi.staging.yaml"), "utf8")).config["platform:imageTag"], parse(before).config["platform:imageTag"]);
    });

    it("refuses a rollback whose preview touches more than the containers, unless --force", async () => {
        const l = await open({ changes: [...CONTAINER_CHANGES, { op: "replace", type: "digitalocean:index/droplet:Droplet", name: "staging-web-1" }] });
        const r = await run(l, rollback, ["--stack", "staging", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /! replace\s+digitalocean:index\/droplet:Droplet staging-web-1/);
        assert.match(r.out, /refused: 1 change\(s\) outside the containers/);
        assert.strictEqual(stackYaml(l, "staging")["platform:imageTag"], "1.4.2", "config restored");
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
        ["no earlier release", { history: [entry(1, "1.4.2", D(3))] }, ["--stack", "staging"], /^error: no earlier release/],
        ["a target not in the history", {}, ["--stack", "staging", "--to", "9.9.9"], /^error: target 9\.9\.9 not found in the stack's release history \(known tags: 1\.4\.2, 1\.4\.1, 1\.4\.0, 1\.3\.9\)/],
        ["a target gone from the registry", {}, ["--stack", "staging", "--to", "1.4.0"], /^error: ghcr\.io\/acme-shop\/shop@sha256:1111.* no longer exists in the registry/],
        ["pulumi not installed", {}, ["--stack", "staging"], /^error: the pulumi CLI is not installed or not on PATH: install it with `curl -fsSL https:\/\/get\.pulumi\.com \| sh`/, { noPulumi: true }],
        ["not logged in", { fail: "login" }, ["--stack", "staging"], /^error: not logged in to a Pulumi backend: run `pulumi login`/],
        ["a stack lock held by another update", { fail: "locked" }, ["--stack", "staging", "--yes"], /^error: stack staging is locked by another update in progress: .*`pulumi cancel --stack staging`/],
    ];
    for (const [what, setup, argv, expected, opts] of errorCases) {
        it(`explains ${what} in one line and exits 2`, async () => {
            const l = await open(setup);
            const r = await run(l, rollback, [...argv, "--registry-url", l.url], opts);
            assert.strictEqual(r.code, 2, r.out + r.err);
            assert.match(r.err, expected);
            assert.strictEqual(r.err.trim().split("\n").length, 1, r.err);
            assert.ok(!/\n\s+at /.test(r.err), "no stack trace");
            if (what === "a target gone from the registry") assert.ok(!calls(l).some((a) => a[0] === "config" && a[1] === "set"), "nothing changed before the check");
        });
    }

    it("pages through a long history", async () => {
        const long = Array.from({ length: 70 }, (_, i) => entry(70 - i, i === 0 ? "1.4.2" : `1.0.${70 - i}`, i === 0 ? D(3) : ""));
        const l = await open({ history: long });
        const r = await run(l, releases, ["--stack", "staging", "--json"]);
        assert.strictEqual(JSON.parse(r.out).releases.length, 70);
        assert.ok(calls(l).some((a) => a.includes("--page") && a[a.indexOf("--page") + 1] === "2"));
    });

    it("promote: sets prod to exactly the digest staging runs, through the same guard", async () => {
        const l = await open();
        const r = await run(l, promote, ["--from", "staging", "--to", "prod", "--yes", "--registry-url", l.url]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /promoting 1\.4\.2 \(sha256:3333.*\) from staging to prod \(now 1\.4\.1\)/);
        const cfg = stackYaml(l, "prod");
        assert.deepStrictEqual([cfg["platform:imageTag"], cfg["platform:imageDigest"]], ["1.4.2", D(3)]);
        const explicit = await run(l, promote, ["--from", "staging", "--to", "prod", "--digest", D(9), "--tag", "1.3.9", "--yes", "--json", "--registry-url", l.url]);
        assert.strictEqual(JSON.parse(explicit.out).release.digest, D(9));
        const bad = await run(l, promote, ["--from", "staging", "--to", "staging"]);
        assert.strictEqual(bad.code, 2);
    });

    it("pin: writes the digest the configured tag has now, and keeps a digest already pinned", async () => {
        const l = await open();
        const first = await run(l, pin, ["--stack", "staging", "--registry-url", l.url, "--json"]);
        assert.strictEqual(first.code, 0, first.err);
        assert.deepStrictEqual(JSON.parse(first.out), { stack: "staging", action: "pin", result: "succeeded", tag: "1.4.2", digest: D(3), changed: true });
        assert.strictEqual(stackYaml(l, "staging")["platform:imageDigest"], D(3));
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
        const res = spawnSync(process.execPath, ["-r", "ts-node/register", "tools/rollback.ts", "--stack", "nope"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(res.status, 2);
        assert.match(res.stderr, /^error: unknown stack "nope"/);
        assert.strictEqual(res.stderr.trim().split("\n").length, 1);
    });
});

describe("release history (pure)", () => {
    const hist = [entry(3, "1.4.2", D(3)), entry(2, "1.4.1", D(2), "failed"), entry(1, "1.4.0", D(1)), { ...entry(0, "1.3.0", D(4)), kind: "preview" }];
    it("keeps successful updates only, with tag, digest, time, message and author", () => {
        const r = releasesFromHistory(hist);
        assert.deepStrictEqual(r.map((x) => [x.tag, x.digest, x.author]), [["1.4.2", D(3), "Maria"], ["1.4.0", D(1), "Maria"]]);
        assert.match(r[0].time, /^2026-11-13T/);
    });
    it("picks the previous release, or a named tag or digest", () => {
        const r = releasesFromHistory(hist);
        assert.strictEqual(pickTarget(r, { tag: "1.4.2", digest: D(3) }).tag, "1.4.0");
        assert.strictEqual(pickTarget(r, { tag: "1.4.2" }, D(1)).tag, "1.4.0");
        assert.throws(() => pickTarget([], {}), /no release/);
    });
    it("separates container-side changes from everything else", () => {
        const changes = changesFromEvents([
            { resourcePreEvent: { metadata: { op: "same", type: "digitalocean:index/vpc:Vpc", urn: "u::vpc" } } },
            { resourcePreEvent: { metadata: { op: "create-replacement", type: "docker:index/container:Container", urn: "u::app" } } },
            { resourcePreEvent: { metadata: { op: "replace", type: "docker:index/container:Container", urn: "u::app" } } },
            { resourcePreEvent: { metadata: { op: "update", type: "digitalocean:index/dnsRecord:DnsRecord", urn: "u::api" } } },
            { summaryEvent: {} },
        ]);
        assert.deepStrictEqual(changes.map((c) => `${c.op} ${c.name}`), ["replace app", "update api"]);
        assert.deepStrictEqual(outsideContainers(changes).map((c) => c.name), ["api"]);
    });
    it("reads a registry's bearer challenge", () => {
        assert.deepStrictEqual(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'),
            { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:a/b:pull" });
    });
});
