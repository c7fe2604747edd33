import * as assert from "assert";
import { connectionString } from "../infra/database";
import { atLeastOne, fixtureValue, named, ofType, record, recordTeam, T, TEAMS } from "./helpers";

describe("database", () => {
    for (const [team, stack] of TEAMS.flatMap((t) => ["dev", "staging", "prod"].map((s) => [t, s] as const))) {
        it(`${team}/${stack}: a pg cluster in the VPC with a maintenance window and the configured size and nodes`, async () => {
            const rec = await recordTeam(team, stack);
            const c = named(rec, T.cluster, `${stack}-cluster`);
            assert.strictEqual(c.inputs.engine, "pg");
            assert.strictEqual(c.inputs.version, fixtureValue(stack, "dbVersion", team));
            assert.strictEqual(c.inputs.size, fixtureValue(stack, "dbSize", team));
            assert.strictEqual(c.inputs.nodeCount, Number(fixtureValue(stack, "dbNodeCount", team)));
            assert.strictEqual(c.inputs.privateNetworkUuid, named(rec, T.droplet, `${stack}-web-1`).inputs.vpcUuid);
            assert.deepStrictEqual(c.inputs.maintenanceWindows, [{ day: "sunday", hour: "03:00:00" }]);
            assert.deepStrictEqual(c.inputs.tags, [`platform-${stack}`]);
        });
    }

    it("admits only the stack's app servers, by tag", async () => {
        for (const stack of ["dev", "prod"]) {
            const rec = await record(stack);
            const fws = ofType(rec, T.dbFirewall);
            assert.strictEqual(fws.length, 1);
            assert.deepStrictEqual(fws[0].inputs.rules, [{ type: "tag", value: `platform-${stack}-app` }]);
        }
    });

    it("has an app database, an app user and a pool on them", async () => {
        const rec = await record("staging");
        assert.strictEqual(named(rec, T.db, "staging-db").inputs.name, "app");
        assert.strictEqual(named(rec, T.dbUser, "staging-user").inputs.name, "app");
        const pool = named(rec, T.pool, "staging-pool");
        assert.deepStrictEqual(
            [pool.inputs.dbName, pool.inputs.user, pool.inputs.mode, pool.inputs.size],
            ["app", "app", "transaction", Number(fixtureValue("staging", "dbPoolSize"))],
        );
    });

    it("protects prod's cluster and database (protect and retainOnDelete), and nothing else's", async () => {
        const prod = await record("prod");
        for (const r of [named(prod, T.cluster, "prod-cluster"), named(prod, T.db, "prod-db")]) {
            assert.strictEqual(r.opts.protect, true, r.name);
            assert.strictEqual(r.opts.retainOnDelete, true, r.name);
        }
        const staging = await record("staging");
        assert.strictEqual(named(staging, T.cluster, "staging-cluster").opts.protect, false);
    });

    it("exports the connection string only as a secret, with the private host and sslmode=require", async () => {
        const rec = await record("prod");
        assert.ok(rec.secretOutputs.includes("databaseUrl"));
        assert.strictEqual(rec.outputs.databaseUrl, "[secret]");
        assert.match(String(rec.outputs.databasePrivateHost), /^private-/);
        assert.strictEqual(rec.outputs.databasePort, 25060);
        for (const r of atLeastOne(ofType(rec, T.envSecret), "environment secret"))
            assert.ok(r.secretInputs.includes("value"));
    });

    it("URL-encodes credentials in the connection string", () => {
        assert.strictEqual(
            connectionString({ user: "app", password: "p@ss/w:rd", host: "h", port: 25060, database: "app" }),
            "postgresql://app:p%40ss%2Fw%3Ard@h:25060/app?sslmode=require",
        );
    });
});
