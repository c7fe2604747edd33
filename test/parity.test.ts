/** Staging mirrors prod: same resource types and counts, differing only in declared knobs. */
import * as assert from "assert";
import { KEYS } from "../infra/config/schema";
import { readStackConfig } from "../tools/lib/mockrun";
import { compareStacks } from "../tools/lib/parity";
import { record } from "./helpers";

describe("parity: staging mirrors prod", () => {
    it("registers the same set of resource types", async () => {
        const types = async (s: string) => [...new Set((await record(s)).resources.map((r) => r.type))].sort();
        assert.deepStrictEqual(await types("staging"), await types("prod"));
    });

    it("registers the same counts per type, except where a declared knob drives the count", async () => {
        const report = compareStacks(await record("staging"), readStackConfig("staging"), await record("prod"), readStackConfig("prod"));
        for (const o of report.onlyIn) {
            assert.ok(o.knob, `${o.resource} exists only in ${o.stack} without a knob to explain it`);
            assert.ok((KEYS as Record<string, { knob?: string }>)[o.knob!.key]?.knob, o.knob!.key);
        }
    });

    it("differs only in values the config declares as per-stack knobs", async () => {
        const report = compareStacks(await record("staging"), readStackConfig("staging"), await record("prod"), readStackConfig("prod"));
        assert.deepStrictEqual(report.diffs.filter((d) => !d.expected).map((d) => `${d.resource} ${d.property}`), []);
        assert.strictEqual(report.unexpected, 0);
        const knobs = new Set(report.diffs.map((d) => d.knob!.key));
        for (const k of ["dbNodeCount", "dbPoolSize", "appMemoryMb", "githubReviewers", "frontendHost"]) assert.ok(knobs.has(k), k);
    });

    it("the committed staging and prod configs differ only in knob keys", () => {
        const s = readStackConfig("staging").values;
        const p = readStackConfig("prod").values;
        for (const key of new Set([...Object.keys(s), ...Object.keys(p)])) {
            if (s[key] === p[key]) continue;
            const def = (KEYS as Record<string, { knob?: string }>)[key.replace(/^platform:/, "")];
            assert.ok(def?.knob, `${key} differs (${s[key]} vs ${p[key]}) but is not a declared knob`);
        }
    });
});
