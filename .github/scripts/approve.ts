/**
 * The deploy workflow's approval step (githubApprovalMode: workflow). Reads the stack's
 * approval settings from the committed Pulumi.<stack>.yaml (validated by the program's own
 * config module), opens an issue naming the commit and run, and waits until a listed
 * reviewer other than the excluded logins answers /approve or /deny. Only the workflow
 * token is used (GITHUB_TOKEN with issues: write); no deploy credential is present.
 *
 * Exit codes: 0 approved (or no approval needed), 1 denied or timed out, 2 could not run.
 */
import { decideApproval, eligibleApprovers, approvalGate, IssueComment } from "../../tools/lib/approval";
import * as path from "path";
import { parseSettings } from "../../infra/config";
import { ToolError } from "../../tools/lib/errors";
import { parseFlags, runCli, Io, workDirOf } from "../../tools/lib/cli";
import { configSource, offlineSecrets, readStackConfig, StackConfig } from "../../tools/lib/stacks";

const HELP = `usage: approve.ts --stack <name> (--settings | --commit <sha> --exclude <login,...>) [--timeout-minutes N] [--poll-seconds N] [--work-dir DIR]
  --settings         print required=<true|false> and approvers=<a,b> (GITHUB_OUTPUT lines) and exit
  --commit           the exact commit being deployed (named in the approval issue)
  --exclude          logins that may not approve (the one who merged or started the run)
environment: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_API_URL (default https://api.github.com), RUN_URL
exit codes: 0 approved or not needed, 1 denied or timed out, 2 could not run`;

/** Reads <work-dir>/Pulumi.<stack>.yaml as the CLI hands config to the program (tools/lib/stacks, the one reader). */
function gateFor(workDir: string, stack: string) {
    let cfg: StackConfig;
    try {
        cfg = readStackConfig(stack, workDir);
    } catch (e) {
        throw new ToolError((e as Error).message);
    }
    const { values, secretKeys } = cfg;
    // Secrets the settings check needs but the workflow never holds: placeholders, as the offline plan uses.
    const placeholders = offlineSecrets(values);
    const settings = parseSettings(
        configSource({ ...values, ...placeholders }, [...secretKeys, ...Object.keys(placeholders)]),
        stack,
    );
    return approvalGate(settings.github);
}

async function api<T>(method: string, route: string, body?: unknown): Promise<T> {
    const base = process.env.GITHUB_API_URL ?? "https://api.github.com";
    const res = await fetch(`${base}${route}`, {
        method,
        headers: {
            authorization: `Bearer ${process.env.GITHUB_TOKEN ?? ""}`,
            accept: "application/vnd.github+json",
            "content-type": "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new ToolError(`GitHub API ${method} ${route}: HTTP ${res.status}`);
    return (await res.json()) as T;
}

async function allComments(repo: string, issue: number): Promise<IssueComment[]> {
    const out: IssueComment[] = [];
    for (let page = 1; page <= 20; page++) {
        const batch = await api<IssueComment[]>(
            "GET",
            `/repos/${repo}/issues/${issue}/comments?per_page=100&page=${page}`,
        );
        out.push(...batch);
        if (batch.length < 100) break;
    }
    return out;
}

async function main(argv: string[], io: Io): Promise<number> {
    const { values, flags, help } = parseFlags(
        argv,
        ["--stack", "--commit", "--exclude", "--timeout-minutes", "--poll-seconds", "--work-dir"],
        ["--settings"],
    );
    if (help) {
        io.out(`${HELP}\n`);
        return 0;
    }
    const stack = values.stack;
    if (!stack) throw new ToolError("--stack is required (see --help)");
    const gate = gateFor(values["work-dir"] ? path.resolve(values["work-dir"]) : workDirOf({}), stack);
    if (flags.has("settings")) {
        io.out(`required=${gate.required}\napprovers=${gate.approvers.join(",")}\n`);
        return 0;
    }
    if (!gate.required) {
        io.out(`${stack}: no workflow approval configured\n`);
        return 0;
    }
    const commit = values.commit ?? "";
    if (!/^[0-9a-f]{40}$/.test(commit))
        throw new ToolError(`--commit ${JSON.stringify(commit)} is not a full commit SHA`);
    const excluded = (values.exclude ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    if (excluded.length === 0) throw new ToolError("--exclude is required: name who merged or started the run");
    const eligible = eligibleApprovers(gate.approvers, excluded);
    if (eligible.length === 0) {
        io.err(
            `error: nobody can approve: the only listed approvers (${gate.approvers.join(", ")}) started this deploy\n`,
        );
        return 1;
    }
    const repo = process.env.GITHUB_REPOSITORY ?? "";
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new ToolError("GITHUB_REPOSITORY must be owner/name");
    const timeoutMs = Number(values["timeout-minutes"] ?? "240") * 60_000;
    const pollMs = Number(values["poll-seconds"] ?? "30") * 1000;
    const body = [
        `A deploy of **${stack}** waits for approval.`,
        "",
        `- commit: \`${commit}\``,
        `- run: ${process.env.RUN_URL ?? "(unknown)"}`,
        `- may approve: ${eligible.map((a) => `@${a}`).join(", ")} (not: ${excluded.join(", ")})`,
        "",
        "Comment `/approve` to deploy or `/deny` to stop it. Edited comments do not count.",
    ].join("\n");
    const issue = await api<{ number: number; html_url: string }>("POST", `/repos/${repo}/issues`, {
        title: `Approve ${stack} deploy of ${commit.slice(0, 12)}`,
        body,
    });
    io.out(`waiting for approval on ${issue.html_url}\n`);
    const deadline = Date.now() + timeoutMs;
    let reported = 0;
    for (;;) {
        const decision = decideApproval(await allComments(repo, issue.number), gate.approvers, excluded);
        if (decision.outcome === "pending") {
            for (const line of decision.ignored.slice(reported)) io.out(`ignored: ${line}\n`);
            reported = decision.ignored.length;
        }
        if (decision.outcome !== "pending" || Date.now() >= deadline) {
            const verdict = decision.outcome === "pending" ? "timed out" : `${decision.outcome} by @${decision.by}`;
            await api("POST", `/repos/${repo}/issues/${issue.number}/comments`, { body: `Deploy ${verdict}.` });
            await api("PATCH", `/repos/${repo}/issues/${issue.number}`, { state: "closed" });
            io.out(`${stack}: ${verdict}\n`);
            return decision.outcome === "approved" ? 0 : 1;
        }
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

runCli(main);
