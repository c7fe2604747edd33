import * as assert from "assert";
import { GitHubReader } from "../tools/lib/github";
import { lastLabeller, replacementLabelVerdict } from "../tools/lib/labels";
import { main } from "../tools/replacement-label";

const SHA = "a".repeat(40);
const REPO = "team/platform";

/** A fake of the REST reads: answers by path, and records which paths were asked. */
function fakeGitHub(answers: Record<string, unknown>): GitHubReader & { asked: string[] } {
    const asked: string[] = [];
    return {
        asked,
        get: (path) => {
            asked.push(path);
            if (!(path in answers)) return Promise.reject(new Error(`GitHub answered 404 for GET /${path}`));
            return Promise.resolve(answers[path]);
        },
    };
}

const labelled = (login: string) => ({ event: "labeled", label: { name: "allow-replacement" }, actor: { login } });
const world = (events: unknown[], roles: Record<string, string>, labels = ["allow-replacement"]) =>
    fakeGitHub({
        [`repos/${REPO}/commits/${SHA}/pulls`]: [
            { number: 7, merge_commit_sha: "b".repeat(40) },
            { number: 12, merge_commit_sha: SHA, labels: labels.map((name) => ({ name })) },
        ],
        [`repos/${REPO}/issues/12/events?per_page=100&page=1`]: events,
        ...Object.fromEntries(
            Object.entries(roles).map(([who, role]) => [
                `repos/${REPO}/collaborators/${who}/permission`,
                { permission: role === "maintain" ? "write" : role, role_name: role },
            ]),
        ),
    });

describe("the allow-replacement label after a merge", () => {
    it("counts when a maintainer or an admin added it last", async () => {
        for (const role of ["admin", "maintain"]) {
            const v = await replacementLabelVerdict(world([labelled("lead")], { lead: role }), REPO, SHA);
            assert.deepStrictEqual(v, { allow: true, reason: `#12 was labelled allow-replacement by lead (${role})` });
        }
    });

    it("does not count when someone who can only write, triage or read added it", async () => {
        for (const role of ["write", "triage", "read"]) {
            const v = await replacementLabelVerdict(world([labelled("dev")], { dev: role }), REPO, SHA);
            assert.strictEqual(v.allow, false, role);
            assert.match(
                v.reason,
                new RegExp(`by dev, whose role is ${role}: only admin or maintain may allow a replacement`),
            );
        }
    });

    it("judges whoever added it last: removed by a maintainer and re-added by a writer does not count", async () => {
        const events = [
            labelled("lead"),
            { event: "unlabeled", label: { name: "allow-replacement" }, actor: { login: "lead" } },
            { event: "labeled", label: { name: "bug" }, actor: { login: "x" } },
            labelled("dev"),
        ];
        assert.strictEqual(lastLabeller(events), "dev");
        assert.strictEqual(
            (await replacementLabelVerdict(world(events, { lead: "admin", dev: "write" }), REPO, SHA)).allow,
            false,
        );
    });

    it("does not count without the label on the merged pull request, or without a merged pull request", async () => {
        const gh = world([labelled("lead")], { lead: "admin" }, ["bug"]);
        assert.deepStrictEqual(await replacementLabelVerdict(gh, REPO, SHA), {
            allow: false,
            reason: "#12 is not labelled allow-replacement",
        });
        assert.deepStrictEqual(
            gh.asked,
            [`repos/${REPO}/commits/${SHA}/pulls`],
            "no further reads once the label is absent",
        );
        const none = fakeGitHub({ [`repos/${REPO}/commits/${SHA}/pulls`]: [] });
        assert.strictEqual((await replacementLabelVerdict(none, REPO, SHA)).allow, false);
    });

    it("reads every page of a long event list", async () => {
        const noise = Array.from({ length: 100 }, () => ({ event: "commented" }));
        const gh = fakeGitHub({
            [`repos/${REPO}/commits/${SHA}/pulls`]: [
                { number: 12, merge_commit_sha: SHA, labels: [{ name: "allow-replacement" }] },
            ],
            [`repos/${REPO}/issues/12/events?per_page=100&page=1`]: [labelled("dev"), ...noise.slice(1)],
            [`repos/${REPO}/issues/12/events?per_page=100&page=2`]: [labelled("lead")],
            [`repos/${REPO}/collaborators/lead/permission`]: { role_name: "maintain" },
        });
        assert.strictEqual((await replacementLabelVerdict(gh, REPO, SHA)).allow, true);
    });

    it("the CLI prints a line for $GITHUB_OUTPUT, the reason on stderr, JSON with --json, and exit 2 on bad input or an unreadable GitHub", async () => {
        const run = async (argv: string[], gh: GitHubReader) => {
            let out = "",
                err = "";
            const code = await main(
                argv,
                {
                    out: (s) => {
                        out += s;
                    },
                    err: (s) => {
                        err += s;
                    },
                },
                gh,
            );
            return { code, out, err };
        };
        const ok = await run(["--repo", REPO, "--sha", SHA], world([labelled("dev")], { dev: "write" }));
        assert.deepStrictEqual([ok.code, ok.out], [0, "allow=false\n"]);
        assert.match(ok.err, /whose role is write/);
        const json = await run(["--repo", REPO, "--sha", SHA, "--json"], world([labelled("lead")], { lead: "admin" }));
        assert.strictEqual(JSON.parse(json.out).allow, true);
        assert.strictEqual((await run(["--repo", "nope", "--sha", SHA], fakeGitHub({}))).code, 2);
        const down = await run(["--repo", REPO, "--sha", SHA], fakeGitHub({}));
        assert.strictEqual(down.code, 2);
        assert.match(down.err, /GitHub answered 404/);
        assert.match((await run(["--help"], fakeGitHub({}))).out, /^Usage: npm run --silent replacement-label/);
    });
});
