import * as assert from "assert";
import * as path from "path";
import { named, ofType, record, T } from "./helpers";

const DIR = path.join(__dirname, "fixtures", "lifecycle");
const DUMP = JSON.stringify({ bucket: "fixture-db-dumps", region: "fra1", retentionDays: 14 });

describe("database dumps before migrating (dbDump)", () => {
    it("off by default: no bucket, no dump in the migration step", async () => {
        const rec = await record("prod", { configDir: DIR });
        assert.deepStrictEqual(ofType(rec, T.spacesBucket), []);
        const env = named(rec, T.command, "prod-web-1-app-migrate").inputs.environment as Record<string, string>;
        assert.strictEqual(env.DUMP_URL, undefined);
    });

    it("on: a private bucket the program owns, dumps expire after the retention, and the migration step uploads there", async () => {
        const rec = await record("prod", { configDir: DIR, overrides: { dbDump: DUMP } });
        const [bucket] = ofType(rec, T.spacesBucket);
        assert.strictEqual(bucket.inputs.name, "fixture-db-dumps");
        assert.strictEqual(bucket.inputs.region, "fra1");
        assert.strictEqual(bucket.inputs.acl, "private");
        assert.deepStrictEqual(bucket.inputs.lifecycleRules, [{ enabled: true, expiration: { days: 14 } }]);
        // Spaces keys, not the API token, manage the bucket; prod keeps it if it leaves the program.
        assert.ok(bucket.opts.provider, "a provider with the Spaces keys");
        assert.ok(bucket.opts.protect && bucket.opts.retainOnDelete);
        const migrate = named(rec, T.command, "prod-web-1-app-migrate");
        assert.ok(migrate.secretInputs.includes("environment"), "the Spaces keys stay secret");
        const env = migrate.inputs.environment as Record<string, string>;
        assert.strictEqual(env.DUMP_URL, "https://fra1.digitaloceanspaces.com/fixture-db-dumps");
        assert.strictEqual(env.DUMP_REGION, "fra1");
        assert.strictEqual(env.DUMP_PREFIX, "prod");
        assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
    });
});
