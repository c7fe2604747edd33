/**
 * A point-in-time restore: a second cluster from `backupRestore`, the app moved onto it, the
 * source kept protected until retired on purpose. Run on a restore mapping the tests own.
 */
import * as assert from "assert";
import { ConfigError, parseDatabaseRestore } from "../infra/config";
import { restoredPoolName } from "../infra/database/restore";
import { fixtureValue, named, ofType, record, T } from "./helpers";

const RESTORE = { sourceCluster: "src-pg", time: "2026-11-20T14:03:11Z", clusterName: "src-pg-r20261120t1403" };

describe("database restore (second cluster)", () => {
    it("creates a new cluster from the source's backups at the given time, in the VPC, protected in prod", async () => {
        const rec = await record("prod", { overrides: { databaseRestore: JSON.stringify(RESTORE) } });
        const restored = named(rec, T.cluster, "prod-restored-cluster");
        assert.deepStrictEqual(restored.inputs.backupRestore, {
            databaseName: "src-pg",
            backupCreatedAt: "2026-11-20T14:03:11Z",
        });
        assert.strictEqual(restored.inputs.name, "src-pg-r20261120t1403");
        const source = named(rec, T.cluster, "prod-cluster");
        for (const k of ["engine", "version", "size", "nodeCount", "region", "privateNetworkUuid"])
            assert.deepStrictEqual(restored.inputs[k], source.inputs[k], k);
        assert.deepStrictEqual([restored.opts.protect, restored.opts.retainOnDelete], [true, true]);
        assert.deepStrictEqual(
            [source.opts.protect, source.opts.retainOnDelete],
            [true, true],
            "the source stays protected",
        );
        // The data brings the database and user back; creating them again would collide.
        assert.deepStrictEqual(
            ofType(rec, T.db).map((r) => r.name),
            ["prod-db"],
        );
        assert.deepStrictEqual(
            ofType(rec, T.dbUser).map((r) => r.name),
            ["prod-user"],
        );
        const fw = ofType(rec, T.dbFirewall).find((r) => r.name === "prod-restored-firewall")!;
        assert.strictEqual(fw.inputs.clusterId, restored.id);
        assert.deepStrictEqual(fw.inputs.rules, [{ type: "tag", value: "platform-prod-app" }]);
    });

    it("points the app, its migrations and the GitHub environment at the restored cluster", async () => {
        const rec = await record("prod", { overrides: { databaseRestore: JSON.stringify(RESTORE) } });
        const pool = named(rec, T.pool, "prod-restored-pool");
        assert.strictEqual(
            pool.inputs.name,
            restoredPoolName({
                dbName: "app",
                user: "app",
                mode: String(fixtureValue("prod", "dbPoolMode")),
                size: Number(fixtureValue("prod", "dbPoolSize")),
            }),
        );
        assert.strictEqual(pool.inputs.clusterId, named(rec, T.cluster, "prod-restored-cluster").id);
        const envs = named(rec, T.container, "prod-web-1-app-app").inputs.envs as string[];
        const url = envs.find((e) => e.startsWith("DATABASE_URL="))!;
        assert.match(
            url,
            new RegExp(
                `^DATABASE_URL=postgresql://app:mock-restored-user-password@private-pool-${pool.id}\\.db\\.ondigitalocean\\.com:25061/${String(pool.inputs.name)}\\?sslmode=require$`,
            ),
        );
        const migrate = named(rec, T.command, "prod-web-1-app-migrate");
        assert.match(
            (migrate.inputs.environment as Record<string, string>).DATABASE_URL,
            /@private-src-pg-r20261120t1403\.db\.ondigitalocean\.com:25060\/app\?/,
        );
        const ghSecret = ofType(rec, T.envSecret).find((r) => r.inputs.secretName === "DATABASE_URL")!;
        assert.ok(String(ghSecret.inputs.value).includes(`/${String(pool.inputs.name)}?`));
        assert.match(String(rec.outputs.databasePrivateHost), /^private-src-pg-r20261120t1403\./);
    });

    it("stops declaring the source only when retireSource is set", async () => {
        const rec = await record("prod", {
            overrides: { databaseRestore: JSON.stringify({ ...RESTORE, retireSource: true }) },
        });
        assert.deepStrictEqual(
            ofType(rec, T.cluster).map((r) => r.name),
            ["prod-restored-cluster"],
        );
        assert.deepStrictEqual(
            ofType(rec, T.pool).map((r) => r.name),
            ["prod-restored-pool"],
        );
    });

    it("declares no second cluster without a restore", async () => {
        const rec = await record("prod");
        assert.deepStrictEqual(
            ofType(rec, T.cluster).map((r) => r.name),
            ["prod-cluster"],
        );
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
        [
            "an unknown field",
            { ...RESTORE, when: "now" },
            /platform:databaseRestore: "when" is not valid; expected only sourceCluster, time, clusterName, retireSource/,
        ],
        ["a missing time", { ...RESTORE, time: undefined }, /platform:databaseRestore\.time: .* expected a string/],
        [
            "a local time",
            { ...RESTORE, time: "2026-11-20 14:03" },
            /databaseRestore\.time: "2026-11-20 14:03" is not valid; expected a UTC time such as 2026-11-20T14:03:11Z/,
        ],
        ["an offset instead of Z", { ...RESTORE, time: "2026-11-20T14:03:11+01:00" }, /expected a UTC time/],
        [
            "the source's own name",
            { ...RESTORE, clusterName: "src-pg" },
            /databaseRestore\.clusterName: "src-pg" is not valid; expected a new name: DigitalOcean restores only into a new cluster/,
        ],
        ["the stack's cluster name", { ...RESTORE, clusterName: "platform-prod-pg" }, /expected a new name/],
        [
            "a bad cluster name",
            { ...RESTORE, clusterName: "Src_PG" },
            /databaseRestore\.clusterName: "Src_PG" is not valid; expected a cluster name/,
        ],
        [
            "a non-boolean retireSource",
            { ...RESTORE, retireSource: "yes" },
            /databaseRestore\.retireSource: "yes" is not valid; expected true or false/,
        ],
    ];
    for (const [what, raw, message] of bad) {
        it(`refuses ${what} in one line naming the key`, () => {
            const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
            assert.throws(
                () => parseDatabaseRestore(clean, "platform-prod-pg"),
                (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes("\n"),
            );
        });
    }

    it("reads an empty mapping as no restore", () => {
        assert.strictEqual(parseDatabaseRestore({}, "platform-prod-pg"), undefined);
        assert.deepStrictEqual(parseDatabaseRestore(RESTORE, "platform-prod-pg"), { ...RESTORE, retireSource: false });
        assert.strictEqual(
            parseDatabaseRestore({ ...RESTORE, retireSource: "true" }, "platform-prod-pg")!.retireSource,
            true,
            "as --path stores it",
        );
    });
});
