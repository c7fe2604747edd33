/**
 * The fake `pulumi` the release tests use runs in their process (fixtures/fake-pulumi/
 * inprocess.ts); the executable next to it must answer exactly as that in-process call does.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tmpdir } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fake = require("./fixtures/fake-pulumi/fake.js") as { run(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv }): { code: number; stdout: string; stderr: string } };
const EXECUTABLE = path.join(__dirname, "fixtures", "fake-pulumi", "pulumi");

describe("the fake pulumi CLI", () => {
    it("answers the same as a process and in-process: output, errors and exit codes", () => {
        const dir = tmpdir("fake-pulumi-");
        const state = path.join(dir, "state.json");
        const history = [{ version: 1, kind: "update", startTime: "2026-11-20T10:00:00Z", config: { "platform:ghcrToken": { value: "ghp_x", secret: true } }, result: "succeeded" }];
        fs.writeFileSync(state, JSON.stringify({ stacks: { prod: { history, outputs: { n: 1 } } } }));
        const env = { ...process.env, FAKE_PULUMI_STATE: state };
        for (const argv of [["version"], ["stack", "history", "--stack", "prod", "--json"], ["stack", "output", "--stack", "prod", "--json"], ["stack", "select", "--stack", "qa"], ["whoami"]]) {
            const child = spawnSync(EXECUTABLE, argv, { cwd: dir, env, encoding: "utf8" });
            const inProcess = fake.run(argv, { cwd: dir, env });
            assert.deepStrictEqual({ code: child.status, stdout: child.stdout, stderr: child.stderr }, inProcess, argv.join(" "));
        }
        assert.strictEqual(fake.run(["stack", "select", "--stack", "qa"], { cwd: dir, env }).code, 6, "an unknown stack fails");
    });
});
