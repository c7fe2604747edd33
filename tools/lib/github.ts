/**
 * The few GitHub REST reads the tools make, behind one small interface: the tools pass a
 * reader over `fetch` with the workflow's token, tests a typed fake.
 */
import { ToolError } from "./errors";

export interface GitHubReader {
    /** GET a REST path (`repos/OWNER/REPO/...`) and return the parsed JSON body. */
    get(path: string): Promise<unknown>;
}

const headersFor = (token: string) => ({
    accept: "application/vnd.github+json",
    authorization: `Bearer ${token}`,
    "x-github-api-version": "2022-11-28",
});

/** The token the tools read GitHub with: the workflow passes its own GITHUB_TOKEN as GH_TOKEN. */
export function tokenFromEnv(env: NodeJS.ProcessEnv = process.env): string {
    if (!env.GH_TOKEN) throw new ToolError("GH_TOKEN is not set: the workflow passes its GITHUB_TOKEN");
    return env.GH_TOKEN;
}

/** A reader over GitHub's REST API with a token (the workflow's GITHUB_TOKEN). */
export function restReader(token: string, api = "https://api.github.com"): GitHubReader {
    return {
        async get(path) {
            const res = await fetch(`${api}/${path}`, { headers: headersFor(token) });
            if (!res.ok) throw new Error(`GitHub answered ${res.status} for GET /${path.split("?")[0]}`);
            return res.json();
        },
    };
}

/** Every item of a paged list (100 a page; issue events, for one, can exceed a page). */
export async function allPages(gh: GitHubReader, path: string): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let page = 1; page <= 50; page++) {
        const items = (await gh.get(`${path}?per_page=100&page=${page}`)) as unknown[];
        out.push(...items);
        if (items.length < 100) break;
    }
    return out;
}

/**
 * Whether any workflow job ever deployed to the environment: GitHub records a deployment
 * for each job that names an environment, whether its `pulumi up` then succeeded or not, so
 * "none" means nothing of the stack can exist yet. Needs `deployments: read`.
 */
export async function everDeployed(gh: GitHubReader, repo: string, environment: string): Promise<boolean> {
    const list = (await gh.get(
        `repos/${repo}/deployments?environment=${encodeURIComponent(environment)}&per_page=1`,
    )) as unknown[];
    return list.length > 0;
}

/** The writes a tool makes, beside the reads. */
export interface GitHubWriter extends GitHubReader {
    /** POST or PATCH a REST path with a JSON body; returns the parsed answer. */
    send(method: "POST" | "PATCH", path: string, body: unknown): Promise<unknown>;
}

/** A reader and writer over GitHub's REST API with a token. */
export function restWriter(token: string, api = "https://api.github.com"): GitHubWriter {
    return {
        ...restReader(token, api),
        async send(method, path, body) {
            const res = await fetch(`${api}/${path}`, {
                method,
                headers: { ...headersFor(token), "content-type": "application/json" },
                body: JSON.stringify(body),
            });
            if (!res.ok) throw new Error(`GitHub answered ${res.status} for ${method} /${path}`);
            return res.json();
        },
    };
}
