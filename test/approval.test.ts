/**
 * The workflow approval mode: who may approve (pure), and the CLI the deploy workflow runs,
 * against a stand-in GitHub API on 127.0.0.1.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { parse, stringify } from "yaml";
import { tmpdir } from "./helpers";
import { approvalGate, decideApproval, eligibleApprovers, IssueComment } from "../tools/lib/approval";

const at = (min: number) => `2026-11-23T10:${String(min).padStart(2, "0")}:00Z`;
const comment = (login: string, body: string, min: number, edited = false): IssueComment => ({
    user: { login },
    body,
    created_at: at(min),
    updated_at: edited ? at(min + 1) : at(min),
});

describe("approval: who may approve", () => {
    it("workflow mode with reviewers holds the deploy; environment mode and no reviewers do not", () => {
        assert.deepStrictEqual(approvalGate({ approvalMode: "workflow", reviewers: ["Maria", "devon"] }), {
            required: true,
            approvers: ["maria", "devon"],
        });
        assert.strictEqual(
            approvalGate({ approvalMode: "environment", reviewers: ["maria", "devon"] }).required,
            false,
        );
        assert.strictEqual(approvalGate({ approvalMode: "workflow", reviewers: [] }).required, false);
    });

    it("a listed approver other than the merger approves; the first answer decides", () => {
        const d = decideApproval(
            [comment("devon", "/approve", 2), comment("maria", "/deny", 3)],
            ["maria", "devon"],
            ["maria"],
        );
        assert.deepStrictEqual(d, { outcome: "approved", by: "devon" });
        assert.deepStrictEqual(
            decideApproval([comment("Devon", "/deny please no", 1)], ["maria", "devon"], ["maria"]),
            { outcome: "denied", by: "devon" },
        );
    });

    it("the merger, strangers and edited comments cannot approve", () => {
        const d = decideApproval(
            [
                comment("maria", "/approve", 1),
                comment("mallory", "/approve", 2),
                comment("devon", "/approve", 3, true),
                comment("devon", "looks good", 4),
            ],
            ["maria", "devon"],
            ["maria", "maria"],
        );
        assert.strictEqual(d.outcome, "pending");
        assert.deepStrictEqual((d as { ignored: string[] }).ignored, [
            "maria: started this deploy",
            "mallory: not a listed approver",
            "devon: edited comment",
        ]);
    });

    it("nobody is eligible when the only approvers started the deploy", () => {
        assert.deepStrictEqual(eligibleApprovers(["maria"], ["Maria"]), []);
        assert.deepStrictEqual(eligibleApprovers(["maria", "devon"], ["maria"]), ["devon"]);
    });
});

describe("approval: the workflow's CLI", () => {
    const CLI = path.join(__dirname, "..", ".github", "scripts", "approve.ts");
    const run = (args: string[], env: Record<string, string> = {}) =>
        new Promise<{ code: number; out: string }>((resolve) => {
            const p = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
                cwd: path.join(__dirname, ".."),
                env: { ...process.env, ...env },
            });
            let out = "";
            p.stdout.on("data", (d) => {
                out += String(d);
            });
            p.stderr.on("data", (d) => {
                out += String(d);
            });
            p.on("close", (code) => resolve({ code: code ?? -1, out }));
        });

    it("prints the committed stack's settings for the workflow, and says what is wrong in one line", async () => {
        const res = await run(["--stack", "staging", "--settings"]);
        assert.strictEqual(res.code, 0, res.out);
        assert.match(res.out, /^required=(true|false)\napprovers=/);
        const bad = await run(["--stack", "qa", "--settings"]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.out, /^error: unknown stack "qa"/);
        assert.ok(!bad.out.includes("    at "), "no stack trace");
    });

    it("opens an issue, ignores the merger, proceeds on another approver's /approve and closes the issue", async function () {
        this.timeout(60000);
        const calls: string[] = [];
        let polls = 0;
        const server = http.createServer((req, res) => {
            calls.push(`${req.method} ${req.url}`);
            req.resume();
            res.setHeader("content-type", "application/json");
            if (req.method === "POST" && req.url === "/repos/o/r/issues")
                return res.end(JSON.stringify({ number: 7, html_url: "http://x/7" }));
            if (req.method === "GET" && req.url?.startsWith("/repos/o/r/issues/7/comments")) {
                polls++;
                const list = [comment("maria-acme", "/approve", 1)];
                if (polls >= 2) list.push(comment("devon-acme", "/approve", 2));
                return res.end(JSON.stringify(list));
            }
            return res.end("{}");
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as { port: number }).port;
        // A fixture prod stack in workflow mode with approvers the test owns.
        const dir = tmpdir("approve-");
        const doc = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.prod.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        Object.assign(doc.config, {
            "platform:githubApprovalMode": "workflow",
            "platform:githubWaitTimerMinutes": 0,
            "platform:githubReviewers": ["maria-acme", "devon-acme"],
        });
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stringify(doc));
        try {
            const res = await run(
                [
                    "--stack",
                    "prod",
                    "--work-dir",
                    dir,
                    "--commit",
                    "a".repeat(40),
                    "--exclude",
                    "maria-acme",
                    "--poll-seconds",
                    "0.05",
                ],
                {
                    GITHUB_API_URL: `http://127.0.0.1:${port}`,
                    GITHUB_REPOSITORY: "o/r",
                    GITHUB_TOKEN: "t",
                },
            );
            assert.strictEqual(res.code, 0, res.out);
            assert.match(res.out, /ignored: maria-acme: started this deploy/);
            assert.match(res.out, /prod: approved by @devon-acme/);
            const only = await run(
                [
                    "--stack",
                    "prod",
                    "--work-dir",
                    dir,
                    "--commit",
                    "a".repeat(40),
                    "--exclude",
                    "maria-acme,devon-acme",
                ],
                { GITHUB_REPOSITORY: "o/r" },
            );
            assert.strictEqual(only.code, 1);
            assert.match(only.out, /nobody can approve/);
            assert.ok(calls.includes("PATCH /repos/o/r/issues/7"), calls.join("\n"));
        } finally {
            server.close();
        }
    });
});
