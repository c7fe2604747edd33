/**
 * `npm run restore` against a typed stand-in for the Automation API, on a stack file and history the test owns,
 * with the clock fixed at NOW. Pure decisions (window, names, restore points) are tested
 * directly at the end.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main as releases } from "../tools/releases";
import { main as restore } from "../tools/restore";
import {
    checkWindow,
    chooseBackup,
    destructiveDataChanges,
    parseRestoreTime,
    releaseRestorePoint,
    restoredClusterName,
} from "../tools/lib/restore";
import { DatabaseBackup, DatabaseClusterInfo, DatabasesApi, databasesApi } from "../tools/lib/digitalocean";
import { parseRestorePoint, releasesFromHistory } from "../tools/lib/releases";
import type { HistoryEntry } from "../tools/lib/releases";
import { FakeAutomation, FakeCall, FakeChange, FakeFailure } from "./fixtures/automation";

const ROOT = path.join(__dirname, "..");
const NOW = new Date("2026-11-23T12:00:00Z");
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const RESTORE_CHANGES = [
    { op: "create", type: CLUSTER, name: "prod-restored-cluster" },
    {
        op: "create",
        type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
        name: "prod-restored-pool",
    },
    { op: "create", type: "digitalocean:index/databaseFirewall:DatabaseFirewall", name: "prod-restored-firewall" },
    { op: "replace", type: "docker:index/container:Container", name: "prod-web-1-app-app" },
    {
        op: "update",
        type: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
        name: "prod-secret-DATABASE_URL",
    },
];

function entry(version: number, tag: string, digest: string, start: string): HistoryEntry {
    return {
        version,
        kind: "update",
        startTime: start,
        message: `deploy ${tag}`,
        environment: { "exec.kind": "cli" },
        config: {
            "platform:services": {
                value: JSON.stringify({ app: { image: "ghcr.io/example/app", tag, digest } }),
                secret: false,
            },
        },
        result: "succeeded",
        endTime: new Date(Date.parse(start) + 300_000).toISOString(),
    };
}

/** Daily backups at 03:12:40Z, the last seven days as of NOW (2026-11-17 to 2026-11-23). */
const BACKUPS: DatabaseBackup[] = [17, 18, 19, 20, 21, 22, 23].map((d) => ({
    createdAt: `2026-11-${d}T03:12:40Z`,
    sizeGigabytes: 0.5,
}));

/** A typed stand-in for DigitalOcean's database API: the source cluster, its backups, and the restored cluster once `up` made it. */
class FakeDatabases implements DatabasesApi {
    calls: string[] = [];
    constructor(private readonly t: { backups?: DatabaseBackup[]; restoredNodes?: number } = {}) {}
    async cluster(name: string): Promise<DatabaseClusterInfo | undefined> {
        this.calls.push(`cluster ${name}`);
        if (name === "shop-pg") return { id: "uuid-shop-pg", name, numNodes: 2 };
        return this.t.restoredNodes === undefined
            ? undefined
            : { id: "uuid-restored", name, numNodes: this.t.restoredNodes };
    }
    async backups(clusterId: string): Promise<DatabaseBackup[]> {
        this.calls.push(`backups ${clusterId}`);
        return this.t.backups ?? BACKUPS;
    }
}

interface Lab {
    dir: string;
    fake: FakeAutomation;
    databases: FakeDatabases;
}

function lab(
    t: {
        changes?: FakeChange[];
        fail?: FakeFailure;
        yaml?: Record<string, unknown>;
        backups?: DatabaseBackup[];
        restoredNodes?: number;
    } = {},
): Lab {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const config = {
        "platform:services": { app: { image: "ghcr.io/example/app", tag: "2.1.0", digest: D(3) } },
        "platform:dbClusterName": "shop-pg",
        ...(t.yaml ?? {}),
    };
    fs.writeFileSync(
        path.join(dir, "Pulumi.prod.yaml"),
        `config:\n${Object.entries(config)
            .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
            .join("\n")}\n`,
    );
    const history = [
        entry(3, "2.1.0", D(3), "2026-11-22T09:00:00.000Z"),
        entry(2, "2.0.0", D(2), "2026-11-20T14:00:00.000Z"),
        entry(1, "1.9.0", D(1), "2026-11-10T08:00:00.000Z"),
    ];
    const fake = new FakeAutomation(
        {
            prod: {
                history,
                changes: t.changes ?? RESTORE_CHANGES,
                outputs: {
                    release: {
                        services: { app: { repository: "ghcr.io/example/app", tag: "2.1.0", digest: D(3) } },
                        restorePoint: "2026-11-22T09:01:30.250Z",
                    },
                },
            },
        },
        t.fail,
    );
    return { dir, fake, databases: new FakeDatabases({ backups: t.backups, restoredNodes: t.restoredNodes ?? 1 }) };
}

