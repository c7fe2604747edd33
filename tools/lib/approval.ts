/**
 * The workflow approval mode: a deploy waits until a listed reviewer, other than the person
 * who started it, answers `/approve` on an issue the workflow opens. It exists because
 * GitHub gives private repositories required reviewers only on Enterprise; it works on
 * every plan with nothing but the workflow's own token (`issues: write`).
 *
 * Pure decisions live here (tested without a network); `.github/scripts/approve.ts` is the
 * thin CLI the workflow runs.
 */
import type { Settings } from "../../infra/config";

export interface ApprovalGate {
    /** Whether the deploy workflow must wait for an approval before touching the stack. */
    required: boolean;
    /** GitHub logins (lower case) whose answer counts. */
    approvers: string[];
}

/** Workflow mode with reviewers listed: the workflow holds the deploy. Environment mode: GitHub does. */
export function approvalGate(github: Pick<Settings["github"], "approvalMode" | "reviewers">): ApprovalGate {
    const approvers = github.reviewers.map((r) => r.toLowerCase());
    return { required: github.approvalMode === "workflow" && approvers.length > 0, approvers };
}

/** One issue comment as the REST API returns it (only the fields the decision reads). */
export interface IssueComment {
    user: { login: string; type?: string } | null;
    body: string | null;
    created_at: string;
    updated_at: string;
}

export type Decision =
    { outcome: "approved"; by: string } | { outcome: "denied"; by: string } | { outcome: "pending"; ignored: string[] };

/**
 * Reads the comments oldest first; the first `/approve` or `/deny` from a listed approver who
 * is not excluded decides. Ignored (and reported): answers from anyone else, from an
 * excluded login (the merger cannot approve their own change), and edited comments, because
 * anyone with write access can edit another user's comment while the author shown stays the
 * same.
 */
export function decideApproval(comments: IssueComment[], approvers: string[], excluded: string[]): Decision {
    const allowed = new Set(approvers.map((a) => a.toLowerCase()));
    const banned = new Set(excluded.filter((e) => e !== "").map((e) => e.toLowerCase()));
    const ignored: string[] = [];
    const ordered = [...comments].sort((a, b) => a.created_at.localeCompare(b.created_at));
    for (const c of ordered) {
        const command = /^\s*\/(approve|deny)\b/i.exec(c.body ?? "")?.[1]?.toLowerCase();
        if (command === undefined) continue;
        const login = (c.user?.login ?? "").toLowerCase();
        if (c.updated_at !== c.created_at) {
            ignored.push(`${login}: edited comment`);
            continue;
        }
        if (!allowed.has(login)) {
            ignored.push(`${login}: not a listed approver`);
            continue;
        }
        if (banned.has(login)) {
            ignored.push(`${login}: started this deploy`);
            continue;
        }
        return command === "approve" ? { outcome: "approved", by: login } : { outcome: "denied", by: login };
    }
    return { outcome: "pending", ignored };
}

/** Approvers left once the excluded logins are removed; none left means nobody can approve. */
export function eligibleApprovers(approvers: string[], excluded: string[]): string[] {
    const banned = new Set(excluded.map((e) => e.toLowerCase()));
    return approvers.filter((a) => !banned.has(a.toLowerCase()));
}

/**
 * Prod's approvers as CODEOWNERS spells them: @user for each reviewer, @org/team for each
 * reviewer team. init writes them into CODEOWNERS; doctor holds CODEOWNERS to them.
 */
export function codeOwnerHandles(github: Pick<Settings["github"], "owner" | "reviewers" | "reviewerTeams">): string[] {
    return [...github.reviewers.map((u) => `@${u}`), ...github.reviewerTeams.map((t) => `@${github.owner}/${t}`)];
}
