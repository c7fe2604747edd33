/**
 * `npm run --silent pr-comment -- --repo OWNER/REPO --report-dir <dir> --head-sha <commit> [--run-url <url>] [--json]`
 *
 * Posts the pull request's preview diff as one comment, updated in place on each push. Runs
 * in pr-comment.yml (a `workflow_run` of the pull-request workflow, on main's code), never in
 * the pull request's own run, which holds no write permission. Everything in <dir> came from
 * that run, the pull request's code, and is read as data only: the pull request number must
 * name a pull request whose head is the commit the run tested (from the event, not from the
 * artifact), and the report is capped and cannot mention anyone.
 * Exit codes: 0 posted or updated, 1 refused (the artifact does not match the run), 2 usage
 * error or GitHub could not be read or written.
 */
import * as fs from "fs";
import * as path from "path";
import { Io, runCli, runTool } from "./lib/cli";
import { EXIT, ToolError } from "./lib/errors";
import { allPages, GitHubWriter, restWriter, tokenFromEnv } from "./lib/github";

const HELP = `Usage: npm run --silent pr-comment -- --repo OWNER/REPO --report-dir <dir> --head-sha <commit> [--run-url <url>] [--json]

Posts <dir>/report.md (the pull request's preview diff, as its run wrote it) on the pull
request named in <dir>/pr-number, as one comment updated in place. Refuses when that pull
request's head is not <head-sha> (the commit the run tested). Reads GH_TOKEN (pull-requests:
write).
Exit: 0 posted or updated, 1 refused, 2 usage error or GitHub could not be read or written.`;

/** The hidden first line that marks this tool's comment, so a later run updates it. */
export const MARKER = "<!-- do-platform:preview -->";
/** GitHub refuses a comment body over 65,536 characters; leave room for the frame. */
export const MAX_REPORT = 60_000;

/**
 * The comment's body: the report, capped, with every `@` defused so the pull request's
 * code cannot make the bot mention (and notify) anyone.
 */
export function commentBody(report: string, runUrl?: string): string {
    let text = report.replace(/@/g, "@\u200b");
    if (text.length > MAX_REPORT)
        text = `${text.slice(0, MAX_REPORT)}\n\n… cut at ${MAX_REPORT} characters: the run's summary has it whole.`;
    const footer = `<sub>Offline preview of this pull request's own code, without credentials${runUrl ? `: [run](${runUrl})` : ""}. The deploy job previews against the real state before it applies anything.</sub>`;
    return `${MARKER}\n## Preview\n\n${text.trim()}\n\n${footer}\n`;
}

interface Comment {
    id: number;
    body?: string;
    user?: { login?: string; type?: string };
}

/** Posts or updates the comment; returns what it did. */
export async function postPreview(
    gh: GitHubWriter,
    repo: string,
    number: number,
    headSha: string,
    body: string,
): Promise<{ action: "created" | "updated" | "refused"; reason: string; id?: number }> {
    const pr = (await gh.get(`repos/${repo}/pulls/${number}`)) as { head?: { sha?: string }; state?: string };
    if (pr.head?.sha !== headSha) {
        return {
            action: "refused",
            reason: `pull request #${number}'s head is ${String(pr.head?.sha).slice(0, 12)}, not ${headSha.slice(0, 12)} (the commit the run tested): not commenting`,
        };
    }
    const comments = (await allPages(gh, `repos/${repo}/issues/${number}/comments`)) as Comment[];
    const mine = comments.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(MARKER));
    if (mine) {
        await gh.send("PATCH", `repos/${repo}/issues/comments/${mine.id}`, { body });
        return { action: "updated", reason: `updated the preview comment on #${number}`, id: mine.id };
    }
    const made = (await gh.send("POST", `repos/${repo}/issues/${number}/comments`, { body })) as Comment;
    return { action: "created", reason: `commented the preview on #${number}`, id: made.id };
}

export function main(argv: string[], io: Io, github?: GitHubWriter): Promise<number> {
    return runTool(
        {
            name: "pr-comment",
            help: HELP,
            values: ["--repo", "--report-dir", "--head-sha", "--run-url"],
            flags: ["--json"],
            run: async (a, r) => {
                const { repo, "report-dir": dir, "head-sha": headSha, "run-url": runUrl } = a.values;
                if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo))
                    throw new ToolError(`--repo must be OWNER/REPO, got ${JSON.stringify(repo ?? "")}`);
                if (!headSha || !/^[0-9a-f]{40}$/.test(headSha))
                    throw new ToolError(`--head-sha must be a full commit id, got ${JSON.stringify(headSha ?? "")}`);
                if (!dir) throw new ToolError("--report-dir is required");
                const read = (f: string) => {
                    try {
                        return fs.readFileSync(path.join(dir, f), "utf8");
                    } catch {
                        throw new ToolError(`${path.join(dir, f)} is missing: the pull request's run wrote no preview`);
                    }
                };
                const numberText = read("pr-number").trim();
                if (!/^[1-9]\d{0,8}$/.test(numberText)) {
                    r.log(
                        `refused: pr-number is not a pull request number (${JSON.stringify(numberText.slice(0, 20))})`,
                    );
                    return r.done({ result: "refused" }, EXIT.failed);
                }
                const gh = github ?? restWriter(tokenFromEnv());
                const done = await postPreview(
                    gh,
                    repo,
                    Number(numberText),
                    headSha,
                    commentBody(read("report.md"), runUrl),
                );
                r.log(done.reason);
                return r.done(
                    { result: done.action, pullRequest: Number(numberText), comment: done.id },
                    done.action === "refused" ? EXIT.failed : EXIT.ok,
                );
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
