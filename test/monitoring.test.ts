import * as assert from "assert";
import { apiHealthPath, atLeastOne, fixtureValue, ofType, record, recordTeam, T, TEAMS } from "./helpers";

describe("monitoring", () => {
    it("alerts on droplet CPU, memory and disk for every server, to the emails and Slack", async () => {
        const rec = await record("prod");
        const alerts = ofType(rec, T.alert);
        // The metric names DigitalOcean documents (godo monitoring.go, DropletCPUUtilizationPercent,
        // DropletMemoryUtilizationPercent, DropletDiskUtilizationPercent), not the program's own table.
        assert.deepStrictEqual(
            alerts.map((a) => a.inputs.type),
            [
                "v1/insights/droplet/cpu",
                "v1/insights/droplet/memory_utilization_percent",
                "v1/insights/droplet/disk_utilization_percent",
            ],
        );
        const ids = ofType(rec, T.droplet).length;
        for (const a of alerts) {
            assert.strictEqual((a.inputs.entities as string[]).length, ids);
            assert.strictEqual(a.inputs.compare, "GreaterThan");
            assert.strictEqual(a.inputs.window, "5m");
            const alertsTo = a.inputs.alerts as { emails: string[]; slacks: { channel: string; url: string }[] };
            assert.deepStrictEqual(alertsTo.emails, fixtureValue("prod", "alertEmails"));
            assert.strictEqual(alertsTo.slacks[0].channel, fixtureValue("prod", "slackChannel"));
            assert.ok(a.secretInputs.includes("alerts"), "the Slack webhook stays secret");
        }
        assert.deepStrictEqual(
            alerts.map((a) => a.inputs.value),
            [85, 90, 85],
        );
    });

    for (const team of TEAMS) {
        it(`${team}: checks the public health URL and alerts when it is down or its certificate expires`, async () => {
            const rec = await recordTeam(team, "staging");
            const check = ofType(rec, T.uptime)[0];
            const v = (k: Parameters<typeof fixtureValue>[1]) => fixtureValue("staging", k, team);
            assert.strictEqual(
                check.inputs.target,
                `https://${v("apiHost")}.${v("domain")}${apiHealthPath("staging", team)}`,
            );
            assert.strictEqual(check.inputs.target, rec.outputs.healthUrl);
            assert.deepStrictEqual(
                ofType(rec, T.uptimeAlert).map((a) => a.inputs.type),
                ["down", "ssl_expiry"],
            );
        });
    }

    it("without a Slack channel, alerts go to email only", async () => {
        const rec = await record("dev");
        for (const a of atLeastOne(ofType(rec, T.alert), "alert"))
            assert.deepStrictEqual((a.inputs.alerts as { slacks: unknown[] }).slacks, []);
    });
});
