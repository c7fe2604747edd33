/** The pull request's offline preview diff step, run as GitHub runs it, against a stub npm. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { tmpdir } from "./helpers";

const workflow = parse(
    fs.readFileSync(path.join(__dirname, "..", ".github", "workflows", "pull-request.yml"), "utf8"),
) as {
    jobs: Record<string, { steps: { name?: string; run?: string }[] }>;
};
const step = Object.values(workflow.jobs)
    .flatMap((j) => j.steps)
    .find((s) => s.name === "What this pull request changes, per stack")!;

/** Runs the step with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`) and an npm that answers per stack. */
function runStep(
    npm: { record: number; diff: Record<string, number> },
    allow: boolean,
): { code: number; summary: string } {
    const dir = tmpdir("prdiff-");
    fs.mkdirSync(path.join(dir, ".base"));
    fs.mkdirSync(path.join(dir, "bin"));
    const stub = [
        "#!/usr/bin/env bash",
        'if [[ "$1" == ci ]]; then exit 0; fi',
        'if [[ "$3" == cost-diff ]]; then echo "COST TABLE"; exit 0; fi',
        'stack="${6}"',
        `if [[ "$*" == *--record* ]]; then exit ${npm.record}; fi`,
        ...Object.entries(npm.diff).map(([s, c]) => `if [[ "$stack" == ${s} ]]; then echo "### $stack"; exit ${c}; fi`),
        "exit 0",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "bin", "npm"), stub, { mode: 0o755 });
    const summary = path.join(dir, "summary.md");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
        cwd: dir,
        encoding: "utf8",
        env: {
            PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
            RUNNER_TEMP: dir,
            GITHUB_STEP_SUMMARY: summary,
            ALLOW_REPLACEMENT: String(allow),
        },
    });
    return { code: r.status ?? -1, summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "" };
}

describe("workflow: the pull request's offline preview diff", () => {
    it("fails the check when the guard refuses a stack's change, for either stack", () => {
        assert.strictEqual(runStep({ record: 0, diff: { staging: 0, prod: 1 } }, false).code, 1);
        assert.strictEqual(runStep({ record: 0, diff: { staging: 1, prod: 0 } }, false).code, 1);
        assert.strictEqual(runStep({ record: 0, diff: { staging: 0, prod: 0 } }, false).code, 0);
    });

    it("lets a refused change through when the PR is labelled allow-replacement, and says so", () => {
        const r = runStep({ record: 0, diff: { staging: 0, prod: 1 } }, true);
        assert.strictEqual(r.code, 0);
        assert.match(r.summary, /allowed by the allow-replacement label/);
    });

    it("a usage or config error is never allowed by the label, whichever stack had it", () => {
        assert.strictEqual(runStep({ record: 0, diff: { staging: 0, prod: 2 } }, true).code, 2);
        assert.strictEqual(runStep({ record: 0, diff: { staging: 2, prod: 1 } }, true).code, 2);
    });

    it("adds each stack's monthly cost before and after to the summary", () => {
        assert.match(runStep({ record: 0, diff: { staging: 0, prod: 0 } }, false).summary, /COST TABLE/);
    });

    it("a base commit that cannot record a stack gives no diff for it, and says so", () => {
        const r = runStep({ record: 2, diff: {} }, false);
        assert.strictEqual(r.code, 0);
        assert.match(r.summary, /cannot record staging/);
    });
});
