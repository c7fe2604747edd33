/** Notifications that say what changed: the pure formatter, and the CLI the workflows call. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as notify } from "../tools/notify";
import {
    approversFrom,
    formatDuration,
    Notice,
    parseReleaseSet,
    plainNotice,
    releaseLine,
    shortDigest,
    slackEscape,
    slackNotice,
} from "../tools/lib/notify";

const D = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const RUN = "https://github.com/example/app/actions/runs/42";

describe("notifications (pure)", () => {
    const deploy: Notice = {
        action: "deploy",
        stack: "prod",
        result: "success",
        to: [{ name: "app", tag: "1.4.2", digest: D("3f") }],
        from: [{ name: "app", tag: "1.4.1", digest: D("a1") }],
        approvedBy: ["maria", "joao"],
        actor: "ana",
        durationSeconds: 252,
        runUrl: RUN,
    };

    it("a deploy names the release, what it replaced, approvers, who, how long, and links the run", () => {
        assert.deepStrictEqual(slackNotice(deploy).text.split("\n"), [
            `:white_check_mark: *deploy prod succeeded: app 1.4.2 (3f3f3f3f3f3f)* — <${RUN}|run>`,
            "> from: app 1.4.1 (a1a1a1a1a1a1)",
            "> approved by: maria, joao",
            "> started by: ana",
            "> took: 4m 12s",
        ]);
        assert.strictEqual(
            plainNotice(deploy),
            `deploy prod succeeded: app 1.4.2 (3f3f3f3f3f3f) — from: app 1.4.1 (a1a1a1a1a1a1) — approved by: maria, joao — started by: ana — took: 4m 12s — run: ${RUN}`,
        );
    });

    it("a rollback says why, and says so when nobody gave a reason", () => {
        const rb: Notice = {
            ...deploy,
            action: "rollback",
            result: "success",
            to: deploy.from!,
            from: deploy.to,
            reason: "health check failed: https://api.example.com/health returned 502",
        };
        const lines = slackNotice(rb).text.split("\n");
        assert.strictEqual(
            lines[0],
            `:white_check_mark: *rollback prod succeeded: app 1.4.1 (a1a1a1a1a1a1)* — <${RUN}|run>`,
        );
        assert.strictEqual(lines[1], "> from: app 1.4.2 (3f3f3f3f3f3f)");
        assert.strictEqual(lines[2], "> why: health check failed: https://api.example.com/health returned 502");
        assert.ok(noReason().includes("> why: no reason given"));
        function noReason() {
            return slackNotice({ ...rb, reason: "  " }).text;
        }
    });

    it("a failure is loud; facts that are unknown are left out, not invented", () => {
        const text = slackNotice({
            action: "deploy",
            stack: "staging",
            result: "failure",
            to: [{ name: "app", tag: "2.0.0" }],
        }).text;
        assert.strictEqual(text, ":x: *deploy staging FAILED: app 2.0.0*");
        assert.match(slackNotice({ ...deploy, approvedBy: [] }).text, /> approved by: no approval required/);
        assert.match(
            slackNotice({ ...deploy, from: deploy.to }).text,
            /> from: the same release \(nothing changed in the image\)/,
        );
    });

    it("one line per service when several run", () => {
        assert.strictEqual(
            releaseLine([
                { name: "app", tag: "1.0", digest: D("b") },
                { name: "proxy", tag: "2.10-alpine", digest: D("c") },
            ]),
            "app 1.0 (bbbbbbbbbbbb), proxy 2.10-alpine (cccccccccccc)",
        );
    });

    it("names every service, even when the stack runs only one", () => {
        assert.strictEqual(releaseLine([{ name: "api", tag: "1.5.0", digest: D("a") }]), "api 1.5.0 (aaaaaaaaaaaa)");
        assert.strictEqual(releaseLine([{ name: "app", tag: "1.5.0", digest: D("a") }]), "app 1.5.0 (aaaaaaaaaaaa)");
    });

    it("reads a release set as the workflow passes it, and names a bad entry", () => {
        assert.deepStrictEqual(parseReleaseSet(`api=1.5.0@${D("a")}, web=2.4.1`), [
            { name: "api", tag: "1.5.0", digest: D("a") },
            { name: "web", tag: "2.4.1", digest: undefined },
        ]);
        assert.deepStrictEqual(parseReleaseSet("  "), []);
        assert.throws(
            () => parseReleaseSet("api=1.5.0@sha256:abc"),
            /^Error: "api=1\.5\.0@sha256:abc" is not <service>=<tag>/,
        );
        assert.throws(() => parseReleaseSet("api=1 api=2"), /api is named twice/);
    });

    it("escapes Slack's control characters in every fact", () => {
        const t = slackNotice({ ...deploy, action: "rollback", reason: "<!channel> & friends" }).text;
        assert.ok(t.includes("&lt;!channel&gt; &amp; friends"));
        assert.ok(!t.includes("<!channel>"));
        assert.strictEqual(slackEscape("a<b>&"), "a&lt;b&gt;&amp;");
    });

    it("short digests, durations and approvers from GitHub's approvals API", () => {
        assert.strictEqual(shortDigest(D("3f")), "3f3f3f3f3f3f");
        assert.strictEqual(shortDigest("sha256:abc"), undefined);
        assert.deepStrictEqual(
            [formatDuration(59), formatDuration(60), formatDuration(3725), formatDuration(-1)],
            ["59s", "1m 0s", "1h 2m", undefined],
        );
        const approvals = [
            { state: "approved", user: { login: "maria" }, environments: [{ name: "prod" }] },
            { state: "rejected", user: { login: "eve" }, environments: [{ name: "prod" }] },
            { state: "approved", user: { login: "joao" }, environments: [{ name: "staging" }] },
            { state: "approved", user: { login: "maria" }, environments: [{ name: "prod" }] },
        ];
        assert.deepStrictEqual(approversFrom(approvals, "prod"), ["maria"]);
        assert.deepStrictEqual(approversFrom({ message: "Not Found" }, "prod"), []);
    });
});

describe("npm run notify", () => {
    async function run(argv: string[]) {
        let out = "";
        let err = "";
        const code = await notify(
            argv,
            {
                out: (s) => {
                    out += s;
                },
                err: (s) => {
                    err += s;
                },
            },
            () => 1_000_000_000_000,
        );
        return { code, out, err };
    }

    it("prints the Slack payload from the workflow's facts", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "notify-")), "approvals.json");
        fs.writeFileSync(
            file,
            JSON.stringify([{ state: "approved", user: { login: "maria" }, environments: [{ name: "prod" }] }]),
        );
        const r = await run([
            "--action",
            "rollback",
            "--stack",
            "prod",
            "--result",
            "success",
            "--services",
            `app=1.4.1@${D("a1")}`,
            "--from-services",
            `app=1.4.2@${D("3f")}`,
            "--approvals",
            file,
            "--actor",
            "ana",
            "--started-at",
            String(1_000_000_000 - 90),
            "--run-url",
            RUN,
            "--reason",
            "health check failed",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(
            JSON.parse(r.out).text,
            [
                `:white_check_mark: *rollback prod succeeded: app 1.4.1 (a1a1a1a1a1a1)* — <${RUN}|run>`,
                "> from: app 1.4.2 (3f3f3f3f3f3f)",
                "> why: health check failed",
                "> approved by: maria",
                "> started by: ana",
                "> took: 1m 30s",
            ].join("\n"),
        );
    });

    it("a services stack's deploy names each service's tag and short digest, and what each ran before", async () => {
        const r = await run([
            "--action",
            "deploy",
            "--stack",
            "staging",
            "--result",
            "success",
            "--services",
            `api=1.5.0@${D("a1")} web=2.4.1@${D("b2")}`,
            "--from-services",
            `api=1.4.2@${D("3f")} web=2.4.1@${D("b2")}`,
            "--format",
            "text",
        ]);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(
            r.out,
            "deploy staging succeeded: api 1.5.0 (a1a1a1a1a1a1), web 2.4.1 (b2b2b2b2b2b2) — from: api 1.4.2 (3f3f3f3f3f3f), web 2.4.1 (b2b2b2b2b2b2)\n",
        );
    });

    it("refuses a malformed or missing release set, and the retired --tag, in one line, exit 2; an unknown one still notifies", async () => {
        const bad = await run(["--action", "deploy", "--stack", "staging", "--result", "success", "--services", "api"]);
        assert.strictEqual(bad.code, 2);
        assert.strictEqual(
            bad.err,
            'error: --services: "api" is not <service>=<tag> or <service>=<tag>@sha256:<64 hex>\n',
        );
        const none = await run(["--action", "deploy", "--stack", "staging", "--result", "success"]);
        assert.strictEqual(none.code, 2);
        assert.match(none.err, /^error: --services is required: the release set/);
        const unknown = await run([
            "--action",
            "deploy",
            "--stack",
            "staging",
            "--result",
            "failure",
            "--services",
            "",
            "--format",
            "text",
        ]);
        assert.deepStrictEqual(
            [unknown.code, unknown.out],
            [0, "deploy staging FAILED: release unknown\n"],
            "a run whose release could not be read still notifies",
        );
        const tag = await run([
            "--action",
            "deploy",
            "--stack",
            "staging",
            "--result",
            "success",
            "--services",
            "api=1",
            "--tag",
            "1",
        ]);
        assert.strictEqual(tag.code, 2);
        assert.strictEqual(tag.err.trim().split("\n").length, 1, tag.err);
    });

    it("refuses a bad action in one line, exit 2", async () => {
        const r = await run(["--action", "party", "--stack", "prod", "--result", "success"]);
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.err, "error: --action must be one of deploy, rollback, promote, restore\n");
    });
});
