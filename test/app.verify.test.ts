/** Post-deploy verification: the verdict rules, the HTTP loop on a local server, the CLI's contract. */
import * as assert from "assert";
import * as http from "http";
import { main } from "../tools/post-deploy-check";
import { failureReason } from "../tools/lib/deploy";
import { judge, planRequests, Probe, verify } from "../tools/lib/verify";
import { FIXTURES } from "./helpers";

const p = (path: string, got: number | string, expected = 200): Probe => ({ path, expected, got });

describe("post-deploy check: verdict", () => {
    it("checks the health path first and every smoke request once", () => {
        assert.deepStrictEqual(
            planRequests("/h", [
                { path: "/", status: 200 },
                { path: "/h", status: 200 },
                { path: "/admin", status: 401 },
            ]),
            [
                { path: "/h", status: 200 },
                { path: "/", status: 200 },
                { path: "/admin", status: 401 },
            ],
        );
    });

    it("fails on the first smoke request users would see fail, in one line", () => {
        const v = judge([p("/h", 200), p("/", 500), p("/x", "ECONNREFUSED")], [], 1);
        assert.strictEqual(v.ok, false);
        assert.strictEqual(v.reason, "post-deploy check failed: GET / answered 500, expected 200");
        assert.doesNotMatch(v.reason, /\n/);
    });

    it("fails when the window's error rate exceeds the limit, naming the commonest failure", () => {
        const window = [...Array(97).fill(p("/", 200)), p("/", 502), p("/", 502), p("/h", "timeout")];
        const v = judge([p("/", 200)], window, 2);
        assert.strictEqual(v.ok, false);
        assert.strictEqual(
            v.reason,
            "post-deploy check failed: 3 of 100 requests failed (3% > 2%), mostly: GET / answered 502, expected 200",
        );
        assert.strictEqual(judge([p("/", 200)], window, 3).ok, true, "at the limit passes");
    });

    it("an expected non-200 status counts as success", () => {
        assert.strictEqual(judge([p("/admin", 401, 401)], [p("/admin", 401, 401)], 0).ok, true);
        assert.strictEqual(judge([p("/admin", 200, 401)], [], 0).ok, false);
    });
});

describe("post-deploy check: through a real HTTP server", function () {
    this.timeout(20_000);
    let server: http.Server;
    let base = "";
    let pageStatus = 200;
    before(async () => {
        server = http.createServer((req, res) => res.writeHead(req.url === "/api/v1/health" ? 200 : pageStatus).end());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it("health fine but pages 500: fails (the old check only fetched the health URL and passed)", async () => {
        pageStatus = 500;
        const v = await verify({
            baseUrl: base,
            requests: planRequests("/api/v1/health", [{ path: "/", status: 200 }]),
            windowSeconds: 0,
            maxErrorPercent: 1,
        });
        assert.strictEqual(v.ok, false);
        assert.strictEqual(v.reason, "post-deploy check failed: GET / answered 500, expected 200");
    });

    it("the CLI exits 1 with the reason, 0 when users are served, 2 on a usage mistake", async () => {
        const out: string[] = [];
        const io = {
            out: (s: string) => {
                out.push(s);
            },
            err: (s: string) => {
                out.push(s);
            },
        };
        pageStatus = 200;
        assert.strictEqual(
            await main(["--stack", "staging", "--work-dir", FIXTURES.sample, "--base-url", base, "--window", "1"], io),
            0,
            out.join(""),
        );
        assert.match(out.join(""), /post-deploy check passed: 1 smoke request\(s\), then \d+ requests with 0% errors/);
        out.length = 0;
        const json: string[] = [];
        assert.strictEqual(
            await main(
                ["--stack", "staging", "--work-dir", FIXTURES.sample, "--base-url", `${base}/nothing-here`, "--json"],
                {
                    out: (s) => {
                        json.push(s);
                    },
                    err: () => undefined,
                },
            ),
            2,
        );
        assert.strictEqual(JSON.parse(json.join("")).result, "error");
        assert.strictEqual(await main(["--stack", "no-such-stack"], io), 2);
        assert.match(out.join(""), /^error: unknown stack "no-such-stack"/m);
        assert.doesNotMatch(out.join(""), /\n\s+at /, "no stack trace");
    });
});

describe("deploy failures: one line that says why", () => {
    it("prefers the on-server script's reason over Pulumi's wrapper lines", () => {
        const text = [
            "error: update failed",
            "    error: exit status 1",
            "error: prod-web-1: shop-1a2b was not put into service: GET / answered 500, expected 200; the previous release keeps serving",
            "  See its logs: ssh deploy@prod-web-1 docker logs --tail 200 shop-1a2b",
        ].join("\n");
        assert.strictEqual(
            failureReason(text),
            "prod-web-1: shop-1a2b was not put into service: GET / answered 500, expected 200; the previous release keeps serving",
        );
        assert.strictEqual(failureReason("error: something else\nerror: more"), "something else");
        assert.strictEqual(failureReason("no lines"), "pulumi up failed");
    });
});
