/**
 * DORA metrics on a recorded prod history (test/fixtures/histories/prod.json, in the format
 * `pulumi stack history --json` prints): pure, then through `npm run releases -- --dora`
 * with a typed stand-in for the Automation API and a throwaway git repository for commit times.
 *
 * The fixture's timeline, oldest first (the expected figures below are worked out from it
 * by hand):
 *   1.0.0 live 09-01 10:05 (commit 08:05, lead 2 h)
 *   1.1.0 live 09-03 10:06 (commit 09-02 10:06, 24 h), rolled back to 1.0.0 at 11:02 (56 min)
 *   a refresh; a failed update of 1.2.0 (never live)
 *   1.2.0 live 09-05 12:04 (commit 11:04, 1 h); re-applied unchanged 09-06 (not a deployment)
 *   1.3.0 live 09-08 10:05 (commit unknown to git)
 *   1.4.0 live 09-10 10:04 (commit 09-09 22:04, 12 h), health-check rollback to 1.3.0 at 13:04 (3 h)
 *   1.4.1 live 09-12 10:04 (commit 06:04, 4 h)
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as releases } from "../tools/releases";
import { deploymentsFromHistory, doraMetrics, parseSince, percentile } from "../tools/lib/dora";
import { HistoryEntry } from "../tools/lib/releases";
import { FakeAutomation } from "./fixtures/automation";

const ROOT = path.join(__dirname, "..");
const FIXTURE_STACKS = path.join(__dirname, "fixtures", "stacks");
const HISTORY: HistoryEntry[] = JSON.parse(
    fs.readFileSync(path.join(__dirname, "fixtures", "histories", "prod.json"), "utf8"),
);
const COMMITS: Record<string, string> = {
    c1: "2026-09-01T08:05:00Z",
    c2: "2026-09-02T10:06:00Z",
    c3: "2026-09-05T11:04:00Z",
    c5: "2026-09-09T22:04:00Z",
    c6: "2026-09-12T06:04:00Z",
};

const commitTime = (sha: string) => (COMMITS[sha] ? new Date(COMMITS[sha]) : undefined);

describe("DORA metrics (pure, recorded history)", () => {
    it("finds the deployments and which ones a rollback replaced", () => {
        const { deployments, rollbacks } = deploymentsFromHistory(HISTORY);
        assert.deepStrictEqual(
            deployments.map((d) => `${d.tag}${d.failed ? " failed" : ""}`),
            ["1.0.0", "1.1.0 failed", "1.2.0", "1.3.0", "1.4.0 failed", "1.4.1"],
        );
        assert.strictEqual(rollbacks, 2);
        const restored = deployments.filter((d) => d.failed).map((d) => [d.tag, d.restored, d.timeToRestoreHours]);
        assert.deepStrictEqual(restored, [
            ["1.1.0", "2026-09-03T11:02:00.000Z", 0.93],
            ["1.4.0", "2026-09-10T13:04:00.000Z", 3],
        ]);
    });

    it("computes the four metrics over the whole history", () => {
        const r = doraMetrics(HISTORY, {
            stack: "prod",
            since: new Date("2026-09-01T00:00:00Z"),
            until: new Date("2026-09-15T00:00:00Z"),
            commitTime,
        });
        assert.strictEqual(r.deployments, 6);
        assert.strictEqual(r.deploymentsPerWeek, 3);
        assert.deepStrictEqual(r.changeFailureRate, { failed: 2, deployments: 6, rate: 0.333 });
        // Lead times 2, 24, 1, 12, 4 h (1.3.0's commit is unknown): median 4, p90 24.
        assert.deepStrictEqual(r.leadTime, { count: 5, medianHours: 4, p90Hours: 24, unknownCommits: 1 });
        assert.deepStrictEqual(r.timeToRestore, { count: 2, medianHours: 0.93, p90Hours: 3, unresolved: 0 });
        assert.strictEqual(r.failedUpdates, 1);
    });

    it("counts only what went live inside the window", () => {
        const r = doraMetrics(HISTORY, {
            stack: "prod",
            since: new Date("2026-09-02T00:00:00Z"),
            until: new Date("2026-09-16T00:00:00Z"),
            commitTime,
        });
        assert.deepStrictEqual(
            r.items.map((d) => d.tag),
            ["1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.4.1"],
        );
        assert.strictEqual(r.deploymentsPerWeek, 2.5);
        assert.strictEqual(r.changeFailureRate.rate, 0.4);
        const none = doraMetrics(HISTORY, {
            stack: "prod",
            since: new Date("2027-01-01T00:00:00Z"),
            until: new Date("2027-02-01T00:00:00Z"),
            commitTime,
        });
        assert.deepStrictEqual(
            [none.deployments, none.changeFailureRate.rate, none.leadTime.medianHours],
            [0, null, null],
        );
    });

    it("a release still live at the end of the history is not a failure, and an unresolved rollback is not invented", () => {
        const upToFailure = HISTORY.filter((h) => (h.version ?? 0) <= 9);
        const r = doraMetrics(upToFailure, {
            stack: "prod",
            since: new Date("2026-09-01T00:00:00Z"),
            until: new Date("2026-09-15T00:00:00Z"),
            commitTime,
        });
        assert.deepStrictEqual(
            r.items.filter((d) => d.failed).map((d) => d.tag),
            ["1.1.0"],
        );
    });

    it("uses an image tag that is a commit SHA when the update recorded no git.head", () => {
        const sha = "0123456789abcdef0123456789abcdef01234567";
        const h = HISTORY.filter((x) => x.version === 11).map((x) => ({
            ...x,
            environment: {},
            config: {
                ...x.config,
                "platform:services": { value: JSON.stringify({ app: { tag: sha } }), secret: false },
            },
        }));
        assert.strictEqual(deploymentsFromHistory(h).deployments[0].commit, sha);
    });

    it("nearest-rank percentiles and --since durations", () => {
        assert.strictEqual(percentile([5], 90), 5);
        assert.strictEqual(percentile([1, 2, 3, 4], 50), 2);
        assert.strictEqual(percentile([], 50), null);
        assert.strictEqual(parseSince("90d"), 90 * 86_400_000);
        assert.strictEqual(parseSince("2w"), 14 * 86_400_000);
        assert.strictEqual(parseSince("36h"), 36 * 3_600_000);
        for (const bad of ["90", "0d", "3m", "-1d", "d"])
            assert.throws(() => parseSince(bad), /expected a duration such as 90d/);
    });
});

describe("npm run releases -- --dora (Automation API stand-in, git for commit times)", function () {
    this.timeout(30_000);

    function lab(): { dir: string; fake: FakeAutomation } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dora-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        for (const f of ["Pulumi.staging.yaml", "Pulumi.prod.yaml"])
            fs.copyFileSync(path.join(FIXTURE_STACKS, f), path.join(dir, f));
        const git = (args: string[], env: Record<string, string> = {}) =>
            execFileSync("git", ["-C", dir, ...args], {
                encoding: "utf8",
                env: {
                    ...process.env,
                    GIT_AUTHOR_NAME: "t",
                    GIT_AUTHOR_EMAIL: "t@example.com",
                    GIT_COMMITTER_NAME: "t",
                    GIT_COMMITTER_EMAIL: "t@example.com",
                    ...env,
                },
            }).trim();
        git(["init", "-q"]);
        const shas: Record<string, string> = {};
        for (const [name, at] of Object.entries(COMMITS)) {
            git(["commit", "-q", "--allow-empty", "-m", name], { GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at });
            shas[name] = git(["rev-parse", "HEAD"]);
        }
        shas.c4 = "feedfacefeedfacefeedfacefeedfacefeedface"; // deployed from a commit this clone lacks
        const history = HISTORY.map((h) => ({
            ...h,
            environment: { ...h.environment, "git.head": shas[h.environment!["git.head"]] },
        }));
        const outputs = { release: { tag: "1.4.1", digest: "" } };
        return { dir, fake: new FakeAutomation({ prod: { history, outputs }, staging: { history: [], outputs } }) };
    }

    async function run(l: { dir: string; fake: FakeAutomation }, argv: string[]) {
        let out = "";
        let err = "";
        const code = await releases(
            [...argv, "--work-dir", l.dir],
            {
                out: (s) => {
                    out += s;
                },
                err: (s) => {
                    err += s;
                },
            },
            l.fake,
        );
        return { code, out, err };
    }

    it("--json: per stack, with lead times from the commits' git times", async () => {
        const l = lab();
        const r = await run(l, ["--dora", "--since", "3650d", "--json"]);
        assert.strictEqual(r.code, 0, r.err);
        const json = JSON.parse(r.out);
        assert.deepStrictEqual(
            json.stacks.map((s: { stack: string }) => s.stack),
            ["prod", "staging"],
        );
        const prod = json.stacks[0];
        assert.strictEqual(prod.deployments, 6);
        assert.deepStrictEqual(prod.changeFailureRate, { failed: 2, deployments: 6, rate: 0.333 });
        assert.deepStrictEqual(
            [prod.leadTime.medianHours, prod.leadTime.p90Hours, prod.leadTime.unknownCommits],
            [4, 24, 1],
        );
        assert.strictEqual(json.stacks[1].deployments, 0);
    });

    it("text: one block per stack; --stack limits it; a bad --since is one line, exit 2", async () => {
        const l = lab();
        const r = await run(l, ["--dora", "--stack", "prod", "--since", "3650d"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /^prod: /);
        assert.match(r.out, /change failure rate {2}33\.3% \(2 of 6 rolled back\)/);
        assert.match(
            r.out,
            /lead time \(commit to live\) {2}median 4\.0 h, p90 24\.0 h over 5 \(1 without a known commit\)/,
        );
        assert.ok(!r.out.includes("staging"));
        const bad = await run(l, ["--dora", "--since", "soon"]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.err, /^error: --since "soon": expected a duration such as 90d, 12w or 48h\n$/);
    });
});
