/**
 * Post-deploy verification through the public edge: what users see. Smoke requests (the
 * health path plus the configured `smokeRequests`) must each answer their expected status,
 * then the same requests repeat for `verifyWindowSeconds`, and the error rate must stay at
 * or under `maxErrorPercent`. The verdict is one line, used by the workflow and the
 * rollback tool. Decisions are pure functions; the HTTP loop is injected.
 */
import { routeOf, Settings, SmokeRequest } from "../../infra/config";

export interface Probe {
    path: string;
    expected: number;
    /** The status, or the network error's message. */
    got: number | string;
}

/** A request of the plan; `origin` (https://host) overrides the plan's base URL. */
export interface PlannedRequest extends SmokeRequest {
    origin?: string;
}

export interface VerifyPlan {
    baseUrl: string;
    requests: PlannedRequest[];
    windowSeconds: number;
    maxErrorPercent: number;
}

export interface Verdict {
    ok: boolean;
    /** One line: what passed, or the first thing users would have seen fail. */
    reason: string;
    smoke: Probe[];
    window: { total: number; failed: number; percent: number; worst?: string };
}

/** The requests to make: the health path first, then the smoke requests, without duplicates. */
export function planRequests(healthPath: string, smoke: SmokeRequest[]): SmokeRequest[] {
    return [{ path: healthPath, status: 200 }, ...smoke.filter((s) => s.path !== healthPath)];
}

/**
 * Every service's requests through the public edge: the stack's health URL first, then each
 * service's smoke requests on a host whose routes reach that service for that path.
 */
export function publicRequests(cfg: Pick<Settings, "services" | "check">): PlannedRequest[] {
    const out: PlannedRequest[] = [{ origin: `https://${cfg.check.host}`, path: cfg.check.path, status: 200 }];
    for (const svc of cfg.services) {
        for (const smoke of svc.smokeRequests) {
            const host = [...new Set(svc.routes.map((r) => r.host))].find(
                (h) => routeOf(cfg.services, h, smoke.path)?.name === svc.name,
            );
            if (!host || (host === cfg.check.host && smoke.path === cfg.check.path)) continue;
            out.push({ origin: `https://${host}`, ...smoke });
        }
    }
    return out;
}

const failed = (p: Probe) => p.got !== p.expected;
const show = (p: Probe) =>
    `GET ${p.path} answered ${typeof p.got === "number" ? p.got : `no response (${p.got})`}, expected ${p.expected}`;

/** Judges the first round (every request must pass) and the window (error rate). */
export function judge(smoke: Probe[], window: Probe[], maxErrorPercent: number): Verdict {
    const firstBad = smoke.find(failed);
    const bad = window.filter(failed);
    const percent = window.length === 0 ? 0 : Math.round((bad.length / window.length) * 1000) / 10;
    const counts = new Map<string, number>();
    for (const p of bad) counts.set(show(p), (counts.get(show(p)) ?? 0) + 1);
    const worst = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const summary = { total: window.length, failed: bad.length, percent, worst };
    if (firstBad) return { ok: false, reason: `post-deploy check failed: ${show(firstBad)}`, smoke, window: summary };
    if (percent > maxErrorPercent) {
        return {
            ok: false,
            reason: `post-deploy check failed: ${bad.length} of ${window.length} requests failed (${percent}% > ${maxErrorPercent}%), mostly: ${worst}`,
            smoke,
            window: summary,
        };
    }
    return {
        ok: true,
        reason: `post-deploy check passed: ${smoke.length} smoke request(s), then ${window.length} requests with ${percent}% errors (limit ${maxErrorPercent}%)`,
        smoke,
        window: summary,
    };
}

export type Fetcher = (url: string) => Promise<number>;

/** Node's fetch, no redirects followed (a 301 to a login page is not a 200), 10 s timeout. */
export const httpStatus: Fetcher = async (url) =>
    (await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(10_000) })).status;

export async function verify(
    plan: VerifyPlan,
    fetcher: Fetcher = httpStatus,
    log: (l: string) => void = () => undefined,
    sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<Verdict> {
    const once = async (r: PlannedRequest): Promise<Probe> => {
        const base = r.origin ?? plan.baseUrl;
        const path = r.origin ? `${r.origin.replace(/^https?:\/\//, "")}${r.path}` : r.path;
        try {
            return { path, expected: r.status, got: await fetcher(`${base}${r.path}`) };
        } catch (e) {
            return { path, expected: r.status, got: (e as Error).message.split("\n")[0] };
        }
    };
    const smoke: Probe[] = [];
    for (const r of plan.requests) smoke.push(await once(r));
    for (const p of smoke) log(`${failed(p) ? "FAIL" : "ok  "} ${show(p)}`);
    const window: Probe[] = [];
    if (!smoke.some(failed)) {
        const end = Date.now() + plan.windowSeconds * 1000;
        log(`watching ${plan.baseUrl} for ${plan.windowSeconds}s`);
        while (Date.now() < end) {
            for (const r of plan.requests) window.push(await once(r));
            await sleep(250);
        }
    }
    return judge(smoke, window, plan.maxErrorPercent);
}
