/**
 * Whether a merged pull request's `allow-replacement` label counts: only when the person who
 * last added it may maintain the repository. Anyone with triage access can label a pull
 * request, and the label lets a deploy replace or delete servers, the database or DNS.
 */
import { allPages, GitHubReader } from "./github";

export const REPLACEMENT_LABEL = "allow-replacement";

/** Repository roles whose label counts (GitHub's `role_name` of a collaborator's permission). */
export const MAINTAINER_ROLES = ["admin", "maintain"];

export interface LabelVerdict {
    allow: boolean;
    /** One line: which pull request, who labelled it, and why it counts or not. */
    reason: string;
}

interface PullRef {
    number: number;
    merge_commit_sha?: string | null;
    labels?: { name: string }[];
}
interface IssueEvent {
    event: string;
    label?: { name: string };
    actor?: { login: string } | null;
}

/**
 * Who added the label last, from a pull request's issue events (oldest first, as GitHub
 * lists them): an `unlabeled` after it clears it.
 */
export function lastLabeller(events: IssueEvent[], label = REPLACEMENT_LABEL): string | undefined {
    let who: string | undefined;
    for (const e of events) {
        if (e.label?.name !== label) continue;
        if (e.event === "labeled") who = e.actor?.login;
        else if (e.event === "unlabeled") who = undefined;
    }
    return who;
}

/** The verdict for the commit a push to main made, reading pull requests, events and roles. */
export async function replacementLabelVerdict(gh: GitHubReader, repo: string, sha: string): Promise<LabelVerdict> {
    const pulls = (await gh.get(`repos/${repo}/commits/${sha}/pulls`)) as PullRef[];
    const pr = pulls.find((p) => p.merge_commit_sha === sha);
    if (!pr) return { allow: false, reason: `no pull request was merged as ${sha.slice(0, 12)}: no label applies` };
    if (!(pr.labels ?? []).some((l) => l.name === REPLACEMENT_LABEL))
        return { allow: false, reason: `#${pr.number} is not labelled ${REPLACEMENT_LABEL}` };
    const events = await allPages(gh, `repos/${repo}/issues/${pr.number}/events`);
    const who = lastLabeller(events as IssueEvent[]);
    if (!who)
        return {
            allow: false,
            reason: `#${pr.number}: no event says who added ${REPLACEMENT_LABEL}, so it does not count`,
        };
    const perm = (await gh.get(`repos/${repo}/collaborators/${encodeURIComponent(who)}/permission`)) as {
        role_name?: string;
        permission?: string;
    };
    const role = perm.role_name ?? perm.permission ?? "none";
    return MAINTAINER_ROLES.includes(role)
        ? { allow: true, reason: `#${pr.number} was labelled ${REPLACEMENT_LABEL} by ${who} (${role})` }
        : {
              allow: false,
              reason: `#${pr.number} was labelled ${REPLACEMENT_LABEL} by ${who}, whose role is ${role}: only ${MAINTAINER_ROLES.join(" or ")} may allow a replacement`,
          };
}
