import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GitHubWriter } from "../tools/lib/github";
import { commentBody, main, MARKER, MAX_REPORT } from "../tools/pr-comment";
import { tmpdir } from "./helpers";

const REPO = "team/platform";
const HEAD = "c".repeat(40);

/** A fake pull request #7 with comments; records every write. */
function fakeGitHub(
    headSha: string,
    comments: { id: number; body: string; user: { login: string; type: string } }[],
): GitHubWriter & { writes: [string, string, unknown][] } {
    const writes: [string, string, unknown][] = [];
    return {
        writes,
        get: (p) => {
            if (p === `repos/${REPO}/pulls/7`) return Promise.resolve({ head: { sha: headSha } });
            if (p.startsWith(`repos/${REPO}/issues/7/comments?`))
                return Promise.resolve(p.endsWith("page=1") ? comments : []);
            return Promise.reject(new Error(`GitHub answered 404 for GET /${p}`));
        },
        send: (method, p, body) => {
            writes.push([method, p, body]);
            return Promise.resolve({ id: 99 });
        },
    };
}

function artifact(number: string, report: string): string {
    const dir = tmpdir("pr-comment-");
    fs.writeFileSync(path.join(dir, "pr-number"), number);
    fs.writeFileSync(path.join(dir, "report.md"), report);
    return dir;
}

async function run(argv: string[], gh: GitHubWriter) {
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
}

describe("the preview diff as a pull request comment", () => {
    const argv = (dir: string) => [
        "--repo",
        REPO,
        "--report-dir",
        dir,
        "--head-sha",
        HEAD,
        "--run-url",
        "https://example.test/run/1",
    ];

    it("comments once, then updates its own comment in place on the next push", async () => {
        const dir = artifact("7\n", "### staging: 2 change(s)\n");
        const fresh = fakeGitHub(HEAD, [{ id: 5, body: "LGTM", user: { login: "maria", type: "User" } }]);
        assert.strictEqual((await run(argv(dir), fresh)).code, 0);
        assert.deepStrictEqual(
            fresh.writes.map(([m, p]) => [m, p]),
            [["POST", `repos/${REPO}/issues/7/comments`]],
        );
        const again = fakeGitHub(HEAD, [
            { id: 5, body: "LGTM", user: { login: "maria", type: "User" } },
            { id: 6, body: `${MARKER}\nold`, user: { login: "github-actions[bot]", type: "Bot" } },
        ]);
        const r = await run(argv(dir), again);
        assert.strictEqual(r.code, 0);
        assert.deepStrictEqual(
            again.writes.map(([m, p]) => [m, p]),
            [["PATCH", `repos/${REPO}/issues/comments/6`]],
        );
        assert.match(String((again.writes[0][2] as { body: string }).body), /### staging: 2 change\(s\)/);
    });

    it("a user's comment that copies the marker is never edited", async () => {
        const gh = fakeGitHub(HEAD, [{ id: 8, body: `${MARKER}\nfake`, user: { login: "mallory", type: "User" } }]);
        await run(argv(artifact("7", "x")), gh);
        assert.deepStrictEqual(
            gh.writes.map(([m]) => m),
            ["POST"],
        );
    });

    it("refuses when the artifact names a pull request whose head is not the commit the run tested", async () => {
        const gh = fakeGitHub("d".repeat(40), []);
        const r = await run(argv(artifact("7", "x")), gh);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /head is dddddddddddd, not cccccccccccc/);
        assert.deepStrictEqual(gh.writes, []);
    });

    it("refuses a pull request number that is not a number, and says what is missing", async () => {
        for (const bad of ["7; rm -rf /", "-1", "", "0x7"]) {
            const gh = fakeGitHub(HEAD, []);
            assert.strictEqual((await run(argv(artifact(bad, "x")), gh)).code, 1, bad);
            assert.deepStrictEqual(gh.writes, []);
        }
        const empty = tmpdir("pr-comment-");
        const r = await run(argv(empty), fakeGitHub(HEAD, []));
        assert.strictEqual(r.code, 2);
        assert.match(r.err, /pr-number is missing: the pull request's run wrote no preview/);
    });

    it("the body is marked, mentions nobody, and stays under GitHub's limit", () => {
        const body = commentBody(`@maria please look\n${"x".repeat(MAX_REPORT * 2)}`);
        assert.ok(body.startsWith(`${MARKER}\n`));
        assert.doesNotMatch(body, /@maria/);
        assert.ok(body.length < 65_536, String(body.length));
        assert.match(body, /cut at 60000 characters/);
    });
});
