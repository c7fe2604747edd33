/**
 * Drift detection: the report from a refreshing preview's JSON (fixture in the CLI's
 * PreviewDigest format), the CLI, and the nightly workflow: its shape, and its own report
 * and Slack steps run under bash against a local stand-in for Slack's webhook.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main as drift } from "../tools/drift";
import { atPath, driftFromPreview, driftMarkdown, driftSlack, showValue } from "../tools/lib/drift";

const ROOT = path.join(__dirname, "..");
const FIXTURE = path.join(__dirname, "fixtures", "preview", "prod-drift.json");
const PREVIEW = JSON.parse(fs.readFileSync(FIXTURE, "utf8"));

describe("drift report (pure)", () => {
    const items = driftFromPreview(PREVIEW);

    it("lists each drifted property with the declared and the live value", () => {
        assert.deepStrictEqual(
            items.map((i) => [i.resource, i.property, i.declared, i.live, i.op]),
            [
                ["prod-cluster", "size", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb", "update"],
                ["prod-cluster", "maintenanceWindows[0].day", "sunday", "monday", "update"],
                [
                    "prod-firewall",
                    "inboundRules[1]",
                    "(not set)",
                    '{"protocol":"tcp","portRange":"22","sourceAddresses":["0.0.0.0/0"]}',
                    "update",
                ],
                ["prod-api", "(resource)", "exists", "missing: deleted outside Pulumi", "create"],
                ["prod-cpu", "alerts.slacks[0].channel", "#ops", "#random", "update"],
                ["prod-cpu", "alerts.slacks[0].url", "[secret]", "[secret]", "update"],
            ],
        );
    });

    it("never shows a secret's content, and ignores the stack, providers and refresh steps", () => {
        assert.ok(!JSON.stringify(items).includes("v1:abc"));
        assert.ok(!items.some((i) => i.type === "pulumi:pulumi:Stack"));
        assert.strictEqual(
            driftFromPreview({
                steps: PREVIEW.steps.filter((s: { op: string }) => s.op === "same" || s.op === "refresh"),
            }).length,
            0,
        );
    });

    it("keeps one logical step per replacement", () => {
        const base = {
            urn: "urn:pulumi:prod::platform::digitalocean:index/droplet:Droplet::prod-web-1",
            oldState: { type: "digitalocean:index/droplet:Droplet", inputs: { image: "a" } },
            newState: { type: "digitalocean:index/droplet:Droplet", inputs: { image: "b" } },
            detailedDiff: { image: { kind: "update-replace" } },
        };
        const r = driftFromPreview({
            steps: [
                { ...base, op: "create-replacement" },
                { ...base, op: "replace" },
                { ...base, op: "delete-replaced" },
            ],
        });
        assert.deepStrictEqual(
            r.map((i) => `${i.op} ${i.property} ${i.declared} ${i.live}`),
            ["replace image b a"],
        );
    });

    it("renders Markdown for the run summary and a Slack payload, both with old and new", () => {
        const md = driftMarkdown("prod", items, "https://github.example/run/1");
        assert.match(md, /^## Drift: prod\n/);
        assert.match(md, /\| Resource \| Property \| Declared \(old\) \| Live now \(new\) \| Step \|/);
        assert.match(md, /\| `prod-cluster` \| size \| `db-s-2vcpu-4gb` \| `db-s-4vcpu-8gb` \| update \|/);
        assert.match(driftMarkdown("prod", []), /No drift/);
        const slack = driftSlack("prod", items, "https://github.example/run/1", 2);
        assert.deepStrictEqual(slack.text.split("\n"), [
            ":warning: Drift in prod: 6 change(s) made outside Pulumi — https://github.example/run/1",
            "• prod-cluster size: declared db-s-2vcpu-4gb, live db-s-4vcpu-8gb (update)",
            "• prod-cluster maintenanceWindows[0].day: declared sunday, live monday (update)",
            "…and 4 more",
        ]);
    });

    it("reads property paths and shortens long values", () => {
        assert.strictEqual(atPath({ a: [{ b: { "c.d": 1 } }] }, 'a[0].b["c.d"]'), 1);
        assert.strictEqual(atPath({ a: 1 }, "a.b.c"), undefined);
        assert.strictEqual(showValue("x".repeat(200)).length, 80);
        assert.strictEqual(showValue(undefined), "(not set)");
    });
});

describe("npm run drift", () => {
    async function run(argv: string[]) {
        let out = "";
        let err = "";
        const code = await drift(argv, {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        });
        return { code, out, err };
    }

    it("exits 1 on drift, 0 without, in every format", async () => {
        const r = await run(["--preview", FIXTURE, "--stack", "prod"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /^prod: prod-cluster size: declared db-s-2vcpu-4gb, live db-s-4vcpu-8gb \(update\)$/m);
        const json = JSON.parse((await run(["--preview", FIXTURE, "--stack", "prod", "--format", "json"])).out);
        assert.deepStrictEqual([json.drift, json.items.length], [true, 6]);
        const clean = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "drift-")), "preview.json");
        fs.writeFileSync(clean, JSON.stringify({ steps: [PREVIEW.steps[0]], changeSummary: { same: 60 } }));
        const none = await run(["--preview", clean, "--stack", "prod", "--format", "markdown"]);
        assert.deepStrictEqual(
            [none.code, none.out],
            [0, "## Drift: prod\n\nNo drift: the cloud matches the program.\n"],
        );
    });

    it("explains an unreadable or failed preview in one line, exit 2", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-"));
        fs.writeFileSync(path.join(dir, "empty.json"), "");
        fs.writeFileSync(
            path.join(dir, "failed.json"),
            JSON.stringify({
                diagnostics: [
                    {
                        severity: "error",
                        message:
                            "error: failed to refresh: GET https://api.digitalocean.com/v2/droplets/1: 401 Unable to authenticate you\nmore",
                    },
                ],
            }),
        );
        const cases: [string[], RegExp][] = [
            [
                ["--preview", path.join(dir, "missing.json"), "--stack", "prod"],
                /^error: cannot read .*missing\.json: run pulumi preview --refresh --expect-no-changes --json/,
            ],
            [
                ["--preview", path.join(dir, "empty.json"), "--stack", "prod"],
                /^error: .*empty\.json is not JSON: the preview failed before it produced its report/,
            ],
            [
                ["--preview", path.join(dir, "failed.json"), "--stack", "prod"],
                /^error: the preview failed: error: failed to refresh: .*401 Unable to authenticate you\n$/,
            ],
            [["--preview", FIXTURE], /^error: --preview <file> and --stack <name> are required/],
            [
                ["--preview", FIXTURE, "--stack", "prod", "--format", "html"],
                /^error: --format html is not one of text, markdown, slack, json/,
            ],
        ];
        for (const [argv, expected] of cases) {
            const r = await run(argv);
            assert.strictEqual(r.code, 2, argv.join(" "));
            assert.match(r.err, expected);
            assert.strictEqual(r.err.trim().split("\n").length, 1);
        }
    });
});

type Step = {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
    id?: string;
};
const WF = parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "drift.yml"), "utf8"));

describe("drift workflow", () => {
    const job = WF.jobs.drift;
    const steps: Step[] = job.steps;

    it("runs nightly and on demand, per stack, with bash as the default shell", () => {
        assert.ok(WF.on.schedule[0].cron);
        assert.ok("workflow_dispatch" in WF.on);
        assert.deepStrictEqual(WF.defaults, { run: { shell: "bash" } });
        assert.deepStrictEqual(job.strategy.matrix.stack, ["staging", "prod"]);
        assert.strictEqual(job.strategy["fail-fast"], false, "one stack's drift does not hide the other's");
    });

    it("uses the stack's read-only drift environment, reads only, and never applies", () => {
        assert.deepStrictEqual(job.environment, { name: "${{ matrix.stack }}-drift" });
        assert.strictEqual(job.env!.DIGITALOCEAN_TOKEN, undefined, "secrets reach only the step that needs them");
        assert.deepStrictEqual(job.permissions, { contents: "read" });
        const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
        assert.strictEqual(checkout.with!["persist-credentials"], false);
        const text = JSON.stringify(WF);
        for (const forbidden of ["pulumi up", "pulumi refresh", "pulumi destroy", "--yes", 'command":"up'])
            assert.ok(!text.includes(forbidden), forbidden);
    });

    it("runs a refreshing preview that expects no changes, then the report fails the run on drift", () => {
        const preview = steps.find((s) => s.id === "preview")!;
        assert.match(
            preview.run!,
            /pulumi preview --stack "\$STACK" --refresh --expect-no-changes --json > preview\.json/,
        );
        const report = steps.find((s) => s.name === "Drift report (run summary)")!;
        assert.match(
            report.run!,
            /npm run -s drift -- --preview preview\.json --stack "\$STACK" --format markdown[^\n]*>> "\$GITHUB_STEP_SUMMARY"/,
        );
        assert.ok(steps.indexOf(preview) < steps.indexOf(report));
        const slack = steps.find((s) => s.name === "Notify Slack")!;
        // A step's own env is not in the `env` context of its `if:`, and secrets are not
        // readable there: the script decides.
        assert.strictEqual(slack.if, "failure()");
        assert.strictEqual(slack.env!.SLACK_WEBHOOK_URL, "${{ secrets.SLACK_WEBHOOK_URL }}");
    });

    describe("its report and Slack steps, run under bash", function () {
        this.timeout(60_000);
        let server: http.Server;
        let url = "";
        const posts: unknown[] = [];
        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (c) => {
                    body += c;
                });
                req.on("end", () => {
                    posts.push({ type: req.headers["content-type"], body: JSON.parse(body) });
                    res.writeHead(200).end("ok");
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as { port: number }).port}/services/T0/B0/x`;
        });
        after(() => server.close());

        /** A working directory shaped like the checkout, with the step's preview.json. */
        function checkout(preview: string): string {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-wf-"));
            for (const f of ["package.json", "tsconfig.json", "node_modules", "tools", "infra"])
                fs.symlinkSync(path.join(ROOT, f), path.join(dir, f));
            fs.writeFileSync(path.join(dir, "preview.json"), preview);
            return dir;
        }
        // GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
        // Asynchronous, so the Slack stand-in in this process can answer curl meanwhile.
        const runStep = (step: Step, dir: string, env: Record<string, string>) =>
            new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
                const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
                    cwd: dir,
                    env: { ...process.env, STACK: "prod", RUN_URL: "https://github.example/run/7", ...env },
                });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (c) => {
                    stdout += c;
                });
                child.stderr.on("data", (c) => {
                    stderr += c;
                });
                child.on("close", (status) => resolve({ status, stdout, stderr }));
            });
        const step = (name: string) => steps.find((s) => s.name === name)!;

        it("drift: the summary gets the table, the step fails, Slack gets old and new per property", async () => {
            const dir = checkout(fs.readFileSync(FIXTURE, "utf8"));
            const summary = path.join(dir, "summary.md");
            const report = await runStep(step("Drift report (run summary)"), dir, {
                GITHUB_STEP_SUMMARY: summary,
                PREVIEW_EXIT: "255",
            });
            assert.strictEqual(report.status, 1, report.stderr);
            assert.match(fs.readFileSync(summary, "utf8"), /\| `prod-firewall` \| inboundRules\[1\] \|/);
            posts.length = 0;
            const slack = await runStep(step("Notify Slack"), dir, { SLACK_WEBHOOK_URL: url });
            assert.strictEqual(slack.status, 0, slack.stderr);
            assert.strictEqual(posts.length, 1);
            const post = posts[0] as { type: string; body: { text: string } };
            assert.strictEqual(post.type, "application/json");
            assert.match(
                post.body.text,
                /^:warning: Drift in prod: 6 change\(s\) made outside Pulumi — https:\/\/github\.example\/run\/7\n• prod-cluster size: declared db-s-2vcpu-4gb, live db-s-4vcpu-8gb/,
            );
        });

        it("without a Slack webhook in the environment, the Slack step posts nothing and passes", async () => {
            const dir = checkout(fs.readFileSync(FIXTURE, "utf8"));
            posts.length = 0;
            const slack = await runStep(step("Notify Slack"), dir, { SLACK_WEBHOOK_URL: "" });
            assert.strictEqual(slack.status, 0, slack.stderr);
            assert.strictEqual(posts.length, 0);
            assert.match(slack.stdout, /no Slack webhook in prod-drift/);
        });

        it("a preview that failed without a report still fails the run and still tells Slack", async () => {
            const dir = checkout("");
            const report = await runStep(step("Drift report (run summary)"), dir, {
                GITHUB_STEP_SUMMARY: path.join(dir, "summary.md"),
                PREVIEW_EXIT: "255",
            });
            assert.strictEqual(report.status, 2);
            posts.length = 0;
            const slack = await runStep(step("Notify Slack"), dir, { SLACK_WEBHOOK_URL: url });
            assert.strictEqual(slack.status, 0, slack.stderr);
            assert.deepStrictEqual((posts[0] as { body: unknown }).body, {
                text: "Drift check prod failed before it could report: https://github.example/run/7",
            });
        });

        it("no drift but a failed preview (exit 255 with a clean report) fails; no drift and exit 0 passes", async () => {
            const clean = JSON.stringify({ steps: [PREVIEW.steps[0]] });
            const bad = await runStep(step("Drift report (run summary)"), checkout(clean), {
                GITHUB_STEP_SUMMARY: "/dev/null",
                PREVIEW_EXIT: "255",
            });
            assert.strictEqual(bad.status, 1);
            assert.match(bad.stdout, /::error::the refreshing preview failed \(exit 255\)/);
            const ok = await runStep(step("Drift report (run summary)"), checkout(clean), {
                GITHUB_STEP_SUMMARY: "/dev/null",
                PREVIEW_EXIT: "0",
            });
            assert.strictEqual(ok.status, 0, ok.stderr);
        });
    });
});