async function run(l: Lab, argv: string[]) {
    let out = "";
    let err = "";
    const code = await restore(
        [...argv, "--work-dir", l.dir],
        {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        },
        { now: () => NOW, automation: l.fake, databases: l.databases },
    );
    return { code, out, err };
}

const calls = (l: Lab): FakeCall[] => l.fake.calls;
const ops = (l: Lab): string[] => calls(l).map((c) => c.op);
const stackConfig = (l: Lab) => parse(fs.readFileSync(path.join(l.dir, "Pulumi.prod.yaml"), "utf8")).config;

describe("npm run restore (Automation API stand-in)", function () {
    this.timeout(30_000);

    it("--to-release: restores the newest backup before the release's restore point, says what it loses first, previews, then runs up", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-release", "2.1.0", "--yes"]);
        assert.strictEqual(r.code, 0, r.err + r.out);
        assert.match(
            r.out,
            /restore point 2026-11-22T09:01:30\.250Z \(release 2\.1\.0's restore point \(database clock/,
        );
        assert.match(
            r.out,
            /restoring shop-pg's backup of 2026-11-22T03:12:40Z into a new cluster shop-pg-r20261122t0312/,
        );
        assert.match(
            r.out,
            /^lost: writes from 2026-11-22T03:12:40Z to 2026-11-22T09:01:30\.250Z \(5h 48m\) will not come back: DigitalOcean's API restores a backup/m,
        );
        assert.ok(r.out.indexOf("lost: ") < r.out.indexOf("create "), "the loss is stated before the preview");
        assert.match(r.out, /create\s+digitalocean:index\/databaseCluster:DatabaseCluster prod-restored-cluster/);
        assert.match(r.out, /restored: the app now uses shop-pg-r20261122t0312; shop-pg is kept \(protected\)/);
        assert.deepStrictEqual(stackConfig(l)["platform:databaseRestore"], {
            sourceCluster: "shop-pg",
            time: "2026-11-22T03:12:40Z",
            clusterName: "shop-pg-r20261122t0312",
        });
        assert.deepStrictEqual(l.databases.calls.slice(0, 2), ["cluster shop-pg", "backups uuid-shop-pg"]);
        const order = ops(l);
        assert.ok(
            order.includes("setConfig") && order.lastIndexOf("setConfig") < order.indexOf("preview"),
            "config before preview",
        );
        assert.ok(order.indexOf("preview") < order.indexOf("up"), "preview before up");
        assert.ok(calls(l).some((c) => c.op === "setConfig" && c.path && c.key === "platform:databaseRestore.time"));
    });

    it("--to-release of an older release without a recorded point uses its update's start, and says so", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-release", "2.0.0", "--yes", "--json"]);
        assert.strictEqual(r.code, 0, r.err);
        const json = JSON.parse(r.out);
        assert.deepStrictEqual(
            [json.action, json.result, json.point, json.time, json.clusterName],
            ["restore", "succeeded", "2026-11-20T14:00:00Z", "2026-11-20T03:12:40Z", "shop-pg-r20261120t0312"],
        );
        assert.deepStrictEqual(json.backup, { createdAt: "2026-11-20T03:12:40Z", sizeGigabytes: 0.5 });
        assert.deepStrictEqual(json.lost, {
            from: "2026-11-20T03:12:40Z",
            to: "2026-11-20T14:00:00Z",
            seconds: 38_840,
        });
        assert.match(r.err, /the start of release 2\.0\.0's update \(it recorded no database-clock restore point/);
    });

    it("refuses a time outside the 7-day window, naming the window, and changes nothing", async () => {
        const l = lab();
        for (const argv of [
            ["--to-release", "1.9.0"],
            ["--to-time", "2026-11-16T11:59:59Z"],
        ]) {
            const r = await run(l, ["--stack", "prod", ...argv, "--yes"]);
            assert.strictEqual(r.code, 3, r.out + r.err);
            assert.match(
                r.out,
                /refused: .* is outside the restore window; DigitalOcean keeps 7 days of backups for managed Postgres: 2026-11-16T12:00:00Z to now \(2026-11-23T12:00:00Z\)/,
            );
        }
        assert.ok(ops(l).includes("selectStack") && !ops(l).includes("setConfig"), "nothing set");
        assert.ok(!ops(l).includes("preview") && !ops(l).includes("up"));
        const future = await run(l, ["--stack", "prod", "--to-time", "2026-11-23T13:00:00+00:00"]);
        assert.strictEqual(future.code, 3);
        assert.match(future.out, /2026-11-23T13:00:00Z is in the future/);
    });

    it("refuses, in one line, a point inside the 7 days but older than every backup, and changes nothing", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-16T13:00:00+01:00", "--yes"]);
        assert.strictEqual(r.code, 3, r.out + r.err);
        assert.strictEqual(r.out.split("\n").filter((x) => x.startsWith("refused: ")).length, 1);
        assert.match(
            r.out,
            /^refused: 2026-11-16T12:00:00Z is older than every backup of shop-pg \(the oldest is 2026-11-17T03:12:40Z; DigitalOcean keeps daily backups 7 days\): older data exists only in a logical dump/m,
        );
        assert.ok(!ops(l).includes("setConfig") && !ops(l).includes("preview"));
        const none = lab({ backups: [] });
        const r2 = await run(none, ["--stack", "prod", "--to-time", "2026-11-22T08:00:00Z"]);
        assert.strictEqual(r2.code, 3);
        assert.match(r2.out, /^refused: shop-pg has no backups yet/m);
    });

    it("--exact-point sends the restore point itself, after saying the drill must have shown it", async () => {
        const l = lab();
        const r = await run(l, [
            "--stack",
            "prod",
            "--to-time",
            "2026-11-21T08:30:00Z",
            "--exact-point",
            "--yes",
            "--json",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        const json = JSON.parse(r.out);
        assert.deepStrictEqual(
            [json.time, json.exactPoint, json.lost, json.backup.createdAt],
            ["2026-11-21T08:30:00Z", true, null, "2026-11-21T03:12:40Z"],
        );
        assert.match(
            r.err,
            /--exact-point: asking DigitalOcean for 2026-11-21T08:30:00Z itself .* only if the restore drill in docs\/operations\.md showed/,
        );
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"].time, "2026-11-21T08:30:00Z");
    });

    it("--dry-run states the backup, the loss window and the new cluster, and changes nothing (exit 0)", async () => {
        const l = lab();
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--dry-run"]);
        assert.strictEqual(r.code, 0, r.out + r.err);
        assert.match(
            r.out,
            /restoring shop-pg's backup of 2026-11-21T03:12:40Z into a new cluster shop-pg-r20261121t0312/,
        );
        assert.match(
            r.out,
            /^lost: writes from 2026-11-21T03:12:40Z to 2026-11-21T08:30:00Z \(5h 17m\) will not come back/m,
        );
        assert.match(r.out, /^dry run: nothing changed/m);
        assert.ok(!ops(l).includes("setConfig") && !ops(l).includes("preview") && !ops(l).includes("up"));
        const j = await run(lab(), ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--dry-run", "--json"]);
        assert.deepStrictEqual(JSON.parse(j.out).lost, {
            from: "2026-11-21T03:12:40Z",
            to: "2026-11-21T08:30:00Z",
            seconds: 19_040,
        });
        assert.strictEqual(JSON.parse(j.out).result, "dry-run");
    });

    it("after the restore, a cluster with fewer nodes than dbNodeCount is reported with the command that re-adds the standby", async () => {
        const short = lab({ yaml: { "platform:dbNodeCount": 2 }, restoredNodes: 1 });
        const r = await run(short, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--yes", "--json"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(
            r.err,
            /^warning: shop-pg-r20261121t0312 has 1 node\(s\), the stack wants 2 \(dbNodeCount\): DigitalOcean re-adds no standby after a restore\. Run `pulumi up --refresh --stack prod`/m,
        );
        assert.deepStrictEqual(JSON.parse(r.out).standby, {
            want: 2,
            have: 1,
            fix: "pulumi up --refresh --stack prod",
        });
        assert.ok(short.databases.calls.includes("cluster shop-pg-r20261121t0312"), "read after up");
        const full = lab({ yaml: { "platform:dbNodeCount": 2 }, restoredNodes: 2 });
        const ok = await run(full, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--yes"]);
        assert.strictEqual(ok.code, 0);
        assert.match(ok.out, /^nodes: shop-pg-r20261121t0312 has 2 of 2 \(dbNodeCount\)$/m);
        assert.doesNotMatch(ok.out, /warning/);
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
        assert.match(
            r.out,
            /refused: the preview would replace prod-cluster \(marked !\): a restore only adds a cluster/,
        );
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"], undefined);
        assert.ok(ops(l).includes("preview") && !ops(l).includes("up"));
    });

    it("refuses a second restore while one is configured", async () => {
        const l = lab({
            yaml: {
                "platform:databaseRestore": {
                    sourceCluster: "shop-pg",
                    time: "2026-11-21T08:30:00Z",
                    clusterName: "shop-pg-r1",
                },
            },
        });
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-22T08:30:00Z", "--yes"]);
        assert.strictEqual(r.code, 3);
        assert.match(r.out, /a restore is already configured in platform:databaseRestore/);
    });

    it("reports a failed update (exit 1) and keeps the config, so re-running up continues", async () => {
        const l = lab({ fail: "upError" });
        const r = await run(l, ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--yes"]);
        assert.strictEqual(r.code, 1, r.out + r.err);
        assert.match(r.out, /failed: update failed \(platform:databaseRestore stays set/);
        assert.strictEqual(stackConfig(l)["platform:databaseRestore"].clusterName, "shop-pg-r20261121t0312");
    });

    it("releases shows each release's restore point: the database clock's when recorded, else the update's start", async () => {
        const l = lab();
        let out = "";
        assert.strictEqual(
            await releases(
                ["--stack", "prod", "--work-dir", l.dir],
                {
                    out: (x) => {
                        out += x;
                    },
                    err: (x) => {
                        out += x;
                    },
                },
                l.fake,
            ),
            0,
            out,
        );
        const lines = out.trim().split("\n");
        assert.match(lines[0], /^\* .* 2\.1\.0 .* restore point db 2026-11-22T09:01:30\.250Z /);
        assert.match(lines[1], /^ {2}.* 2\.0\.0 .* restore point ~ {2}2026-11-20T14:00:00\.000Z /);
        out = "";
        await releases(
            ["--stack", "prod", "--json", "--work-dir", l.dir],
            {
                out: (x) => {
                    out += x;
                },
                err: () => undefined,
            },
            l.fake,
        );
        assert.deepStrictEqual(
            JSON.parse(out).releases.map((r: { restorePoint: { source: string } }) => r.restorePoint.source),
            ["database-clock", "update-start", "update-start"],
        );
    });

    const usage: [string, string[], RegExp][] = [
        [
            "both targets",
            ["--to-release", "2.1.0", "--to-time", "2026-11-21T08:30:00Z"],
            /^error: give exactly one of --to-release <tag> and --to-time <time>\n$/,
        ],
        ["no target", [], /^error: give exactly one of/],
        [
            "a time without a zone",
            ["--to-time", "2026-11-21 08:30"],
            /^error: --to-time "2026-11-21 08:30": expected an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z\n$/,
        ],
        [
            "an unknown release",
            ["--to-release", "9.9.9"],
            /^error: release 9\.9\.9 not found in the stack's history \(known tags: 2\.1\.0, 2\.0\.0, 1\.9\.0\)\n$/,
        ],
        [
            "--dry-run with --yes",
            ["--to-time", "2026-11-21T08:30:00Z", "--dry-run", "--yes"],
            /^error: give --dry-run or --yes, not both\n$/,
        ],
    ];
    for (const [what, argv, expected] of usage) {
        it(`explains ${what} in one line, exit 2`, async () => {
            const r = await run(lab(), ["--stack", "prod", ...argv]);
            assert.strictEqual(r.code, 2, r.out + r.err);
            assert.match(r.err, expected);
        });
    }
});

describe("restore: DigitalOcean's database API over fetch (a loopback stand-in)", () => {
    it("finds the cluster by name and lists its backups, with the token, in DigitalOcean's field names", async () => {
        const seen: string[] = [];
        const server = http.createServer((req, res) => {
            seen.push(`${req.url} ${req.headers.authorization}`);
            const body =
                req.url === "/v2/databases"
                    ? {
                          databases: [
                              { id: "u-1", name: "other", num_nodes: 1 },
                              { id: "u-2", name: "shop-pg", num_nodes: 2 },
                          ],
                      }
                    : req.url === "/v2/databases/u-2/backups"
                      ? {
                            backups: [{ created_at: "2026-11-22T03:12:40Z", size_gigabytes: 0.03 }],
                            scheduled_backup_time: { backup_hour: 3 },
                        }
                      : undefined;
            res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(
                JSON.stringify(body ?? { id: "not_found" }),
            );
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        try {
            const api = databasesApi("dop_v1_test", `http://127.0.0.1:${(server.address() as { port: number }).port}`);
            assert.deepStrictEqual(await api.cluster("shop-pg"), { id: "u-2", name: "shop-pg", numNodes: 2 });
            assert.strictEqual(await api.cluster("gone"), undefined);
            assert.deepStrictEqual(await api.backups("u-2"), [
                { createdAt: "2026-11-22T03:12:40Z", sizeGigabytes: 0.03 },
            ]);
            await assert.rejects(
                api.backups("u-9"),
                /^Error: DigitalOcean answered 404 for GET \/v2\/databases\/u-9\/backups$/,
            );
            assert.ok(seen.every((x) => x.endsWith(" Bearer dop_v1_test")));
        } finally {
            server.close();
        }
    });

    it("without DIGITALOCEAN_TOKEN, says so in one line (exit 2) before any preview", async () => {
        const l = lab();
        const saved = process.env.DIGITALOCEAN_TOKEN;
        delete process.env.DIGITALOCEAN_TOKEN;
        try {
            let err = "";
            const code = await restore(
                ["--stack", "prod", "--to-time", "2026-11-21T08:30:00Z", "--work-dir", l.dir],
                {
                    out: () => undefined,
                    err: (x) => {
                        err += x;
                    },
                },
                { now: () => NOW, automation: l.fake },
            );
            assert.strictEqual(code, 2);
            assert.match(
                err,
                /^error: DIGITALOCEAN_TOKEN is not set: restore lists the source cluster's backups through DigitalOcean's API \(database read scope\)\n$/,
            );
            assert.ok(!ops(l).includes("preview"));
        } finally {
            if (saved !== undefined) process.env.DIGITALOCEAN_TOKEN = saved;
        }
    });
});

describe("restore decisions (pure)", () => {
    it("backup: the newest at or before the point, and the writes between it and the point", () => {
        const shuffled = [BACKUPS[3], BACKUPS[6], BACKUPS[0]]; // a gap: the 21st and 22nd missing
        assert.deepStrictEqual(chooseBackup(shuffled, "2026-11-22T09:00:00Z", "pg"), {
            backup: BACKUPS[3],
            restoreTime: "2026-11-20T03:12:40Z",
            lost: { from: "2026-11-20T03:12:40Z", to: "2026-11-22T09:00:00Z", seconds: 193_640 },
        });
        assert.deepStrictEqual(
            chooseBackup(BACKUPS, "2026-11-22T03:12:40Z", "pg").lost,
            { from: "2026-11-22T03:12:40Z", to: "2026-11-22T03:12:40Z", seconds: 0 },
            "a point on a backup loses nothing",
        );
        assert.deepStrictEqual(chooseBackup(BACKUPS, "2026-11-22T09:00:00Z", "pg", true), {
            backup: BACKUPS[5],
            restoreTime: "2026-11-22T09:00:00Z",
        });
        assert.throws(
            () => chooseBackup(BACKUPS, "2026-11-17T03:12:39Z", "pg"),
            /^Error: 2026-11-17T03:12:39Z is older than every backup of pg \(the oldest is 2026-11-17T03:12:40Z/,
        );
        assert.throws(
            () => chooseBackup(BACKUPS, "2026-11-17T03:12:39Z", "pg", true),
            /older than every backup/,
            "--exact-point needs a backup before the point too",
        );
    });
    it("window: the last 7 days up to now, inclusive", () => {
        assert.doesNotThrow(() => checkWindow("2026-11-16T12:00:00Z", NOW));
        assert.doesNotThrow(() => checkWindow("2026-11-23T12:00:00Z", NOW));
        assert.throws(
            () => checkWindow("2026-11-16T11:59:59Z", NOW),
            /outside the restore window; DigitalOcean keeps 7 days/,
        );
        assert.throws(() => checkWindow("2026-11-23T12:00:01Z", NOW), /in the future/);
    });
    it("times: zones normalised to UTC, zone-less times refused", () => {
        assert.strictEqual(parseRestoreTime("2026-11-20T15:03:11+01:00"), "2026-11-20T14:03:11Z");
        assert.strictEqual(parseRestoreTime("2026-11-20T14:03Z"), "2026-11-20T14:03:00Z");
        assert.strictEqual(parseRestoreTime("2026-11-20T14:03:11.5Z"), "2026-11-20T14:03:11.500Z");
        for (const bad of ["2026-11-20T14:03:11", "yesterday", "2026-13-40T00:00:00Z"])
            assert.throws(() => parseRestoreTime(bad), /expected an ISO 8601 time/);
    });
    it("names: a stamped suffix, never over 63 characters", () => {
        assert.strictEqual(
            restoredClusterName("platform-prod-pg", "2026-11-20T14:03:11Z"),
            "platform-prod-pg-r20261120t1403",
        );
        const long = restoredClusterName("a".repeat(63), "2026-11-20T14:03:11Z");
        assert.strictEqual(long.length, 63);
        assert.ok(long.endsWith("-r20261120t1403"));
    });
    it("restore points: the record's only for the newest release, else the update's start", () => {
        const rel = releasesFromHistory([
            entry(2, "2.0.0", D(2), "2026-11-20T14:00:00.000Z"),
            entry(1, "2.0.0", D(2), "2026-11-19T10:00:00.000Z"),
        ]);
        const record = { services: { app: { tag: "2.0.0", digest: D(2) } }, restorePoint: "2026-11-20T14:01:00.000Z" };
        assert.deepStrictEqual(releaseRestorePoint(rel, "2.0.0", record).point, {
            time: "2026-11-20T14:01:00.000Z",
            source: "database-clock",
        });
        assert.deepStrictEqual(releaseRestorePoint(rel.slice(1), "2.0.0").point, {
            time: "2026-11-19T10:00:00.000Z",
            source: "update-start",
        });
        assert.deepStrictEqual(
            releaseRestorePoint(rel, D(2), { ...record, services: { app: { tag: "other" } } }).point.source,
            "update-start",
        );
    });
    it("parses the migration step's restore-point line (the last one wins), in UTC", () => {
        const out =
            "running migrations on web-1\nplatform.restore-point=2026-11-20 14:03:11.123456+00\nmigrations finished\n";
        assert.strictEqual(
            parseRestorePoint(out),
            undefined,
            "Postgres' default text form is not ISO: the step must print ISO",
        );
        assert.strictEqual(
            parseRestorePoint("platform.restore-point=2026-11-20T14:03:11.123456Z\n"),
            "2026-11-20T14:03:11.123Z",
        );
        assert.strictEqual(
            parseRestorePoint(
                "x\nplatform.restore-point=2026-11-20T14:00:00Z\nplatform.restore-point=2026-11-20T15:00:00+01:00\n",
            ),
            "2026-11-20T14:00:00.000Z",
        );
        assert.strictEqual(parseRestorePoint("platform.restore-point=soon"), undefined);
    });
    it("destructive changes: replacing or deleting a cluster or database, not creating one", () => {
        const c = (op: string, type: string) => ({ op, type, urn: `u::${op}`, name: op });
        assert.deepStrictEqual(
            destructiveDataChanges([
                c("create", CLUSTER),
                c("update", CLUSTER),
                c("replace", CLUSTER),
                c("delete", "digitalocean:index/databaseDb:DatabaseDb"),
                c("delete", "docker:index/container:Container"),
            ]).map((x) => x.op),
            ["replace", "delete"],
        );
    });
});
