/**
 * Just enough of the OCI distribution API to answer "does this image still exist, and at
 * which digest": HEAD on a manifest, with the registry's bearer-token handshake.
 */
import * as http from "http";
import * as https from "https";
import { isDigest } from "../../infra/config/validate";

export interface RegistryOptions {
    /** Base URL of the registry API; defaults to https://<host of the repository>. */
    registryUrl?: string;
    username?: string;
    password?: string;
}

const ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function request(url: string, method: string, headers: Record<string, string>): Promise<Reply> {
    const lib = url.startsWith("https:") ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.request(url, { method, headers, timeout: 15_000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c) => {
                body += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`timed out talking to ${new URL(url).host}`)));
        req.on("error", reject);
        req.end();
    });
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of header.replace(/^Bearer\s+/i, "").matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
    return out;
}

/**
 * The digest `reference` (a tag or a digest) resolves to in `repository`
 * (`ghcr.io/acme/shop`), or undefined when the registry says it does not exist.
 */
export async function manifestDigest(
    repository: string,
    reference: string,
    o: RegistryOptions = {},
): Promise<string | undefined> {
    const slash = repository.indexOf("/");
    const base = o.registryUrl ?? `https://${repository.slice(0, slash)}`;
    const url = `${base}/v2/${repository.slice(slash + 1)}/manifests/${reference}`;
    let res = await request(url, "HEAD", { Accept: ACCEPT });
    if (
        res.status === 401 &&
        String(res.headers["www-authenticate"] ?? "")
            .toLowerCase()
            .startsWith("bearer")
    ) {
        const c = parseChallenge(String(res.headers["www-authenticate"]));
        const tokenUrl = `${c.realm}?service=${encodeURIComponent(c.service ?? "")}&scope=${encodeURIComponent(c.scope ?? `repository:${repository.slice(slash + 1)}:pull`)}`;
        const auth: Record<string, string> =
            o.username && o.password
                ? { Authorization: `Basic ${Buffer.from(`${o.username}:${o.password}`).toString("base64")}` }
                : {};
        const t = await request(tokenUrl, "GET", auth);
        if (t.status !== 200) throw new Error(`registry refused a pull token for ${repository} (HTTP ${t.status})`);
        const token = JSON.parse(t.body) as { token?: string; access_token?: string };
        res = await request(url, "HEAD", {
            Accept: ACCEPT,
            Authorization: `Bearer ${token.token ?? token.access_token}`,
        });
    }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`registry answered HTTP ${res.status} for ${repository}:${reference}`);
    const digest = String(res.headers["docker-content-digest"] ?? "");
    if (!isDigest(digest)) {
        if (reference.startsWith("sha256:")) return reference;
        throw new Error(`registry gave no digest for ${repository}:${reference}`);
    }
    return digest;
}
