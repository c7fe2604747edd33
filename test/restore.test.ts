/**
 * `npm run restore` against a typed stand-in for the Automation API, on a stack file and history the test owns,
 * with the clock fixed at NOW. Pure decisions (window, names, restore points) are tested
 * directly at the end.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main as releases } from "../tools/releases";
import { main as restore } from "../tools/restore";
import { checkWindow, destructiveDataChanges, parseRestoreTime, releaseRestorePoint, restoredClusterName } from "../tools/lib/restore";
import { parseRestorePoint, releasesFromHistory } from "../tools/lib/releases";
import type { HistoryEntry } from "../tools/lib/releases";
import { FakeAutomation, FakeCall, FakeChange, FakeFailure } from "./fixtures/automation";

const ROOT = path.join(__dirname, "..");
const NOW = new Date("2026-11-23T12:00:00Z");
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const RESTORE_CHANGES = [
    { op: "create", type: CLUSTER, name: "prod-restored-cluster" },
    { op: "create", type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", name: "prod-restored-pool" },
    { op: "create", type: "digitalocean:index/databaseFirewall:DatabaseFirewall", name: "prod-restored-firewall" },
    { op: "replace", type: "docker:index/container:Container", name: "prod-web-1-app-app" },
    { op: "update", type: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", name: "prod-secret-DATABASE_URL" },
];

function entry(version: number, tag: string, digest: string, start: string): HistoryEntry {
    return {
        version, kind: "update", startTime: start, message: `deploy ${tag}`, environment: { "exec.kind": "cli" },
        config: { "platform:services": { value: JSON.stringify({ app: { image: "ghcr.io/example/app", tag, digest } }), secret: false } },
        result: "succeeded", endTime: new Date(Date.parse(start) + 300_000).toISOString(),
    };
}

interface Lab { dir: string; fake: FakeAutomation }

function lab(t: { changes?: FakeChange[]; fail?: FakeFailure; yaml?: Record<string, unknown> } = {}): Lab {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const config = { "platform:services": { app: { image: "ghcr.io/example/app", tag: "2.1.0", digest: D(3) } }, "platform:dbClusterName": "shop-pg", ...(t.yaml ?? {}) };
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), `config:\n${Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    const history = [
        entry(3, "2.1.0", D(3), "2026-11-22T09:00:00.000Z"),
        entry(2, "2.0.0", D(2), "2026-11-20T14:00:00.000Z"),
        entry(1, "1.9.0", D(1), "2026-11-10T08:00:00.000Z"),
    ];
    const fake = new FakeAutomation({ prod: {
        history, changes: t.changes ?? RESTORE_CHANGES,
        outputs: { release: { services: { app: { repository: "ghcr.io/example/app", tag: "2.1.0", digest: D(3) } }, restorePoint: "2026-11-22T09:01:30.250Z" } },
    } }, t.fail);
    return { dir, fake };
}

async function run(l: Lab, argv: string[]) {
    let out = "";
    let err = "";
    const code = await restore([...argv, "--work-dir", l.dir], { out: (s) => { out += s; }, err: (s) => { err += s; } }, { now: () => NOW, automation: l.fake });
    return { code, out, err };
}

const calls = (l: Lab): FakeCall[] => l.fake.calls;
const ops = (l: Lab): string[] => calls(l).map((c) => c.op);
const stackConfig = (l: Lab) => parse(fs.readFileSync(path.join(l.dir, "Pulumi.prod.yaml"), "utf8")).config;

describe("npm run restore (Automation API stand-in)", function () {
    this.timeout(30_000);

    it("--to-release: restores to the release's database-clock restore point, previews, then runs up", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-release", "2.1.0", "--yes"]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(r.out, /restoring shop-pg to 2026-11-22T09:01:30\.250Z \(release 2\.1\.0's restore point \(database clock/);
        assert.match(r.out, /create\s+digitalocean:index\/databaseCluster:DatabaseCluster prod-restored-cluster/);
        assert.match(r.out, /restored: the app now uses shop-pg-r20261122t0901; shop-pg is kept \(protected\)/);
        assert.deepStrictEqual(stackConfig(l)["platform:databaseRestore"], { sourceCluster: "shop-pg", time: "2026-11-22T09:01:30.250Z", clusterName: "shop-pg-r20261122t0901" });
        const order = ops(l);
        assert.ok(order.includes("setConfig") && order.lastIndexOf("setConfig") < order.indexOf("preview"), "config before preview");
        assert.ok(order.indexOf("preview") < order.indexOf("up"), "preview before up");
        assert.ok(calls(l).some((c) => c.op === "setConfig" && c.path && c.key === "platform:databaseRestore.time"));
    });

    it("--to-release of an older release without a recorded point uses its update's start, and says so", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-release", "2.0.0", "--yes", "--json"]);
        assert.strictEqual(r.code, 0, r.err);
        const json = JSON.parse(r.out);
        assert.deepStrictEqual([json.action, json.result, json.time, json.clusterName], ["restore", "succeeded", "2026-11-20T14:00:00Z", "shop-pg-r20261120t1400"]);
        assert.match(r.err, /the start of release 2\.0\.0's update \(it recorded no database-clock restore point/);
    });

    it("refuses a time outside the 7-day window, naming the window, and changes nothing", async () => {
        const l = lab();
        for (const argv of [["--to-release", "1.9.0"], ["--to-time", "2026-11-16T11:59:59Z"]]) {
            const r = await run(l, ["--stack", "prod", ...argv, "--yes"]);
            assert.strictEqual(r.code, 3, r.out + r.err);
            assert.match(r.out, /refused: .* is outside the restore window; DigitalOcean keeps 7 days of point-in-time recovery for managed Postgres: 2026-11-16T12:00:00Z to now \(2026-11-23T12:00:00Z\)/);
        }
        assert.ok(ops(l).includes("selectStack") && !ops(l).includes("setConfig"), "nothing set");
        assert.ok(!ops(l).includes("preview") && !ops(l).includes("up"));
        const future = await run(l, ["--stack", "prod", "--to-time", "2026-11-23T13:00:00+00:00"]);
        assert.strictEqual(future.code, 3);
        assert.match(future.out, /2026-11-23T13:00:00Z is in the future/);
        const edge = await run(l, ["--stack", "prod", "--to-time", "2026-11-16T13:00:00+01:00"]);
        assert.strictEqual(edge.code, 3, "12:00Z exactly is inside, but the command stops without --yes");
        assert.match(edge.out, /preview only/);
    });

    it("without --yes: previews, then removes the restore from the config again (exit 3)", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z"]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /refused: preview only: nothing changed; re-run with --yes to restore/);
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"], undefined);
        assert.ok(ops(l).includes("preview") && !ops(l).includes("up"));
        assert.ok(calls(l).some((c) => c.op === "removeConfig" && c.key === "platform:databaseRestore"));
    });

    it("refuses a preview that would replace or delete a cluster, whatever --yes says", async () => {
        const l = lab({ changes: [...RESTORE_CHANGES, { op: "replace", type: CLUSTER, name: "prod-cluster" }] });
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--yes"]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /! replace\s+digitalocean:index\/databaseCluster:DatabaseCluster prod-cluster/);
        assert.match(r.out, /refused: the preview would replace prod-cluster \(marked !\): a restore only adds a cluster/);
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"], undefined);
        assert.ok(ops(l).includes("preview") && !ops(l).includes("up"));
    });

    it("refuses a second restore while one is configured", async () => {
        const l = lab({ yaml: { "platform:databaseRestore": { sourceCluster: "shop-pg", time: "2026-11-21T08:30:00Z", clusterName: "shop-pg-r1" } } });
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-22T08:30:00Z", "--yes"]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /a restore is already configured in platform:databaseRestore/);
    });

    it("reports a failed update (exit 1) and keeps the config, so re-running up continues", async () => {
        const l = lab({ fail: "upError" });
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--yes"]);
        assert.strictEqual(r.code, 1, r.out + r.err);
        assert.match(r.out, /failed: update failed \(platform:databaseRestore stays set/);
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"].clusterName, "shop-pg-r20261121t0830");
    });

    it("releases shows each release's restore point: the database clock's when recorded, else the update's start", async () => {
        const l = lab();
        let out = "";
        assert.strictEqual(await releases(["--stack", "prod", "--work-dir", l.dir], { out: (x) => { out += x; }, err: (x) => { out += x; } }, l.fake), 0, out);
        const lines = out.trim().split("\n");
        assert.match(lines[0], /^\* .* 2\.1\.0 .* restore point db 2026-11-22T09:01:30\.250Z /);
        assert.match(lines[1], /^ {2}.* 2\.0\.0 .* restore point ~ {2}2026-11-20T14:00:00\.000Z /);
        out = "";
        await releases(["--stack", "prod", "--json", "--work-dir", l.dir], { out: (x) => { out += x; }, err: () => undefined }, l.fake);
        assert.deepStrictEqual(JSON.parse(out).releases.map((r: { restorePoint: { source: string } }) => r.restorePoint.source), ["database-clock", "update-start", "update-start"]);
    });

    const usage: [string, string[], RegExp][] = [
        ["both targets", ["--to-release", "2.1.0", "--to-time", "2026-11-21T08:30:00Z"], /^error: give exactly one of --to-release <tag> and --to-time <time>\n$/],
        ["no target", [], /^error: give exactly one of/],
        ["a time without a zone", ["--to-time", "2026-11-21 08:30"], /^error: --to-time "2026-11-21 08:30": expected an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z\n$/],
        ["an unknown release", ["--to-release", "9.9.9"], /^error: release 9\.9\.9 not found in the stack's history \(known tags: 2\.1\.0, 2\.0\.0, 1\.9\.0\)\n$/],
    ];
    for (const [what, argv, expected] of usage) {
        it(`explains ${what} in one line, exit 2`, async () => {
            const r = await run(lab(), ["--stack", "prod", ...argv]);
            assert.strictEqual(r.code, 2, r.out + r.err);
            assert.match(r.err, expected);
        });
    }
});

describe("restore decisions (pure)", () => {
    it("window: the last 7 days up to now, inclusive", () => {
        assert.doesNotThrow(() => checkWindow("2026-11-16T12:00:00Z", NOW));
        assert.doesNotThrow(() => checkWindow("2026-11-23T12:00:00Z", NOW));
        assert.throws(() => checkWindow("2026-11-16T11:59:59Z", NOW), /outside the restore window; DigitalOcean keeps 7 days/);
        assert.throws(() => checkWindow("2026-11-23T12:00:01Z", NOW), /in the future/);
    });
    it("times: zones normalised to UTC, zone-less times refused", () => {
        assert.strictEqual(parseRestoreTime("2026-11-20T15:03:11+01:00"), "2026-11-20T14:03:11Z");
        assert.strictEqual(parseRestoreTime("2026-11-20T14:03Z"), "2026-11-20T14:03:00Z");
        assert.strictEqual(parseRestoreTime("2026-11-20T14:03:11.5Z"), "2026-11-20T14:03:11.500Z");
        for (const bad of ["2026-11-20T14:03:11", "yesterday", "2026-13-40T00:00:00Z"]) assert.throws(() => parseRestoreTime(bad), /expected an ISO 8601 time/);
    });
    it("names: a stamped suffix, never over 63 characters", () => {
        assert.strictEqual(restoredClusterName("platform-prod-pg", "2026-11-20T14:03:11Z"), "platform-prod-pg-r20261120t1403");
        const long = restoredClusterName("a".repeat(63), "2026-11-20T14:03:11Z");
        assert.strictEqual(long.length, 63);
        assert.ok(long.endsWith("-r20261120t1403"));
    });
    it("restore points: the record's only for the newest release, else the update's start", () => {
        const rel = releasesFromHistory([entry(2, "2.0.0", D(2), "2026-11-20T14:00:00.000Z"), entry(1, "2.0.0", D(2), "2026-11-19T10:00:00.000Z")]);
        const record = { services: { app: { tag: "2.0.0", digest: D(2) } }, restorePoint: "2026-11-20T14:01:00.000Z" };
        assert.deepStrictEqual(releaseRestorePoint(rel, "2.0.0", record).point, { time: "2026-11-20T14:01:00.000Z", source: "database-clock" });
        assert.deepStrictEqual(releaseRestorePoint(rel.slice(1), "2.0.0").point, { time: "2026-11-19T10:00:00.000Z", source: "update-start" });
        assert.deepStrictEqual(releaseRestorePoint(rel, D(2), { ...record, services: { app: { tag: "other" } } }).point.source, "update-start");
    });
    it("parses the migration step's restore-point line (the last one wins), in UTC", () => {
        const out = "running migrations on web-1\nplatform.restore-point=2026-11-20 14:03:11.123456+00\nmigrations finished\n";
        assert.strictEqual(parseRestorePoint(out), undefined, "Postgres' default text form is not ISO: the step must print ISO");
        assert.strictEqual(parseRestorePoint("platform.restore-point=2026-11-20T14:03:11.123456Z\n"), "2026-11-20T14:03:11.123Z");
        assert.strictEqual(parseRestorePoint("x\nplatform.restore-point=2026-11-20T14:00:00Z\nplatform.restore-point=2026-11-20T15:00:00+01:00\n"), "2026-11-20T14:00:00.000Z");
        assert.strictEqual(parseRestorePoint("platform.restore-point=soon"), undefined);
    });
    it("destructive changes: replacing or deleting a cluster or database, not creating one", () => {
        const c = (op: string, type: string) => ({ op, type, urn: `u::${op}`, name: op });
        assert.deepStrictEqual(destructiveDataChanges([c("create", CLUSTER), c("update", CLUSTER), c("replace", CLUSTER), c("delete", "digitalocean:index/databaseDb:DatabaseDb"), c("delete", "docker:index/container:Container")]).map((x) => x.op), ["replace", "delete"]);
    });
});
