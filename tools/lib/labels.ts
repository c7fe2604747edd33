/**
 * Whether a merged pull request's `allow-replacement` label counts: only when the person who
 * last added it may maintain the repository. Anyone with triage access can label a pull
 * request, and the label lets a deploy replace or delete servers, the database or DNS.
 */

export const REPLACEMENT_LABEL = "allow-replacement";

/** Repository roles whose label counts (GitHub's `role_name` of a collaborator's permission). */
export const MAINTAINER_ROLES = ["admin", "maintain"];

/** The GitHub REST reads this decision needs; the tool passes one over `fetch`, tests a fake. */
export interface GitHubReader {
    /** GET a REST path (`repos/OWNER/REPO/...`) and return the parsed JSON body. */
    get(path: string): Promise<unknown>;
}

export interface LabelVerdict {
    allow: boolean;
    /** One line: which pull request, who labelled it, and why it counts or not. */
    reason: string;
}

interface PullRef { number: number; merge_commit_sha?: string | null; labels?: { name: string }[] }
interface IssueEvent { event: string; label?: { name: string }; actor?: { login: string } | null }

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
    if (!(pr.labels ?? []).some((l) => l.name === REPLACEMENT_LABEL)) return { allow: false, reason: `#${pr.number} is not labelled ${REPLACEMENT_LABEL}` };
    const events = await allPages(gh, `repos/${repo}/issues/${pr.number}/events`);
    const who = lastLabeller(events as IssueEvent[]);
    if (!who) return { allow: false, reason: `#${pr.number}: no event says who added ${REPLACEMENT_LABEL}, so it does not count` };
    const perm = (await gh.get(`repos/${repo}/collaborators/${encodeURIComponent(who)}/permission`)) as { role_name?: string; permission?: string };
    const role = perm.role_name ?? perm.permission ?? "none";
    return MAINTAINER_ROLES.includes(role)
        ? { allow: true, reason: `#${pr.number} was labelled ${REPLACEMENT_LABEL} by ${who} (${role})` }
        : { allow: false, reason: `#${pr.number} was labelled ${REPLACEMENT_LABEL} by ${who}, whose role is ${role}: only ${MAINTAINER_ROLES.join(" or ")} may allow a replacement` };
}

/** Every item of a paged list (100 a page; GitHub's issue events can exceed one page). */
async function allPages(gh: GitHubReader, path: string): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let page = 1; page <= 50; page++) {
        const items = (await gh.get(`${path}?per_page=100&page=${page}`)) as unknown[];
        out.push(...items);
        if (items.length < 100) break;
    }
    return out;
}

/** A reader over GitHub's REST API with a token (the workflow's GITHUB_TOKEN). */
export function restReader(token: string, api = "https://api.github.com"): GitHubReader {
    return {
        async get(path) {
            const res = await fetch(`${api}/${path}`, {
                headers: { accept: "application/vnd.github+json", authorization: `Bearer ${token}`, "x-github-api-version": "2022-11-28" },
            });
            if (!res.ok) throw new Error(`GitHub answered ${res.status} for GET /${path.split("?")[0]}`);
            return res.json();
        },
    };
}
