/**
 * A stand-in for the few GitHub API calls a preview makes, on 127.0.0.1 only.
 *
 * The program's GitHub provider has an owner, so the provider's Configure calls the API,
 * and `github.getUser`/`getTeam` invokes run during preview. The test points the provider
 * at this server through GITHUB_BASE_URL, which the SDK's Provider uses as the default
 * `baseUrl` (node_modules/@pulumi/github/provider.js: `args?.baseUrl ?? getEnv("GITHUB_BASE_URL")`),
 * so the program itself is unchanged.
 */
import * as http from "http";
import { AddressInfo } from "net";

export interface StandIn { url: string; requests: string[]; close: () => Promise<void> }

/** Numeric ids derived from the name, so a user or team keeps its id across previews. */
function idOf(name: string): number {
    let h = 7;
    for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_007;
    return 1000 + (h % 9_000_000);
}

export async function startGithubStandIn(): Promise<StandIn> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        requests.push(`${req.method} ${url.pathname}`);
        const p = url.pathname.replace(/^\/api\/v3/, "");
        let m: RegExpExecArray | null;
        let body: unknown;
        if (p === "/user") body = { login: "fixture-bot", id: idOf("fixture-bot"), type: "User" };
        else if ((m = /^\/users\/([^/]+)$/.exec(p))) body = { login: m[1], id: idOf(m[1]), node_id: `U_${m[1]}`, type: "User" };
        else if ((m = /^\/orgs\/([^/]+)$/.exec(p))) body = { login: m[1], id: idOf(m[1]), type: "Organization" };
        else if ((m = /^\/orgs\/([^/]+)\/teams\/([^/]+)$/.exec(p))) body = { slug: m[2], id: idOf(`${m[1]}/${m[2]}`), node_id: `T_${m[2]}`, name: m[2] };
        res.setHeader("content-type", "application/json");
        if (body === undefined) {
            res.statusCode = 404;
            res.end(JSON.stringify({ message: "Not Found (engine-tier stand-in)" }));
        } else {
            res.end(JSON.stringify(body));
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/`,
        requests,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
