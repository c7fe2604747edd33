/**
 * The delivery workflows, read as data and run where they can be: a current actionlint and
 * zizmor on every file, shellcheck and bash under the options GitHub really uses, then one
 * test per security property (each would fail on the workflows before issue 10).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { shellcheck, tmpdir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();
type Step = { name?: string; uses?: string; run?: string; shell?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; id?: string };
type Concurrency = { group: string; "cancel-in-progress": boolean; queue?: string };
type Job = {
    uses?: string; with?: Record<string, unknown>; needs?: string | string[]; if?: string; permissions?: Record<string, string>;
    concurrency?: Concurrency; environment?: { name: string } | string; steps?: Step[]; env?: Record<string, string>;
    secrets?: unknown; outputs?: Record<string, string>; defaults?: { run?: { shell?: string } };
};
type Workflow = { name: string; on: Record<string, any>; permissions?: Record<string, string>; concurrency?: Concurrency; defaults?: { run?: { shell?: string } }; jobs: Record<string, Job> };
const wf = (file: string): Workflow => parse(fs.readFileSync(path.join(DIR, file), "utf8"));
const raw = (file: string) => fs.readFileSync(path.join(DIR, file), "utf8");
const jobsOf = (file: string) => Object.entries(wf(file).jobs);
const stepNamed = (job: Job, name: string) => {
    const s = (job.steps ?? []).find((x) => x.name === name || x.id === name);
    if (!s) throw new Error(`no step ${name}`);
    return s;
};
const ACTION_SHA = /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/;

/**
 * The command line GitHub runs a `run:` step with (docs: workflow syntax, defaults.run.shell):
 * `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; with no shell set on a Linux
 * runner it is `bash -e {0}`, without pipefail.
 */
function githubShell(w: Workflow, job: Job, step: Step): string[] {
    const shell = step.shell ?? job.defaults?.run?.shell ?? w.defaults?.run?.shell;
    if (shell === undefined) return ["bash", "-e"];
    if (shell === "bash") return ["bash", "--noprofile", "--norc", "-eo", "pipefail"];
    throw new Error(`unexpected shell ${shell}`);
}
const setOptions = (argv: string[]) => (argv.includes("pipefail") ? "set -eo pipefail" : "set -e");

/** Runs a step's script as GitHub would, with stub commands first on PATH. */
function runStep(w: Workflow, job: Job, step: Step, stubs: Record<string, string>, env: Record<string, string> = {}, inRepo = true): { status: number; out: string; ghOutput: string } {
    const dir = tmpdir("step-");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(stubs)) fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    const script = path.join(dir, "step.sh");
    fs.writeFileSync(script, step.run!);
    const ghOutput = path.join(dir, "output");
    fs.writeFileSync(ghOutput, "");
    const [cmd, ...args] = githubShell(w, job, step);
    const res = spawnSync(cmd, [...args, script], {
        cwd: inRepo ? ROOT : dir, encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: ghOutput, GITHUB_STEP_SUMMARY: path.join(dir, "summary"), GITHUB_ENV: path.join(dir, "env"), ...env },
    });
    return { status: res.status ?? -1, out: `${res.stdout}${res.stderr}`, ghOutput: fs.readFileSync(ghOutput, "utf8") };
}

function tool(name: string, hint: string): string {
    const local = path.join(ROOT, "bin", name);
    if (fs.existsSync(local)) return local;
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (found === "") throw new Error(`${name} is not installed: ${hint}`);
    return found;
}

