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
import { DEPLOY_BRANCH } from "../infra/config/schema";
import { shellcheck, tmpdir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const FILES = fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith(".yml"))
    .sort();
type Step = {
    name?: string;
    uses?: string;
    run?: string;
    shell?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
    id?: string;
};
type Concurrency = { group: string; "cancel-in-progress": boolean; queue?: string };
type Job = {
    uses?: string;
    with?: Record<string, unknown>;
    needs?: string | string[];
    if?: string;
    permissions?: Record<string, string>;
    concurrency?: Concurrency;
    environment?: { name: string } | string;
    steps?: Step[];
    env?: Record<string, string>;
    secrets?: unknown;
    outputs?: Record<string, string>;
    defaults?: { run?: { shell?: string } };
};
type Workflow = {
    name: string;
    on: Record<string, any>;
    permissions?: Record<string, string>;
    concurrency?: Concurrency;
    defaults?: { run?: { shell?: string } };
    jobs: Record<string, Job>;
};
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
 * Evaluates a step's `if:` as GitHub does, for the forms our workflows use: contexts
 * (`inputs.x`, `steps.id.outcome`, `steps.id.outputs.y`), string literals, `==`, `!=`, `!`,
 * `&&`, `||`, parentheses and the status functions. Without a status function the condition
 * is `success() && (...)` (docs: "Expressions", status check functions). Strings compare
 * case-insensitively; a missing value is ''.
 */
function evalIf(expr: string | undefined, ctx: Record<string, string>, jobFailed: boolean): boolean {
    const text = (expr ?? "").replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, "$1").trim();
    if (text === "") return !jobFailed;
    const tokens = text.match(/'(?:[^']|'')*'|[A-Za-z_][\w.-]*\(\)|[A-Za-z_][\w.-]*|==|!=|&&|\|\||!|\(|\)/g) ?? [];
    assert.strictEqual(tokens.join(""), text.replace(/\s+/g, ""), `an if: this evaluator reads: ${text}`);
    let i = 0;
    const status: Record<string, boolean> = {
        "success()": !jobFailed,
        "failure()": jobFailed,
        "always()": true,
        "cancelled()": false,
    };
    type V = string | boolean;
    const truthy = (v: V) => v !== false && v !== "";
    const primary = (): V => {
        const t = tokens[i++];
        if (t === "(") {
            const v = or();
            assert.strictEqual(tokens[i++], ")");
            return v;
        }
        if (t === "!") return !truthy(primary());
        if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
        if (t in status) return status[t];
        assert.ok(!t.endsWith("()"), `unknown function ${t}`);
        return ctx[t] ?? "";
    };
    const cmp = (): V => {
        let v = primary();
        while (tokens[i] === "==" || tokens[i] === "!=") {
            const op = tokens[i++];
            const eq = String(v).toLowerCase() === String(primary()).toLowerCase();
            v = op === "==" ? eq : !eq;
        }
        return v;
    };
    const and = (): V => {
        let v = cmp();
        while (tokens[i] === "&&") {
            i++;
            const r = cmp();
            v = truthy(v) ? r : v;
        }
        return v;
    };
    const or = (): V => {
        let v = and();
        while (tokens[i] === "||") {
            i++;
            const r = and();
            v = truthy(v) ? v : r;
        }
        return v;
    };
    const v = or();
    assert.strictEqual(i, tokens.length, `trailing tokens in ${text}`);
    return Object.keys(status).some((f) => text.includes(f)) ? truthy(v) : !jobFailed && truthy(v);
}

/**
 * Walks a job's steps as the runner does: each step runs when its `if:` holds; a step that
 * runs and is listed in `fails` fails (so does the job); `outputs` are what steps that run
 * write. Returns the names (or ids) of the steps that ran.
 */
