/** Routine changes never touch the servers, the database, the VPC or the DNS records. */
import * as assert from "assert";
import { RecordedStack } from "../tools/lib/mockrun";
import { record, serviceOverride, T } from "./helpers";

const PROTECTED = [T.droplet, T.cluster, T.db, T.vpc, T.dns];
const snapshot = (rec: RecordedStack) =>
    rec.resources
        .filter((r) => (PROTECTED as readonly string[]).includes(r.type))
        .map((r) => ({ key: `${r.type}::${r.name}`, inputs: r.inputs, opts: r.opts }));

describe("protected data: routine changes leave it alone", () => {
    const routine: [string, Record<string, string>][] = [
        ["a new image tag", serviceOverride("prod", { tag: "1.5.0" })],
        ["an app env var", serviceOverride("prod", { env: { FEATURE_CHECKOUT_V2: "false", NEW_FLAG: "on" } })],
        ["the size of an unrelated resource (the app's memory limit)", serviceOverride("prod", { memoryMb: 2048 })],
        ["a log level", { logLevel: "debug" }],
    ];
    for (const [what, overrides] of routine) {
        it(`prod: ${what} leaves every input of the servers, database, VPC and DNS records unchanged`, async () => {
            const before = snapshot(await record("prod"));
            const after = snapshot(await record("prod", { overrides }));
            assert.ok(before.length >= 7);
            assert.deepStrictEqual(after, before);
        });
    }

    it("the check is real: a server size change does show up", async () => {
        const before = snapshot(await record("prod"));
        const after = snapshot(await record("prod", { overrides: { serverSize: "s-4vcpu-8gb" } }));
        assert.notDeepStrictEqual(after, before);
    });
});