describe("workflows", () => {
    it("has the pull request, merge, on-demand, rollback and reusable deploy workflows", () => {
        assert.deepStrictEqual(FILES, ["_deploy.yml", "deploy-on-demand.yml", "deploy.yml", "drift.yml", "pull-request.yml", "rollback.yml"]);
    });

    it("pass a current actionlint (only the documented `queue` gap is ignored)", () => {
        const bin = tool("actionlint", ".ci/run builds v1.7.12 into bin/ (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)");
        const version = execFileSync(bin, ["-version"], { encoding: "utf8" }).split("\n")[0];
        const [major, minor, patch] = (/^v(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
        assert.ok(major > 1 || (major === 1 && (minor > 7 || (minor === 7 && patch >= 12))), `actionlint ${version} is older than v1.7.12, the newest release this suite was checked with`);
        const res = spawnSync(bin, ["-config-file", ".github/actionlint.yaml", "-no-color", ...FILES.map((f) => `.github/workflows/${f}`)], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(res.stdout, "");
        assert.strictEqual(res.status, 0, res.stderr);
    });

    it("pass zizmor with zero findings (each inline ignore says why)", () => {
        const bin = tool("zizmor", ".ci/run installs it (pip install zizmor==1.32.0)");
        const res = spawnSync(bin, ["--offline", "--format", "json", ".github/workflows"], { cwd: ROOT, encoding: "utf8" });
        assert.deepStrictEqual(JSON.parse(res.stdout || "null"), [], res.stderr);
        for (const file of FILES) {
            for (const [i, line] of raw(file).split("\n").entries()) {
                if (!line.includes("zizmor: ignore")) continue;
                const before = raw(file).split("\n")[i - 1] ?? "";
                assert.match(before.trim(), /^#\s*\S/, `${file}:${i + 1}: an ignore needs a comment saying why on the line above`);
            }
        }
    });

    for (const file of FILES) {
        it(`${file}: every run step uses bash with pipefail, passes shellcheck under those options and interpolates no expression`, () => {
            const w = wf(file);
            for (const job of Object.values(w.jobs)) {
                for (const step of (job.steps ?? []).filter((s) => s.run)) {
                    const shell = githubShell(w, job, step);
                    assert.ok(shell.includes("pipefail"), `${file}: ${step.name ?? step.run}: runs as ${shell.join(" ")}; set defaults.run.shell: bash`);
                    assert.ok(!step.run!.includes("${{"), `${step.name ?? step.run}: pass values through env, never \${{ }} in a script`);
                    assert.strictEqual(shellcheck(`#!/usr/bin/env bash\n${setOptions(shell)}\n${step.run}`), "", step.name ?? step.run);
                }
            }
        });

        it(`${file}: grants nothing by default, declares each job's permissions and never writes to the repository`, () => {
            const w = wf(file);
            assert.deepStrictEqual(w.permissions, {});
            for (const [name, job] of Object.entries(w.jobs)) {
                assert.ok(job.permissions !== undefined, `${file}:${name} has explicit permissions`);
                assert.notStrictEqual(job.permissions?.contents, "write", `${file}:${name} may not push: the stack history is the release record`);
            }
            assert.doesNotMatch(raw(file), /git push|git commit/);
        });

        it(`${file}: pins every action to a full commit SHA with its release in a comment, and checks out without persisting credentials`, () => {
            for (const [, job] of jobsOf(file)) {
                for (const step of (job.steps ?? []).filter((s) => s.uses)) {
                    assert.match(step.uses!, ACTION_SHA, step.uses);
                    assert.match(raw(file), new RegExp(`${step.uses!.replace(/[/.]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`), `${step.uses} names its release`);
                    if (step.uses!.startsWith("actions/checkout@")) assert.strictEqual(step.with?.["persist-credentials"], false, `${file}: checkout keeps no token in .git/config`);
                }
            }
        });
    }

    describe("credentials", () => {
        it("no job hands all secrets on (`secrets: inherit`); callers pass each one by name, as a reusable workflow needs for environment secrets", () => {
            const declared = Object.keys(wf("_deploy.yml").on.workflow_call.secrets).sort();
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    if (!job.uses) continue;
                    assert.notStrictEqual(job.secrets, "inherit", `${file}:${name}`);
                    const passed = job.secrets as Record<string, string>;
                    assert.deepStrictEqual(Object.keys(passed).sort(), declared, `${file}:${name} passes every declared secret`);
                    for (const [k, v] of Object.entries(passed)) assert.strictEqual(v, `\${{ secrets.${k} }}`, `${file}:${name}: ${k} by its own name`);
                }
            }
        });

        it("only jobs bound to a GitHub environment read secrets, and only in the steps that need them", () => {
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    if (job.uses) continue;
                    const text = JSON.stringify(job);
                    if (!text.includes("secrets.")) continue;
                    assert.ok(job.environment, `${file}:${name} reads secrets outside an environment (any branch could)`);
                    assert.ok(!JSON.stringify(job.env ?? {}).includes("secrets."), `${file}:${name}: secrets at job level reach every step, npm ci included`);
                    for (const s of job.steps ?? []) {
                        if (/^npm ci\b/.test(s.run ?? "")) assert.ok(!JSON.stringify(s).includes("secrets."), `${file}:${name}: npm ci runs install scripts`);
                    }
                }
            }
        });

        it("the deploy job takes the stack's environment; the approval job holds no credential", () => {
            const w = wf("_deploy.yml");
            assert.deepStrictEqual(w.jobs.deploy.environment, { name: "${{ inputs.stack }}" });
            assert.ok(!JSON.stringify(w.jobs.approve).includes("secrets."));
            assert.strictEqual(w.jobs.approve.environment, undefined);
            assert.deepStrictEqual(w.jobs.approve.permissions, { contents: "read", issues: "write" });
            assert.strictEqual(w.jobs.deploy.needs, "approve");
        });

        it("a pull request (the branch's own code) gets no secret, no environment, no tailnet and no write permission", () => {
            const w = wf("pull-request.yml");
            assert.doesNotMatch(raw("pull-request.yml"), /secrets\.|tailscale|environment:/);
            for (const [name, job] of Object.entries(w.jobs)) assert.deepStrictEqual(job.permissions, { contents: "read" }, name);
        });

        it("only the deploy and drift jobs join the tailnet, each as a node tagged for its own stack, with the action's cache off", () => {
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    const ts = (job.steps ?? []).find((s) => s.uses?.startsWith("tailscale/github-action@"));
                    const own = ({ "_deploy.yml:deploy": "tag:ci-${{ inputs.stack }}", "drift.yml:drift": "tag:ci-${{ matrix.stack }}" } as Record<string, string | undefined>)[`${file}:${name}`];
                    assert.strictEqual(!!ts, !!own, `${file}:${name}`);
                    if (ts) {
                        assert.strictEqual(ts.with!.tags, own);
                        assert.strictEqual(ts.with!["use-cache"], "false");
                    }
                }
            }
        });

        it("no cache in a job that holds deploy credentials", () => {
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    if (!job.environment) continue;
                    for (const s of job.steps ?? []) {
                        assert.ok(!s.uses?.startsWith("actions/cache"), `${file}:${name}: ${s.uses}`);
                        if (s.uses?.startsWith("actions/setup-node")) {
                            assert.strictEqual(s.with?.cache, undefined, `${file}:${name}`);
                            assert.strictEqual(s.with?.["package-manager-cache"], false, `${file}:${name}: setup-node caches by default`);
                        }
                    }
                }
            }
        });
    });

    describe("what prod deploys", () => {
        it("every checkout in the deploy takes the commit it was given, never a branch tip", () => {
            for (const file of FILES) assert.doesNotMatch(raw(file), /github\.ref\b/, file);
            const w = wf("_deploy.yml");
            const checkouts = Object.values(w.jobs).flatMap((job) => (job.steps ?? []).filter((x) => x.uses?.startsWith("actions/checkout@")));
            assert.ok(checkouts.length > 0, "the deploy checks out the repository");
            for (const s of checkouts) assert.strictEqual(s.with?.ref, "${{ inputs.commit }}");
            assert.strictEqual(w.on.workflow_call.inputs.commit.required, true);
        });

        it("merge to main: staging runs this commit; prod gets exactly staging's commit, tag and digest, with no fallback", () => {
            const w = wf("deploy.yml");
            assert.strictEqual(w.jobs.staging.with!.commit, "${{ github.sha }}");
            const prod = w.jobs.prod;
            assert.deepStrictEqual(prod.needs, ["staging", "labels"]);
            assert.strictEqual(prod.with!.commit, "${{ needs.staging.outputs.commit }}");
            assert.strictEqual(prod.with!["image-tag"], "${{ needs.staging.outputs.tag }}");
            assert.strictEqual(prod.with!["image-digest"], "${{ needs.staging.outputs.digest }}");
            assert.strictEqual(prod.with!["require-release"], true);
        });

        it("the input check fails a promotion with an empty staging output and passes a complete one", () => {
            const w = wf("_deploy.yml");
            const job = w.jobs.deploy;
            const check = stepNamed(job, "Check the inputs");
            const sha = "a".repeat(40);
            const digest = `sha256:${"b".repeat(64)}`;
            const run = (env: Record<string, string>) => runStep(w, job, check, {}, { MODE: "up", COMMIT: sha, IMAGE_TAG: "1.5.0", IMAGE_DIGEST: digest, REQUIRE_RELEASE: "true", ...env });
            assert.strictEqual(run({}).status, 0, run({}).out);
            assert.notStrictEqual(run({ IMAGE_DIGEST: "" }).status, 0);
            assert.notStrictEqual(run({ IMAGE_TAG: "" }).status, 0);
            assert.notStrictEqual(run({ COMMIT: "" }).status, 0);
            assert.notStrictEqual(run({ MODE: "destroy" }).status, 0);
            assert.strictEqual(run({ IMAGE_TAG: "", IMAGE_DIGEST: "", REQUIRE_RELEASE: "false" }).status, 0, "a plain deploy keeps the committed tag");
        });

        it("a deploy that names no image keeps the stack's running release (nothing is committed back), and fails if the backend cannot be read", () => {
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "Keep the running release");
            assert.strictEqual(step.if, "inputs.mode == 'up' && inputs.image-tag == '' && steps.order.outputs.skip != 'true'");
            const dir = tmpdir("keep-");
            const log = path.join(dir, "calls");
            const digest = `sha256:${"d".repeat(64)}`;
            const pulumi = (outputs: string) => `if [[ "$1 $2" == "stack output" ]]; then echo '${outputs}'; else echo "$*" >> ${log}; fi`;
            const res = runStep(w, w.jobs.deploy, step, { pulumi: pulumi(JSON.stringify({ release: { tag: "1.5.0", digest } })) }, { STACK: "staging" });
            assert.strictEqual(res.status, 0, res.out);
            assert.deepStrictEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
                "config set --stack staging platform:imageTag 1.5.0", `config set --stack staging platform:imageDigest ${digest}`, `config set --stack staging platform:imagePin 1.5.0@${digest}`]);
            fs.rmSync(log);
            assert.strictEqual(runStep(w, w.jobs.deploy, step, { pulumi: pulumi("{}") }, { STACK: "staging" }).status, 0);
            assert.ok(!fs.existsSync(log), "a first deploy keeps the committed imageTag");
            assert.notStrictEqual(runStep(w, w.jobs.deploy, step, { pulumi: "exit 1" }, { STACK: "staging" }).status, 0);
        });

        it("never deploys an older commit over a newer one the stack runs, and then reports the running commit for the promotion", () => {
            const w = wf("_deploy.yml");
            const job = w.jobs.deploy;
            const order = stepNamed(job, "order");
            const git = (...a: string[]) => execFileSync("git", a, { cwd: ROOT, encoding: "utf8" }).trim();
            const [head, parent] = [git("rev-parse", "HEAD"), git("rev-parse", "HEAD~1")];
            const up = job.steps!.find((s) => s.with?.command === "up")!;
            assert.match(String(up.with!.message), / at \$\{\{ inputs\.commit \}\}$/, "each update's message ends with its commit: the order check reads it back");
            const history = (c: string) => `echo '${JSON.stringify([{ kind: "refresh", message: "" }, { kind: "update", message: `Deploy on merge #3 by maria at ${c}` }])}'`;
            const older = runStep(w, job, order, { pulumi: history(head) }, { STACK: "staging", COMMIT: parent });
            assert.strictEqual(older.status, 0, older.out);
            assert.match(older.ghOutput, /^skip=true$/m);
            assert.match(older.ghOutput, new RegExp(`^running=${head}$`, "m"));
            // A promotion over a newer running commit hands that commit on; an image asked for by
            // name (a dispatch) is never dropped silently: the run fails and says so.
            assert.match(runStep(w, job, order, { pulumi: history(head) }, { STACK: "staging", COMMIT: parent, IMAGE_TAG: "1.5.0", REQUIRE_RELEASE: "true" }).ghOutput, /^skip=true$/m);
            const dispatched = runStep(w, job, order, { pulumi: history(head) }, { STACK: "staging", COMMIT: parent, IMAGE_TAG: "1.5.0", REQUIRE_RELEASE: "false" });
            assert.strictEqual(dispatched.status, 1);
            assert.match(dispatched.out, /::error::staging already runs .*: 1\.5\.0 was not deployed; dispatch it again/);
            assert.match(runStep(w, job, order, { pulumi: history(parent) }, { STACK: "staging", COMMIT: head }).ghOutput, /^skip=false$/m);
            assert.match(runStep(w, job, order, { pulumi: history(head) }, { STACK: "staging", COMMIT: head }).ghOutput, /^skip=false$/m);
            assert.match(runStep(w, job, order, { pulumi: "echo '[]'" }, { STACK: "staging", COMMIT: head }).ghOutput, /^skip=false$/m);
            assert.notStrictEqual(runStep(w, job, order, { pulumi: "exit 1" }, { STACK: "staging", COMMIT: head }).status, 0, "an unreadable history fails the deploy");
            for (const name of ["Keep the running release", "Select the release", "Pin the release digest", "Replacement guard and policy pack (preview)", "Re-deploy the previous release"]) {
                assert.match(stepNamed(job, name).if!, /steps\.order\.outputs\.skip != 'true'/, name);
            }
            assert.match(up.if!, /steps\.order\.outputs\.skip != 'true'/);
            const release = stepNamed(job, "release");
            const reported = runStep(w, job, release, { pulumi: "exit 1" }, { STACK: "staging", SKIPPED: "true", RUNNING: head });
            assert.match(reported.ghOutput, new RegExp(`^commit=${head}$`, "m"));
        });

        it("the deploy publishes the commit it checked out, read from git", () => {
            const w = wf("_deploy.yml");
            assert.strictEqual(w.on.workflow_call.outputs.commit.value, "${{ jobs.deploy.outputs.commit }}");
            const read = stepNamed(w.jobs.deploy, "release");
            const res = runStep(w, w.jobs.deploy, read, { pulumi: "exit 1" }, { STACK: "staging" });
            const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
            assert.match(res.ghOutput, new RegExp(`^commit=${head}$`, "m"));
        });
    });

    describe("steps fail when their command fails", () => {
        it("the parity gate fails the pull request when the plan fails, yet still closes the summary", () => {
            const w = wf("pull-request.yml");
            const step = stepNamed(w.jobs.test, "Staging still mirrors prod");
            const res = runStep(w, w.jobs.test, step, { npm: "echo 'Parity staging vs prod: UNEXPECTED'; exit 1" });
            assert.notStrictEqual(res.status, 0, "a failing plan piped into sed must fail the step");
            assert.strictEqual(runStep(w, w.jobs.test, step, { npm: "echo 'Parity staging vs prod: mirrors'" }).status, 0);
        });

        it("the post-deploy check fails the step with its one-line verdict, and passes when the check passes", () => {
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "health");
            // A stand-in for the check: it writes its verdict to GITHUB_OUTPUT as the real one does.
            const failing = runStep(w, w.jobs.deploy, step, { npm: "echo 'reason=GET / answered 500, expected 200' >> \"$GITHUB_OUTPUT\"; exit 1" }, { STACK: "staging" });
            assert.strictEqual(failing.status, 1);
            assert.match(failing.out, /::error title=Post-deploy check::GET \/ answered 500, expected 200/);
            assert.strictEqual(runStep(w, w.jobs.deploy, step, { npm: "exit 0" }, { STACK: "staging" }).status, 0);
        });

        it("the replacement guard fails the deploy when the preview itself fails", () => {
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "Replacement guard and policy pack (preview)");
            const res = runStep(w, w.jobs.deploy, step, { pulumi: "exit 3", npm: "exit 0" }, { STACK: "staging", ALLOW: "" }, false);
            assert.strictEqual(res.status, 3);
        });
    });

    describe("concurrency", () => {
        it("no workflow-wide lock: a run waiting for prod's approval never holds up the next merge's staging", () => {
            for (const file of ["deploy.yml", "deploy-on-demand.yml", "rollback.yml", "_deploy.yml"]) assert.strictEqual(wf(file).concurrency, undefined, file);
        });

        it("one update per stack, never cancelled, every waiting run kept; the approval wait is outside the lock", () => {
            const w = wf("_deploy.yml");
            const c = w.jobs.deploy.concurrency!;
            assert.strictEqual(c["cancel-in-progress"], false);
            assert.strictEqual(c.queue, "max", "the default queue keeps one waiting run and cancels the rest: merges would be dropped");
            assert.strictEqual(w.jobs.approve.concurrency, undefined);
        });

        it("a rollback queues in a different group from deploys, so it never waits behind a pending deploy", () => {
            const group = wf("_deploy.yml").jobs.deploy.concurrency!.group;
            // Evaluates the group's expression for both modes (a && b || c, as GitHub does).
            const evalGroup = (mode: string) => group.replace(/\$\{\{ inputs\.mode == 'rollback' && '(\w+)' \|\| '(\w+)' \}\}/, (_m, a: string, b: string) => (mode === "rollback" ? a : b)).replace("${{ inputs.stack }}", "prod");
            assert.ok(!evalGroup("up").includes("${{") && evalGroup("up") !== evalGroup("rollback"), `${evalGroup("up")} vs ${evalGroup("rollback")}`);
            assert.strictEqual(wf("rollback.yml").jobs.rollback.with!.mode, "rollback");
        });
    });

    describe("the allow-replacement label after merge", () => {
        const env = { GH_TOKEN: "t", REPO: "o/r", SHA: "c".repeat(40) };
        const labelsJob = () => {
            const w = wf("deploy.yml");
            assert.ok(w.jobs.labels, "deploy.yml reads the merged pull request's labels in a `labels` job");
            return { w, step: stepNamed(w.jobs.labels, "read") };
        };
        it("a merged pull request labelled allow-replacement lets both deploys replace", () => {
            const { w, step } = labelsJob();
            const res = runStep(w, w.jobs.labels, step, { gh: "echo 'bug,allow-replacement'" }, env);
            assert.strictEqual(res.status, 0, res.out);
            assert.match(res.ghOutput, /^allow=true$/m);
            for (const job of ["staging", "prod"]) assert.strictEqual(w.jobs[job].with!["allow-replacement"], "${{ needs.labels.outputs.allow-replacement == 'true' }}");
        });
        it("no label (or a look-alike) does not, and a failed lookup fails the run", () => {
            const { w, step } = labelsJob();
            assert.match(runStep(w, w.jobs.labels, step, { gh: "echo 'allow-replacement-later,bug'" }, env).ghOutput, /^allow=false$/m);
            assert.match(runStep(w, w.jobs.labels, step, { gh: "echo ''" }, env).ghOutput, /^allow=false$/m);
            assert.notStrictEqual(runStep(w, w.jobs.labels, step, { gh: "exit 1" }, env).status, 0);
        });
    });

    it("the reusable deploy: pins the promoted digest, guards replacements, runs the policy pack, deploys, health-checks, rolls back and still fails", () => {
        const steps = wf("_deploy.yml").jobs.deploy.steps!;
        const select = stepNamed({ steps }, "Select the release");
        assert.match(select.run!, /pulumi config set --stack "\$STACK" platform:imageDigest "\$IMAGE_DIGEST"/);
        const pin = stepNamed({ steps }, "Pin the release digest");
        const guard = stepNamed({ steps }, "Replacement guard and policy pack (preview)");
        const up = steps.find((s) => s.with?.command === "up")!;
        assert.strictEqual(up.with!.policyPacks, "policy");
        assert.ok(steps.indexOf(select) < steps.indexOf(pin) && steps.indexOf(pin) < steps.indexOf(guard) && steps.indexOf(guard) < steps.indexOf(up));
        const back = stepNamed({ steps }, "Re-deploy the previous release");
        assert.strictEqual(back.if, "failure() && steps.health.outcome == 'failure' && inputs.mode == 'up' && steps.order.outputs.skip != 'true'");
        assert.ok(!steps.some((s) => (s as Record<string, unknown>)["continue-on-error"]), "a failed check is never swallowed");
    });

    it("Slack: notified when the environment has a webhook, skipped cleanly when it has none", () => {
        const w = wf("_deploy.yml");
        const slack = stepNamed(w.jobs.deploy, "Notify Slack");
        assert.strictEqual(slack.if, "always()", "secrets are not readable in `if:`, so the script decides");
        const none = runStep(w, w.jobs.deploy, slack, { curl: "exit 7" }, { SLACK_WEBHOOK_URL: "", STARTED_AT: "0" });
        assert.strictEqual(none.status, 0);
        const sent = runStep(w, w.jobs.deploy, slack, { curl: "cat > /dev/null; echo posted" }, { SLACK_WEBHOOK_URL: "https://hooks.example/x", STARTED_AT: "0", MODE: "up", STACK: "prod", RESULT: "success", TAG: "1.5.0", DIGEST: "sha256:abc", GITHUB_ACTOR: "maria", RUN_URL: "u" });
        assert.match(sent.out, /posted/);
        // The message itself: the release and what it replaced, who started it, and why a rollback happened.
        const d = (c: string) => `sha256:${c.repeat(64)}`;
        const payload = runStep(w, w.jobs.deploy, slack, { curl: "cat" }, {
            SLACK_WEBHOOK_URL: "https://hooks.example/x", STARTED_AT: "0", MODE: "up", STACK: "prod", RESULT: "failure", TAG: "1.5.0", DIGEST: d("a"),
            FROM_TAG: "1.4.2", FROM_DIGEST: d("b"), HEALTH_REASON: "GET / answered 500, expected 200", GITHUB_ACTOR: "maria", RUN_URL: "https://run/1",
        });
        const text = (JSON.parse(payload.out) as { text: string }).text;
        for (const part of ["prod", "1.5.0 (aaaaaaaaaaaa)", "1.4.2 (bbbbbbbbbbbb)", "maria", "GET / answered 500", "https://run/1"]) assert.ok(text.includes(part), `${part} in ${text}`);
        // A services stack: each service's tag and short digest, after and before.
        const services = runStep(w, w.jobs.deploy, slack, { curl: "cat" }, {
            SLACK_WEBHOOK_URL: "https://hooks.example/x", STARTED_AT: "0", MODE: "up", STACK: "prod", RESULT: "success", TAG: "", DIGEST: "",
            SERVICES_TO: `api=1.5.0@${d("a")} web=2.4.1@${d("c")}`, SERVICES_FROM: `api=1.4.2@${d("b")} web=2.4.1@${d("c")}`, GITHUB_ACTOR: "maria", RUN_URL: "https://run/1",
        });
        assert.strictEqual(services.status, 0, services.out);
        const first = (JSON.parse(services.out) as { text: string }).text.split("\n").slice(0, 2);
        assert.deepStrictEqual(first, [
            ":white_check_mark: *deploy prod succeeded: api 1.5.0 (aaaaaaaaaaaa), web 2.4.1 (cccccccccccc)* — <https://run/1|run>",
            "> from: api 1.4.2 (bbbbbbbbbbbb), web 2.4.1 (cccccccccccc)",
        ]);
    });

    describe("services stacks: a deploy names one service or several", () => {
        const D = (c: string) => `sha256:${c.repeat(64)}`;
        /**
         * A stand-in Pulumi CLI for a stack that declares `declared` (null: a one-image stack, no
         * platform:services). `committed` and `then` are each service's tag in the stack file now
         * and at the commit the stack runs (`--config-file`); `config set` calls are logged one a
         * line, arguments joined by `|`, so an empty value shows.
         */
        function fakePulumi(o: { declared: string[] | null; outputs?: unknown; committed?: Record<string, string>; then?: Record<string, string> }) {
            const log = path.join(tmpdir("pulumi-"), "calls");
            const tags = (m: Record<string, string> = {}) => Object.entries(m).map(([n, t]) => `platform:services.${n}.tag) echo ${t} ;;`).join(" ");
            const body = [
                `if [[ "$1 $2" == "stack output" ]]; then echo '${JSON.stringify(o.outputs ?? {})}'; exit 0; fi`,
                `if [[ "$1 $2" == "config set" ]]; then shift 2; printf '%s|' "$@" >> ${log}; echo >> ${log}; exit 0; fi`,
                `[[ "$1 $2" == "config get" ]] || exit 9`,
                `key="\${*: -1}"`,
                `if [[ "$key" == platform:services ]]; then ${o.declared ? "echo '{}'; exit 0" : "exit 255"}; fi`,
                `if [[ "$key" =~ ^platform:services\\.([a-z0-9-]+)\\.image$ ]]; then [[ " ${(o.declared ?? []).join(" ")} " == *" \${BASH_REMATCH[1]} "* ]] && exit 0; exit 255; fi`,
                `if [[ "$*" == *--config-file* ]]; then case "$key" in ${tags(o.then)} *) exit 255 ;; esac; exit 0; fi`,
                `case "$key" in ${tags(o.committed)} *) exit 255 ;; esac`,
            ].join("\n");
            const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter((l) => l !== "") : []);
            return { body, calls };
        }

        describe("the input check", () => {
            const w = wf("_deploy.yml");
            const check = stepNamed(w.jobs.deploy, "Check the inputs");
            const run = (env: Record<string, string>) => runStep(w, w.jobs.deploy, check, {}, { MODE: "up", COMMIT: "a".repeat(40), IMAGE_TAG: "", IMAGE_DIGEST: "", REQUIRE_RELEASE: "false", SERVICES: "", ...env });
            const errors = (out: string) => out.split("\n").filter((l) => l.startsWith("::error::"));

            it("takes tags by service, separated by spaces or commas, pinned or not", () => {
                for (const SERVICES of ["api=1.5.0 web=2.4.1", "web=2.4.1", "api=1.5.0,web=2.4.1", `api=1.5.0@${D("a")}  web=v2_0`]) {
                    const r = run({ SERVICES });
                    assert.strictEqual(r.status, 0, `${SERVICES}: ${r.out}`);
                }
            });

            it("refuses a malformed entry, a name given twice, a stray character and image-tag with services, each in one ::error:: line", () => {
                const cases: [string, Record<string, string>, RegExp][] = [
                    ["a bad tag", { SERVICES: "api=-1.5.0" }, /'api=-1\.5\.0' is not <service>=<tag>/],
                    ["no tag", { SERVICES: "api web=2.4.1" }, /'api' is not <service>=<tag>/],
                    ["an uppercase name", { SERVICES: "API=1.5.0" }, /'API=1\.5\.0' is not <service>=<tag>/],
                    ["a short digest", { SERVICES: "api=1.5.0@sha256:abc" }, /is not <service>=<tag>/],
                    ["twice", { SERVICES: "api=1.5.0 api=1.5.1" }, /api is named twice/],
                    ["a newline", { SERVICES: "api=1.5.0\n::warning::web=2" }, /has a character that is not in a service name/],
                    ["a shell word", { SERVICES: "api=$(id)" }, /has a character/],
                    ["both", { SERVICES: "api=1.5.0", IMAGE_TAG: "1.5.0" }, /image-tag .* or services .*, not both/],
                ];
                for (const [what, env, message] of cases) {
                    const r = run(env);
                    assert.strictEqual(r.status, 1, `${what}: ${r.out}`);
                    assert.strictEqual(errors(r.out).length, 1, `${what}: ${r.out}`);
                    assert.match(errors(r.out)[0], message, what);
                    assert.doesNotMatch(r.out, /^::warning::/m, `${what}: nothing of the value starts a workflow command`);
                }
            });

            it("a promotion of a services stack needs every service's digest; the set staging ran passes", () => {
                const promote = { REQUIRE_RELEASE: "true" };
                assert.strictEqual(run({ ...promote, SERVICES: `api=1.5.0@${D("a")} web=2.4.1@${D("b")}` }).status, 0);
                const missing = run({ ...promote, SERVICES: `api=1.5.0@${D("a")} web=2.4.1` });
                assert.strictEqual(missing.status, 1);
                assert.match(errors(missing.out)[0], /promotion needs the digest staging ran for each service; got 'web=2\.4\.1'/);
                assert.notStrictEqual(run({ ...promote, SERVICES: "" }).status, 0, "an empty staging output fails the promotion");
            });

            it("a rollback's service must be a service name", () => {
                assert.strictEqual(run({ MODE: "rollback", ROLLBACK_SERVICE: "api" }).status, 0);
                assert.match(errors(run({ MODE: "rollback", ROLLBACK_SERVICE: "api;rm" }).out)[0] ?? "", /service 'api;rm' is not a service name/);
            });
        });

        describe("selecting the release", () => {
            const w = wf("_deploy.yml");
            const select = stepNamed(w.jobs.deploy, "Select the release");
            const run = (pulumi: string, SERVICES: string) => runStep(w, w.jobs.deploy, select, { pulumi }, { STACK: "staging", IMAGE_TAG: "", IMAGE_DIGEST: "", SERVICES });

            it("runs for a services input too, never when the older commit is skipped", () => {
                assert.strictEqual(select.if, "inputs.mode == 'up' && (inputs.image-tag != '' || inputs.services != '') && steps.order.outputs.skip != 'true'");
            });

            it("sets each named service's tag with --path and clears its digest and pin, so the tag is resolved again", () => {
                const p = fakePulumi({ declared: ["api", "web"] });
                const r = run(p.body, "api=1.5.0");
                assert.strictEqual(r.status, 0, r.out);
                assert.deepStrictEqual(p.calls(), [
                    "--stack|staging|--path|platform:services.api.tag|1.5.0|",
                    "--stack|staging|--path|platform:services.api.digest||",
                    "--stack|staging|--path|platform:services.api.pin||",
                ]);
            });

            it("pins tag@digest exactly, for every service of a promoted set", () => {
                const p = fakePulumi({ declared: ["api", "web"] });
                const r = run(p.body, `api=1.5.0@${D("a")} web=2.4.1@${D("b")}`);
                assert.strictEqual(r.status, 0, r.out);
                assert.deepStrictEqual(p.calls().filter((c) => c.includes(".pin|")), [
                    `--stack|staging|--path|platform:services.api.pin|1.5.0@${D("a")}|`,
                    `--stack|staging|--path|platform:services.web.pin|2.4.1@${D("b")}|`,
                ]);
                assert.strictEqual(p.calls().length, 6);
            });

            it("refuses a service the stack does not declare, in one ::error:: line, before setting anything", () => {
                const p = fakePulumi({ declared: ["api", "web"] });
                const r = run(p.body, "api=1.5.0 worker=1.5.0");
                assert.strictEqual(r.status, 1, r.out);
                assert.deepStrictEqual(r.out.split("\n").filter((l) => l.startsWith("::error::")), [
                    "::error::services: worker is not a service of staging (no platform:services.worker in Pulumi.staging.yaml at this commit)",
                ]);
                assert.deepStrictEqual(p.calls(), [], "api is not half-applied");
            });

            it("a one-image stack's only service is app: set through imageTag, imageDigest and imagePin; any other name is refused", () => {
                const p = fakePulumi({ declared: null });
                assert.strictEqual(run(p.body, `app=1.5.0@${D("c")}`).status, 0);
                assert.deepStrictEqual(p.calls(), [
                    "--stack|staging|platform:imageTag|1.5.0|", `--stack|staging|platform:imageDigest|${D("c")}|`, `--stack|staging|platform:imagePin|1.5.0@${D("c")}|`,
                ]);
                const refused = run(fakePulumi({ declared: null }).body, "api=1.5.0");
                assert.strictEqual(refused.status, 1);
                assert.match(refused.out, /^::error::services: staging has no platform:services, so its one service is app, not api/m);
            });
        });

        describe("keeping the running release set", () => {
            const w = wf("_deploy.yml");
            const keep = stepNamed(w.jobs.deploy, "Keep the running release");
            const outputs = { release: { services: { api: { tag: "1.4.2", digest: D("a") }, web: { tag: "2.3.0", digest: D("b") }, old: { tag: "0.9.0", digest: D("c") } } } };
            const git = "[[ \"$1\" == show ]] && { echo 'config: {}'; exit 0; }; exit 1";

            it("keeps each declared service's tag and digest from the release record, and skips one no longer declared", () => {
                const p = fakePulumi({ declared: ["api", "web"], outputs, committed: { api: "1.0.0", web: "2.0.0" } });
                const r = runStep(w, w.jobs.deploy, keep, { pulumi: p.body, git }, { STACK: "staging", RUNNING: "", RUNNER_TEMP: tmpdir("keep-") });
                assert.strictEqual(r.status, 0, r.out);
                assert.deepStrictEqual(p.calls(), [
                    "--stack|staging|--path|platform:services.api.tag|1.4.2|", `--stack|staging|--path|platform:services.api.digest|${D("a")}|`, `--stack|staging|--path|platform:services.api.pin|1.4.2@${D("a")}|`,
                    "--stack|staging|--path|platform:services.web.tag|2.3.0|", `--stack|staging|--path|platform:services.web.digest|${D("b")}|`, `--stack|staging|--path|platform:services.web.pin|2.3.0@${D("b")}|`,
                ]);
                assert.match(r.out, /old is no longer a service of staging/);
            });

            it("a merge that changes a service's committed tag deploys that tag; the others keep what they run", () => {
                const p = fakePulumi({ declared: ["api", "web"], outputs, committed: { api: "1.5.0", web: "2.0.0" }, then: { api: "1.4.2", web: "2.0.0" } });
                const r = runStep(w, w.jobs.deploy, keep, { pulumi: p.body, git }, { STACK: "staging", RUNNING: "b".repeat(40), RUNNER_TEMP: tmpdir("keep-") });
                assert.strictEqual(r.status, 0, r.out);
                assert.deepStrictEqual(p.calls().map((c) => c.split("|")[3]), ["platform:services.web.tag", "platform:services.web.digest", "platform:services.web.pin"]);
                assert.match(r.out, /api: this merge changes its committed tag from 1\.4\.2 to 1\.5\.0/);
            });

            it("a services stack with no release yet deploys its committed tags", () => {
                const p = fakePulumi({ declared: ["api", "web"], outputs: { release: { services: {} } } });
                const r = runStep(w, w.jobs.deploy, keep, { pulumi: p.body, git }, { STACK: "staging", RUNNING: "", RUNNER_TEMP: tmpdir("keep-") });
                assert.strictEqual(r.status, 0, r.out);
                assert.deepStrictEqual(p.calls(), []);
            });
        });

        it("staging publishes its release set and prod deploys exactly it", () => {
            const w = wf("_deploy.yml");
            assert.strictEqual(w.on.workflow_call.outputs.services.value, "${{ jobs.deploy.outputs.services }}");
            assert.strictEqual(w.jobs.deploy.outputs!.services, "${{ steps.release.outputs.services }}");
            assert.strictEqual(wf("deploy.yml").jobs.prod.with!.services, "${{ needs.staging.outputs.services }}");
            const read = stepNamed(w.jobs.deploy, "release");
            const release = { services: { api: { tag: "1.5.0", digest: D("a") }, web: { tag: "2.4.1", digest: D("b") } } };
            const set = runStep(w, w.jobs.deploy, read, { pulumi: `echo '${JSON.stringify(release)}'` }, { STACK: "staging" });
            assert.match(set.ghOutput, new RegExp(`^services=api=1\\.5\\.0@${D("a")} web=2\\.4\\.1@${D("b")}$`, "m"));
            assert.match(set.ghOutput, /^tag=$/m);
            // A one-image stack still hands on its flat tag and digest, and no set.
            const flat = runStep(w, w.jobs.deploy, read, { pulumi: `echo '${JSON.stringify({ services: { app: { tag: "1.5.0", digest: D("a") } }, tag: "1.5.0", digest: D("a") })}'` }, { STACK: "staging" });
            assert.match(flat.ghOutput, /^services=$/m);
            assert.match(flat.ghOutput, /^tag=1\.5\.0$/m);
        });

        it("a dispatch passes the services the app repository's CI built, and refuses neither or both", () => {
            const w = wf("deploy-on-demand.yml");
            const pick = stepNamed(w.jobs.resolve, "pick");
            assert.strictEqual(pick.env!.INPUT_SERVICES, "${{ inputs.services || github.event.client_payload.services }}");
            assert.strictEqual(w.jobs.deploy.with!.services, "${{ needs.resolve.outputs.services }}");
            const run = (env: Record<string, string>) => runStep(w, w.jobs.resolve, pick, {}, { INPUT_STACK: "staging", INPUT_TAG: "", INPUT_SERVICES: "", ...env });
            const ok = run({ INPUT_SERVICES: "web=2.4.1" });
            assert.strictEqual(ok.status, 0, ok.out);
            assert.match(ok.ghOutput, /^services=web=2\.4\.1$/m);
            assert.strictEqual(run({}).status, 1);
            assert.strictEqual(run({ INPUT_TAG: "1.5.0", INPUT_SERVICES: "web=2.4.1" }).status, 1);
            assert.strictEqual(run({ INPUT_SERVICES: "web=2.4.1\nstack=prod" }).status, 1, "no second output line smuggled in");
            assert.strictEqual(run({ INPUT_TAG: "1.5.0" }).status, 0);
        });

        it("a rollback of one service passes --service to the rollback tool", () => {
            assert.strictEqual(wf("rollback.yml").jobs.rollback.with!.service, "${{ inputs.service }}");
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "Roll back on request");
            const dir = tmpdir("rb-");
            const npm = `printf '%s|' "$@" > ${dir}/args`;
            assert.strictEqual(runStep(w, w.jobs.deploy, step, { npm }, { STACK: "prod", TARGET: "1.4.2", ROLLBACK_SERVICE: "api" }).status, 0);
            assert.strictEqual(fs.readFileSync(path.join(dir, "args"), "utf8"), "run|-s|rollback|--|--stack|prod|--to|1.4.2|--yes|--service|api|");
            assert.strictEqual(runStep(w, w.jobs.deploy, step, { npm }, { STACK: "prod", TARGET: "", ROLLBACK_SERVICE: "" }).status, 0);
            assert.strictEqual(fs.readFileSync(path.join(dir, "args"), "utf8"), "run|-s|rollback|--|--stack|prod|--to|previous|--yes|", "the whole set when no service is named");
        });
    });
});