function stepsThatRun(
    job: Job,
    inputs: Record<string, string>,
    o: { fails?: string[]; outputs?: Record<string, string> } = {},
): string[] {
    const ctx: Record<string, string> = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`inputs.${k}`, v]));
    let failed = false;
    const ran: string[] = [];
    for (const s of job.steps ?? []) {
        const label = s.name ?? s.id ?? s.uses ?? "";
        const runs = evalIf(s.if, ctx, failed);
        const fails = runs && (o.fails ?? []).some((f) => f === s.name || f === s.id);
        if (s.id) ctx[`steps.${s.id}.outcome`] = !runs ? "skipped" : fails ? "failure" : "success";
        if (runs) {
            ran.push(label);
            for (const [k, v] of Object.entries(o.outputs ?? {}))
                if (s.id && k.startsWith(`steps.${s.id}.outputs.`)) ctx[k] = v;
        }
        failed ||= fails;
    }
    return ran;
}

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
function runStep(
    w: Workflow,
    job: Job,
    step: Step,
    stubs: Record<string, string>,
    env: Record<string, string> = {},
    inRepo = true,
): { status: number; out: string; ghOutput: string } {
    const dir = tmpdir("step-");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(stubs))
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    const script = path.join(dir, "step.sh");
    fs.writeFileSync(script, step.run!);
    const ghOutput = path.join(dir, "output");
    fs.writeFileSync(ghOutput, "");
    const [cmd, ...args] = githubShell(w, job, step);
    const res = spawnSync(cmd, [...args, script], {
        cwd: inRepo ? ROOT : dir,
        encoding: "utf8",
        env: {
            PATH: `${bin}:${process.env.PATH}`,
            GITHUB_OUTPUT: ghOutput,
            GITHUB_STEP_SUMMARY: path.join(dir, "summary"),
            GITHUB_ENV: path.join(dir, "env"),
            ...env,
        },
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
    it("has the pull request, its comment, merge, on-demand, rollback and reusable deploy workflows", () => {
        assert.deepStrictEqual(FILES, [
            "_deploy.yml",
            "deploy-on-demand.yml",
            "deploy.yml",
            "drift.yml",
            "pr-comment.yml",
            "pull-request.yml",
            "rollback.yml",
        ]);
    });

    it("every job installs the Pulumi CLI of the SDK the lockfile holds, so the two never disagree", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
            packages: Record<string, { version?: string }>;
        };
        const sdk = lock.packages["node_modules/@pulumi/pulumi"].version;
        const installs = FILES.flatMap((f) =>
            jobsOf(f).flatMap(([name, job]) =>
                (job.steps ?? [])
                    // A step with a command runs the CLI an earlier step installed.
                    .filter((st) => st.uses?.startsWith("pulumi/actions@") && st.with?.command === undefined)
                    .map((st) => [`${f}:${name}`, st.with?.["pulumi-version"]]),
            ),
        );
        assert.ok(installs.length > 0, "some job installs the CLI");
        for (const [where, version] of installs) assert.strictEqual(version, sdk, where as string);
    });

    it("Dependabot watches the actions every workflow pins and the npm dependencies", () => {
        const cfg = parse(fs.readFileSync(path.join(ROOT, ".github", "dependabot.yml"), "utf8")) as {
            updates: { "package-ecosystem": string; directory: string }[];
        };
        const watched = cfg.updates.map((u) => `${u["package-ecosystem"]}:${u.directory}`);
        assert.ok(
            FILES.some((f) => /uses: [\w-]+\/[\w-]+@[0-9a-f]{40}/.test(raw(f))),
            "some workflow pins an action",
        );
        assert.ok(watched.includes("github-actions:/"), "pinned actions get update pull requests");
        assert.ok(
            fs.existsSync(path.join(ROOT, "package-lock.json")) && watched.includes("npm:/"),
            "the lockfile gets update pull requests",
        );
    });

    it("pass a current actionlint (only the documented `queue` gap is ignored)", () => {
        const bin = tool(
            "actionlint",
            ".ci/run builds v1.7.12 into bin/ (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)",
        );
        const version = execFileSync(bin, ["-version"], { encoding: "utf8" }).split("\n")[0];
        const [major, minor, patch] = (/^v(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
        assert.ok(
            major > 1 || (major === 1 && (minor > 7 || (minor === 7 && patch >= 12))),
            `actionlint ${version} is older than v1.7.12, the newest release this suite was checked with`,
        );
        const res = spawnSync(
            bin,
            ["-config-file", ".github/actionlint.yaml", "-no-color", ...FILES.map((f) => `.github/workflows/${f}`)],
            { cwd: ROOT, encoding: "utf8" },
        );
        assert.strictEqual(res.stdout, "");
        assert.strictEqual(res.status, 0, res.stderr);
    });

    it("pass zizmor with zero findings (each inline ignore says why)", () => {
        const bin = tool("zizmor", ".ci/run installs it (pip install zizmor==1.32.0)");
        const res = spawnSync(bin, ["--offline", "--format", "json", ".github/workflows"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        assert.deepStrictEqual(JSON.parse(res.stdout || "null"), [], res.stderr);
        for (const file of FILES) {
            for (const [i, line] of raw(file).split("\n").entries()) {
                if (!line.includes("zizmor: ignore")) continue;
                const before = raw(file).split("\n")[i - 1] ?? "";
                assert.match(
                    before.trim(),
                    /^#\s*\S/,
                    `${file}:${i + 1}: an ignore needs a comment saying why on the line above`,
                );
            }
        }
    });

    for (const file of FILES) {
        it(`${file}: every run step uses bash with pipefail, passes shellcheck under those options and interpolates no expression`, () => {
            const w = wf(file);
            for (const job of Object.values(w.jobs)) {
                for (const step of (job.steps ?? []).filter((s) => s.run)) {
                    const shell = githubShell(w, job, step);
                    assert.ok(
                        shell.includes("pipefail"),
                        `${file}: ${step.name ?? step.run}: runs as ${shell.join(" ")}; set defaults.run.shell: bash`,
                    );
                    assert.ok(
                        !step.run!.includes("${{"),
                        `${step.name ?? step.run}: pass values through env, never \${{ }} in a script`,
                    );
                    assert.strictEqual(
                        shellcheck(`#!/usr/bin/env bash\n${setOptions(shell)}\n${step.run}`),
                        "",
                        step.name ?? step.run,
                    );
                }
            }
        });

        it(`${file}: grants nothing by default, declares each job's permissions and never writes to the repository`, () => {
            const w = wf(file);
            assert.deepStrictEqual(w.permissions, {});
            for (const [name, job] of Object.entries(w.jobs)) {
                assert.ok(job.permissions !== undefined, `${file}:${name} has explicit permissions`);
                assert.notStrictEqual(
                    job.permissions?.contents,
                    "write",
                    `${file}:${name} may not push: the stack history is the release record`,
                );
            }
            assert.doesNotMatch(raw(file), /git push|git commit/);
        });

        it(`${file}: pins every action to a full commit SHA with its release in a comment, and checks out without persisting credentials`, () => {
            for (const [, job] of jobsOf(file)) {
                for (const step of (job.steps ?? []).filter((s) => s.uses)) {
                    assert.match(step.uses!, ACTION_SHA, step.uses);
                    assert.match(
                        raw(file),
                        new RegExp(`${step.uses!.replace(/[/.]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`),
                        `${step.uses} names its release`,
                    );
                    if (step.uses!.startsWith("actions/checkout@"))
                        assert.strictEqual(
                            step.with?.["persist-credentials"],
                            false,
                            `${file}: checkout keeps no token in .git/config`,
                        );
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
                    assert.deepStrictEqual(
                        Object.keys(passed).sort(),
                        declared,
                        `${file}:${name} passes every declared secret`,
                    );
                    for (const [k, v] of Object.entries(passed))
                        assert.strictEqual(v, `\${{ secrets.${k} }}`, `${file}:${name}: ${k} by its own name`);
                }
            }
        });

        it("only jobs bound to a GitHub environment read secrets, and only in the steps that need them", () => {
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    if (job.uses) continue;
                    const text = JSON.stringify(job);
                    if (!text.includes("secrets.")) continue;
                    assert.ok(
                        job.environment,
                        `${file}:${name} reads secrets outside an environment (any branch could)`,
                    );
                    assert.ok(
                        !JSON.stringify(job.env ?? {}).includes("secrets."),
                        `${file}:${name}: secrets at job level reach every step, npm ci included`,
                    );
                    const installs = (job.steps ?? []).filter((s) => /^npm ci\b/.test(s.run ?? ""));
                    for (const s of installs) {
                        // A dependency's install script would run beside the credentials that
                        // later steps get (it can write to $GITHUB_ENV or replace a binary).
                        assert.match(
                            s.run!,
                            /--ignore-scripts/,
                            `${file}:${name}: npm ci runs install scripts in a job that holds credentials`,
                        );
                    }
                }
            }
        });

        it("a stack's credentials are reachable from its deploy branch only: no tag, release or repository_dispatch trigger, and deploys on push only to that branch", () => {
            for (const file of FILES) {
                const on = wf(file).on as Record<string, { tags?: unknown; branches?: string[] } | null>;
                assert.ok(Object.keys(on).length > 0, file);
                for (const trigger of ["release", "create", "repository_dispatch", "pull_request_target"]) {
                    assert.ok(!(trigger in on), `${file} runs on ${trigger}`);
                }
                assert.strictEqual(on.push?.tags, undefined, `${file} runs on a tag push`);
            }
            assert.deepStrictEqual(wf("deploy.yml").on.push.branches, [DEPLOY_BRANCH]);
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
            for (const [name, job] of Object.entries(w.jobs)) {
                assert.ok(job.permissions && Object.keys(job.permissions).length > 0, name);
                for (const [scope, level] of Object.entries(job.permissions))
                    assert.strictEqual(level, "read", `${name}: ${scope}`);
            }
        });

        it("the pull request comment runs main's code only, reads the run's output as data and can write nothing but the comment", () => {
            const w = wf("pr-comment.yml");
            assert.deepStrictEqual(
                w.on.workflow_run.workflows,
                [wf("pull-request.yml").name],
                "follows the pull request workflow by its name",
            );
            assert.doesNotMatch(raw("pr-comment.yml"), /secrets\.|environment:|head_branch|pull_request\.head|ref:/);
            const job = w.jobs.comment;
            assert.deepStrictEqual(job.permissions, { contents: "read", actions: "read", "pull-requests": "write" });
            const checkout = job.steps!.find((st) => st.uses?.startsWith("actions/checkout@"))!;
            assert.strictEqual(checkout.with!.ref, undefined, "the default branch, never the pull request's commit");
            const download = job.steps!.findIndex((st) => st.uses?.startsWith("actions/download-artifact@"));
            const install = job.steps!.findIndex((st) => /^npm ci\b/.test(st.run ?? ""));
            assert.ok(
                install >= 0 && install < download,
                "nothing the artifact holds is on disk while dependencies install",
            );
            assert.match(job.steps![install].run!, /--ignore-scripts/);
            assert.match(stepNamed(job, "Comment").run!, /^npm run --silent pr-comment -- /);
            const upload = wf("pull-request.yml").jobs.test.steps!.find((st) =>
                st.uses?.startsWith("actions/upload-artifact@"),
            )!;
            assert.strictEqual(upload.with!.name, job.steps![download].with!.name);
        });

        it("only the deploy and drift jobs join the tailnet, each as a node tagged for its own stack, with the action's cache off", () => {
            for (const file of FILES) {
                for (const [name, job] of jobsOf(file)) {
                    const ts = (job.steps ?? []).find((s) => s.uses?.startsWith("tailscale/github-action@"));
                    const own = (
                        {
                            "_deploy.yml:deploy": "tag:ci-${{ inputs.stack }}",
                            "drift.yml:drift": "tag:ci-${{ matrix.stack }}",
                        } as Record<string, string | undefined>
                    )[`${file}:${name}`];
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
                            assert.strictEqual(
                                s.with?.["package-manager-cache"],
                                false,
                                `${file}:${name}: setup-node caches by default`,
                            );
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
            const checkouts = Object.values(w.jobs).flatMap((job) =>
                (job.steps ?? []).filter((x) => x.uses?.startsWith("actions/checkout@")),
            );
            assert.ok(checkouts.length > 0, "the deploy checks out the repository");
            for (const s of checkouts) assert.strictEqual(s.with?.ref, "${{ inputs.commit }}");
            assert.strictEqual(w.on.workflow_call.inputs.commit.required, true);
        });

        it("merge to main: staging runs this commit; prod gets exactly staging's commit and release set, with no fallback", () => {
            const w = wf("deploy.yml");
            assert.strictEqual(w.jobs.staging.with!.commit, "${{ github.sha }}");
            const prod = w.jobs.prod;
            assert.deepStrictEqual(prod.needs, ["staging", "labels"]);
            assert.strictEqual(prod.with!.commit, "${{ needs.staging.outputs.commit }}");
            assert.strictEqual(prod.with!.services, "${{ needs.staging.outputs.services }}");
            assert.strictEqual(prod.with!["require-release"], true);
        });

        it("the input check runs the selection tool on the inputs: a promotion with an empty staging output fails in one ::error:: line", () => {
            const w = wf("_deploy.yml");
            const check = stepNamed(w.jobs.deploy, "Check the inputs");
            const env = {
                GITHUB_ACTIONS: "true",
                STACK: "prod",
                MODE: "up",
                COMMIT: "a".repeat(40),
                SERVICES: `api=1.5.0@sha256:${"b".repeat(64)}`,
                ROLLBACK_SERVICE: "",
                REQUIRE_RELEASE: "true",
            };
            const ok = runStep(w, w.jobs.deploy, check, {}, env);
            assert.strictEqual(ok.status, 0, ok.out);
            for (const [bad, message] of [
                [{ SERVICES: "" }, /promotion needs the release set staging ran/],
                [{ STACK: "qa" }, /stack must be one of dev, staging, prod, got 'qa'/],
                [{ COMMIT: "" }, /commit '' is not a full SHA/],
                [{ SERVICES: "api=1\n::warning::x" }, /has a character that is not in a service name/],
            ] as [Record<string, string>, RegExp][]) {
                const r = runStep(w, w.jobs.deploy, check, {}, { ...env, ...bad });
                assert.strictEqual(r.status, 2, r.out);
                assert.deepStrictEqual(
                    r.out
                        .trim()
                        .split("\n")
                        .filter((l) => l.startsWith("::")).length,
                    1,
                    r.out,
                );
                assert.match(r.out, new RegExp(`^::error::.*${message.source}`, "m"));
            }
        });

        it("every release-selection step hands the job's inputs to the tool and its outputs to GitHub", () => {
            const w = wf("_deploy.yml");
            const job = w.jobs.deploy;
            const dir = tmpdir("select-");
            const npm = `printf '%s|' "$@" > ${dir}/args`;
            const env = {
                STACK: "staging",
                MODE: "up",
                COMMIT: "a".repeat(40),
                SERVICES: "api=1.5.0",
                ROLLBACK_SERVICE: "",
                REQUIRE_RELEASE: "false",
                RUNNING: "b".repeat(40),
                SKIPPED: "false",
            };
            const argsOf = (name: string) => {
                const r = runStep(w, job, stepNamed(job, name), { npm }, env);
                assert.strictEqual(r.status, 0, r.out);
                return fs.readFileSync(path.join(dir, "args"), "utf8").split("|").slice(0, -1);
            };
            const out = (args: string[]) => args[args.indexOf("--github-output") + 1];
            assert.deepStrictEqual(argsOf("Check the inputs"), [
                "run",
                "-s",
                "select-release",
                "--",
                "check",
                "--stack",
                "staging",
                "--mode",
                "up",
                "--commit",
                "a".repeat(40),
                "--services",
                "api=1.5.0",
                "--service",
                "",
                "--require-release",
                "false",
            ]);
            const order = argsOf("order");
            assert.deepStrictEqual(order.slice(0, 13), [
                "run",
                "-s",
                "select-release",
                "--",
                "order",
                "--stack",
                "staging",
                "--commit",
                "a".repeat(40),
                "--services",
                "api=1.5.0",
                "--require-release",
                "false",
            ]);
            assert.match(out(order), /output$/, "running and skip become the step's outputs");
            assert.deepStrictEqual(argsOf("Select the release"), [
                "run",
                "-s",
                "select-release",
                "--",
                "apply",
                "--stack",
                "staging",
                "--services",
                "api=1.5.0",
                "--running",
                "b".repeat(40),
            ]);
            for (const id of ["before", "release"]) {
                const args = argsOf(id);
                assert.deepStrictEqual(
                    args.slice(0, 7),
                    ["run", "-s", "select-release", "--", "record", "--stack", "staging"],
                    id,
                );
                assert.match(out(args), /output$/, id);
            }
            assert.deepStrictEqual(argsOf("release").slice(7, 11), ["--skipped", "false", "--running", "b".repeat(40)]);
            assert.strictEqual(stepNamed(job, "Select the release").env!.RUNNING, "${{ steps.order.outputs.running }}");
            assert.strictEqual(stepNamed(job, "release").env!.SKIPPED, "${{ steps.order.outputs.skip }}");
            assert.doesNotMatch(
                raw("_deploy.yml"),
                /\bjq\b/,
                "no jq: the release logic lives in tools/select-release.ts",
            );
        });

        it("never deploys an older commit over a newer one: each update's message ends with its commit, and every step after the check is skipped with it", () => {
            const w = wf("_deploy.yml");
            const job = w.jobs.deploy;
            const up = job.steps!.find((s) => s.with?.command === "up")!;
            assert.match(
                String(up.with!.message),
                / at \$\{\{ inputs\.commit \}\}$/,
                "each update's message ends with its commit: the order check reads it back",
            );
            // Run the job's conditions: a newer commit already deployed skips every step that
            // changes the stack, even when the check that follows fails.
            const changing = [
                "Select the release",
                "Pin the release digest",
                "Replacement guard and policy pack (preview)",
                up.name!,
                "Re-deploy the previous release",
            ];
            const inputs = { mode: "up" };
            const fresh = stepsThatRun(job, inputs, { outputs: { "steps.order.outputs.skip": "false" } });
            for (const name of changing.slice(0, 4))
                assert.ok(fresh.includes(name), `${name} runs for a newer commit: ${fresh.join(", ")}`);
            for (const fails of [[], ["health"]]) {
                const older = stepsThatRun(job, inputs, { fails, outputs: { "steps.order.outputs.skip": "true" } });
                assert.ok(older.includes("Never deploy an older commit over a newer one"), older.join(", "));
                assert.deepStrictEqual(
                    changing.filter((n) => older.includes(n)),
                    [],
                    `with ${fails.join(",") || "no"} failure`,
                );
            }
            assert.strictEqual(w.on.workflow_call.outputs.commit.value, "${{ jobs.deploy.outputs.commit }}");
            assert.strictEqual(job.outputs!.commit, "${{ steps.release.outputs.commit }}");
        });
    });

    describe("steps fail when their command fails", () => {
        it("the parity gate fails the pull request when the plan fails, yet still closes the summary", () => {
            const w = wf("pull-request.yml");
            const step = stepNamed(w.jobs.test, "Staging still mirrors prod");
            const res = runStep(w, w.jobs.test, step, { npm: "echo 'Parity staging vs prod: UNEXPECTED'; exit 1" });
            assert.notStrictEqual(res.status, 0, "a failing plan piped into sed must fail the step");
            assert.strictEqual(
                runStep(w, w.jobs.test, step, { npm: "echo 'Parity staging vs prod: mirrors'" }).status,
                0,
            );
        });

        it("the post-deploy check fails the step with its one-line verdict, and passes when the check passes", () => {
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "health");
            // A stand-in for the check: it writes its verdict to GITHUB_OUTPUT as the real one does.
            const failing = runStep(
                w,
                w.jobs.deploy,
                step,
                { npm: "echo 'reason=GET / answered 500, expected 200' >> \"$GITHUB_OUTPUT\"; exit 1" },
                { STACK: "staging" },
            );
            assert.strictEqual(failing.status, 1);
            assert.match(failing.out, /::error title=Post-deploy check::GET \/ answered 500, expected 200/);
            assert.strictEqual(runStep(w, w.jobs.deploy, step, { npm: "exit 0" }, { STACK: "staging" }).status, 0);
        });

        it("the replacement guard fails the deploy when the preview itself fails", () => {
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "Replacement guard and policy pack (preview)");
            const res = runStep(
                w,
                w.jobs.deploy,
                step,
                { pulumi: "exit 3", npm: "exit 0" },
                { STACK: "staging", ALLOW: "" },
                false,
            );
            assert.strictEqual(res.status, 3);
        });
    });

    describe("concurrency", () => {
        it("no workflow-wide lock: a run waiting for prod's approval never holds up the next merge's staging", () => {
            for (const file of ["deploy.yml", "deploy-on-demand.yml", "rollback.yml", "_deploy.yml"])
                assert.strictEqual(wf(file).concurrency, undefined, file);
        });

        it("one update per stack, never cancelled, every waiting run kept; the approval wait is outside the lock", () => {
            const w = wf("_deploy.yml");
            const c = w.jobs.deploy.concurrency!;
            assert.strictEqual(c["cancel-in-progress"], false);
            assert.strictEqual(
                c.queue,
                "max",
                "the default queue keeps one waiting run and cancels the rest: merges would be dropped",
            );
            assert.strictEqual(w.jobs.approve.concurrency, undefined);
        });

        it("a rollback queues in a different group from deploys, so it never waits behind a pending deploy", () => {
            const group = wf("_deploy.yml").jobs.deploy.concurrency!.group;
            // Evaluates the group's expression for both modes (a && b || c, as GitHub does).
            const evalGroup = (mode: string) =>
                group
                    .replace(
                        /\$\{\{ inputs\.mode == 'rollback' && '(\w+)' \|\| '(\w+)' \}\}/,
                        (_m, a: string, b: string) => (mode === "rollback" ? a : b),
                    )
                    .replace("${{ inputs.stack }}", "prod");
            assert.ok(
                !evalGroup("up").includes("${{") && evalGroup("up") !== evalGroup("rollback"),
                `${evalGroup("up")} vs ${evalGroup("rollback")}`,
            );
            assert.strictEqual(wf("rollback.yml").jobs.rollback.with!.mode, "rollback");
        });
    });

    describe("the allow-replacement label after merge", () => {
        // Whether the label counts is decided by tools/replacement-label.ts (test/labels.test.ts);
        // here, that the workflow hands its verdict to both deploys and can read what it needs.
        it("the labels job runs the tool with the run's own token, read-only, and both deploys take its verdict", () => {
            const w = wf("deploy.yml");
            const step = stepNamed(w.jobs.labels, "read");
            assert.match(step.run!, /^npm run --silent replacement-label -- .*>> "\$GITHUB_OUTPUT"$/);
            assert.ok(
                JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts["replacement-label"],
            );
            assert.strictEqual(step.env!.GH_TOKEN, "${{ github.token }}");
            assert.deepStrictEqual(w.jobs.labels.permissions, {
                contents: "read",
                "pull-requests": "read",
                issues: "read",
            });
            assert.strictEqual(w.jobs.labels.outputs!["allow-replacement"], "${{ steps.read.outputs.allow }}");
            for (const job of ["staging", "prod"])
                assert.strictEqual(
                    w.jobs[job].with!["allow-replacement"],
                    "${{ needs.labels.outputs.allow-replacement == 'true' }}",
                );
        });
    });

    it("the reusable deploy: pins the promoted digest, guards replacements, runs the policy pack, deploys, health-checks, rolls back and still fails", () => {
        const steps = wf("_deploy.yml").jobs.deploy.steps!;
        const select = stepNamed({ steps }, "Select the release");
        const pin = stepNamed({ steps }, "Pin the release digest");
        const guard = stepNamed({ steps }, "Replacement guard and policy pack (preview)");
        const up = steps.find((s) => s.with?.command === "up")!;
        assert.strictEqual(up.with!.policyPacks, "policy");
        assert.ok(
            steps.indexOf(select) < steps.indexOf(pin) &&
                steps.indexOf(pin) < steps.indexOf(guard) &&
                steps.indexOf(guard) < steps.indexOf(up),
        );
        // The previous release is re-deployed when, and only when, an up's post-deploy check
        // failed: not when the deploy itself failed (nothing new serves), not for a rollback.
        const job = wf("_deploy.yml").jobs.deploy;
        const back = "Re-deploy the previous release";
        const go = { outputs: { "steps.order.outputs.skip": "false" } };
        assert.ok(!stepsThatRun(job, { mode: "up" }, go).includes(back), "a healthy release stays");
        assert.ok(
            stepsThatRun(job, { mode: "up" }, { ...go, fails: ["health"] }).includes(back),
            "an unhealthy release is rolled back",
        );
        assert.ok(
            !stepsThatRun(job, { mode: "up" }, { ...go, fails: [up.name!] }).includes(back),
            "a failed up runs no check to judge",
        );
        assert.ok(
            !stepsThatRun(job, { mode: "rollback" }, { ...go, fails: ["health"] }).includes(back),
            "a rollback is not rolled back",
        );
        assert.ok(stepsThatRun(job, { mode: "rollback" }, go).includes("Roll back on request"));
        assert.ok(
            !steps.some((s) => (s as Record<string, unknown>)["continue-on-error"]),
            "a failed check is never swallowed",
        );
    });

    it("reads a step's if: as GitHub does: an implicit success(), status functions, case-insensitive strings", () => {
        const ctx = { "inputs.mode": "UP", "steps.order.outputs.skip": "true" };
        assert.strictEqual(evalIf("inputs.mode == 'up'", ctx, false), true);
        assert.strictEqual(evalIf("inputs.mode == 'up'", ctx, true), false, "no status function: success() is implied");
        assert.strictEqual(evalIf("failure() && inputs.mode == 'up'", ctx, true), true);
        assert.strictEqual(evalIf("${{ always() }}", ctx, true), true);
        assert.strictEqual(evalIf("steps.order.outputs.skip != 'true' || !(inputs.mode == 'up')", ctx, false), false);
        assert.strictEqual(evalIf("steps.missing.outcome == ''", ctx, false), true);
        assert.strictEqual(evalIf(undefined, ctx, true), false);
    });

    it("Slack: notified when the environment has a webhook, skipped cleanly when it has none", () => {
        const w = wf("_deploy.yml");
        const slack = stepNamed(w.jobs.deploy, "Notify Slack");
        // It runs whatever failed before it (secrets are not readable in `if:`, so the script decides).
        for (const fails of [[], ["Check the inputs"], ["health"], ["Re-deploy the previous release"]]) {
            assert.ok(
                stepsThatRun(w.jobs.deploy, { mode: "up" }, { fails }).includes("Notify Slack"),
                `after ${fails.join(",") || "success"}`,
            );
        }
        const none = runStep(w, w.jobs.deploy, slack, { curl: "exit 7" }, { SLACK_WEBHOOK_URL: "", STARTED_AT: "0" });
        assert.strictEqual(none.status, 0);
        const sent = runStep(
            w,
            w.jobs.deploy,
            slack,
            { curl: "cat > /dev/null; echo posted" },
            {
                SLACK_WEBHOOK_URL: "https://hooks.example/x",
                STARTED_AT: "0",
                MODE: "up",
                STACK: "prod",
                RESULT: "success",
                SERVICES_TO: "app=1.5.0",
                SERVICES_FROM: "",
                GITHUB_ACTOR: "maria",
                RUN_URL: "u",
            },
        );
        assert.match(sent.out, /posted/);
        // The message itself: the release and what it replaced, who started it, and why a rollback happened.
        const d = (c: string) => `sha256:${c.repeat(64)}`;
        const payload = runStep(
            w,
            w.jobs.deploy,
            slack,
            { curl: "cat" },
            {
                SLACK_WEBHOOK_URL: "https://hooks.example/x",
                STARTED_AT: "0",
                MODE: "up",
                STACK: "prod",
                RESULT: "failure",
                SERVICES_TO: `app=1.5.0@${d("a")}`,
                SERVICES_FROM: `app=1.4.2@${d("b")}`,
                HEALTH_REASON: "GET / answered 500, expected 200",
                GITHUB_ACTOR: "maria",
                RUN_URL: "https://run/1",
            },
        );
        const text = (JSON.parse(payload.out) as { text: string }).text;
        for (const part of [
            "prod",
            "app 1.5.0 (aaaaaaaaaaaa)",
            "app 1.4.2 (bbbbbbbbbbbb)",
            "maria",
            "GET / answered 500",
            "https://run/1",
        ])
            assert.ok(text.includes(part), `${part} in ${text}`);
        // Several services: each one's tag and short digest, after and before.
        const services = runStep(
            w,
            w.jobs.deploy,
            slack,
            { curl: "cat" },
            {
                SLACK_WEBHOOK_URL: "https://hooks.example/x",
                STARTED_AT: "0",
                MODE: "up",
                STACK: "prod",
                RESULT: "success",
                SERVICES_TO: `api=1.5.0@${d("a")} web=2.4.1@${d("c")}`,
                SERVICES_FROM: `api=1.4.2@${d("b")} web=2.4.1@${d("c")}`,
                GITHUB_ACTOR: "maria",
                RUN_URL: "https://run/1",
            },
        );
        assert.strictEqual(services.status, 0, services.out);
        const first = (JSON.parse(services.out) as { text: string }).text.split("\n").slice(0, 2);
        assert.deepStrictEqual(first, [
            ":white_check_mark: *deploy prod succeeded: api 1.5.0 (aaaaaaaaaaaa), web 2.4.1 (cccccccccccc)* — <https://run/1|run>",
            "> from: api 1.4.2 (bbbbbbbbbbbb), web 2.4.1 (cccccccccccc)",
        ]);
    });

    describe("a deploy names one service or several", () => {
        it("staging publishes its release set and prod deploys exactly it", () => {
            const w = wf("_deploy.yml");
            assert.strictEqual(w.on.workflow_call.outputs.services.value, "${{ jobs.deploy.outputs.services }}");
            assert.strictEqual(w.jobs.deploy.outputs!.services, "${{ steps.release.outputs.services }}");
            assert.strictEqual(wf("deploy.yml").jobs.prod.with!.services, "${{ needs.staging.outputs.services }}");
            for (const file of ["_deploy.yml", "deploy.yml", "deploy-on-demand.yml"])
                assert.doesNotMatch(
                    raw(file),
                    /image-tag|image_tag|image-digest|outputs\.(tag|digest)\b/,
                    `${file}: one app shape, no one-image inputs`,
                );
        });

        it("a dispatch passes the services the app repository's CI built, and refuses none", () => {
            const w = wf("deploy-on-demand.yml");
            const pick = stepNamed(w.jobs.resolve, "pick");
            assert.strictEqual(w.jobs.deploy.with!.services, "${{ needs.resolve.outputs.services }}");
            const run = (env: Record<string, string>) =>
                runStep(w, w.jobs.resolve, pick, {}, { INPUT_STACK: "staging", INPUT_SERVICES: "", ...env });
            const ok = run({ INPUT_SERVICES: "web=2.4.1" });
            assert.strictEqual(ok.status, 0, ok.out);
            assert.match(ok.ghOutput, /^services=web=2\.4\.1$/m);
            assert.strictEqual(run({}).status, 1);
            assert.strictEqual(
                run({ INPUT_SERVICES: "web=2.4.1\nstack=prod" }).status,
                1,
                "no second output line smuggled in",
            );
        });

        it("a rollback of one service passes --service to the rollback tool", () => {
            assert.strictEqual(wf("rollback.yml").jobs.rollback.with!.service, "${{ inputs.service }}");
            const w = wf("_deploy.yml");
            const step = stepNamed(w.jobs.deploy, "Roll back on request");
            const dir = tmpdir("rb-");
            const npm = `printf '%s|' "$@" > ${dir}/args`;
            assert.strictEqual(
                runStep(w, w.jobs.deploy, step, { npm }, { STACK: "prod", TARGET: "1.4.2", ROLLBACK_SERVICE: "api" })
                    .status,
                0,
            );
            assert.strictEqual(
                fs.readFileSync(path.join(dir, "args"), "utf8"),
                "run|-s|rollback|--|--stack|prod|--to|1.4.2|--yes|--service|api|",
            );
            assert.strictEqual(
                runStep(w, w.jobs.deploy, step, { npm }, { STACK: "prod", TARGET: "", ROLLBACK_SERVICE: "" }).status,
                0,
            );
            assert.strictEqual(
                fs.readFileSync(path.join(dir, "args"), "utf8"),
                "run|-s|rollback|--|--stack|prod|--to|previous|--yes|",
                "the whole set when no service is named",
            );
        });
    });
});
