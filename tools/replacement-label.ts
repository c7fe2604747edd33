/**
 * `npm run --silent replacement-label -- --repo OWNER/REPO --sha <commit> [--json]`
 *
 * After a merge to main: does the merged pull request's `allow-replacement` label count? Only
 * when a maintainer (admin or maintain role) added it. Reads GH_TOKEN (the workflow's
 * GITHUB_TOKEN, with pull-requests: read). Prints `allow=true` or `allow=false` (a line for
 * $GITHUB_OUTPUT) and the reason on stderr.
 * Exit codes: 0 decided (either way), 2 usage error or GitHub could not be read.
 */
import { Io, runCli, runTool } from "./lib/cli";
import { ToolError } from "./lib/errors";
import { GitHubReader, restReader, tokenFromEnv } from "./lib/github";
import { replacementLabelVerdict } from "./lib/labels";

const HELP = `Usage: npm run --silent replacement-label -- --repo OWNER/REPO --sha <commit> [--json]

Decides whether the pull request merged as <commit> allows a deploy to replace or delete
servers, the database, the VPC or DNS records: it must carry the allow-replacement label,
added last by someone with the admin or maintain role on the repository. Reads GH_TOKEN.
Prints allow=true or allow=false on stdout (for $GITHUB_OUTPUT) and the reason on stderr;
--json prints {"allow": ..., "reason": ...} instead.
Exit: 0 decided, 2 usage error or GitHub could not be read.`;

export function main(argv: string[], io: Io, reader?: GitHubReader): Promise<number> {
    return runTool(
        {
            name: "replacement-label",
            help: HELP,
            values: ["--repo", "--sha"],
            flags: ["--json"],
            run: async (a, r) => {
                const { repo, sha } = a.values;
                if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo))
                    throw new ToolError(`--repo must be OWNER/REPO, got ${JSON.stringify(repo ?? "")}`);
                if (!sha || !/^[0-9a-f]{40}$/.test(sha))
                    throw new ToolError(
                        `--sha must be a full commit id (40 hex digits), got ${JSON.stringify(sha ?? "")}`,
                    );
                const gh = reader ?? restReader(tokenFromEnv());
                const verdict = await replacementLabelVerdict(gh, repo, sha);
                if (!r.json) {
                    io.out(`allow=${verdict.allow}\n`);
                    io.err(`${verdict.reason}\n`);
                }
                return r.done({ allow: verdict.allow, reason: verdict.reason }, 0);
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
