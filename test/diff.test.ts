import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { main } from "../tools/diff";
import { tmpdir } from "./helpers";

const FIXTURE = path.join(__dirname, "fixtures", "lifecycle", "Pulumi.prod.yaml");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
    return { code, out, err };
}

describe("offline preview diff for pull requests", function () {
    this.timeout(60_000);

    it("shows a pool change as a new pool first and the app moving to it, and lets it through", async () => {
        const dir = tmpdir("diff-");
        assert.strictEqual((await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--record", path.join(dir, "base.json")])).code, 0);
        const recorded = fs.readFileSync(path.join(dir, "base.json"), "utf8");
        assert.doesNotMatch(recorded, /offline-secret_key_base|postgresql:\/\//, "no secret text in the recording");
        const head = path.join(dir, "Pulumi.prod.yaml");
        fs.writeFileSync(head, fs.readFileSync(FIXTURE, "utf8").replace("dbPoolSize: 15", "dbPoolSize: 30"));
        const r = await run(["--stack", "prod", "--work-dir", dir, "--base", path.join(dir, "base.json"), "--markdown"]);
        assert.strictEqual(r.code, 0, r.out + r.err);
        assert.match(r.out, /\| replace \(new first\) \| connection pool `prod-pool` \| name, size \|/);
        assert.match(r.out, /\| replace \(new first\) \| container `prod-web-1-app` \| envs \|/);
        assert.doesNotMatch(r.out, /refused/);
    });

    it("refuses a change that rebuilds every server, and says so", async () => {
        const dir = tmpdir("diff-");
        await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--record", path.join(dir, "base.json")]);
        const head = path.join(dir, "Pulumi.prod.yaml");
        fs.writeFileSync(head, fs.readFileSync(FIXTURE, "utf8").replace("serverCount: 3", "serverCount: 3\n  platform:serverImage: debian-13-x64"));
        const r = await run(["--stack", "prod", "--work-dir", dir, "--base", path.join(dir, "base.json"), "--json"]);
        assert.strictEqual(r.code, 1);
        const json = JSON.parse(r.out) as { refused: boolean; guard: { what: string; op: string; blocking: boolean }[] };
        assert.ok(json.refused);
        assert.strictEqual(json.guard.filter((f) => f.what === "server" && f.op === "replace" && f.blocking).length, 3);
    });

    it("one line for a missing or foreign base file", async () => {
        const r = await run(["--stack", "prod", "--work-dir", path.dirname(FIXTURE), "--base", "/nonexistent.json"]);
        assert.strictEqual(r.code, 2);
        assert.match(r.err, /^error: cannot read \/nonexistent.json/);
    });
});
